using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>
/// FusedBatchNorm and image resizing. Expected values: NumPy on TensorFlow's formulas
/// (batch norm: scale·(x − mean)/√(var + ε) + offset; resize: TensorFlow's scalers — legacy
/// in = out·in/out_size, half-pixel in = (out + 0.5)·scale − 0.5, align-corners scale (in−1)/(out−1);
/// nearest floors, or rounds with align_corners).
/// </summary>
public sealed class NormalizationAndImageOpsTests
{
    [Theory]
    [InlineData("FusedBatchNormV3")]
    [InlineData("FusedBatchNorm")]
    public void FusedBatchNorm_InferenceNhwc_MatchesNumPy(string op)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 1, 2, 2]);
        g.Const("scale", [2, 3], 2);
        g.Const("offset", [0.5f, -1], 2);
        g.Const("mean", [1, 2], 2);
        g.Const("variance", [4, 0.25f], 2);
        g.Node(op, "bn", ["x", "scale", "offset", "mean", "variance"], ("epsilon", F(0.001f)), ("is_training", B(false)));
        g.Output("y", "bn:0");
        var (values, _) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", new float[] { 1, 2, 3, 4 }, 1, 1, 2, 2));
        OnnxRun.AssertClose([0.5f, -1.0f, 2.49975014f, 10.97607136f], values, 1e-5f);
    }

    [Fact]
    public void FusedBatchNorm_Training_IsUnimplemented()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 1, 1, 1]);
        g.Const("p", [1], 1);
        g.Node("FusedBatchNormV3", "bn", ["x", "p", "p", "p", "p"]); // is_training defaults to true
        g.Output("y", "bn:0");
        var error = Assert.Throws<Grid.Serving.ServingException>(() => g.Convert());
        Assert.Equal(Grid.Serving.ServingStatusCode.Unimplemented, error.Code);
        Assert.Contains("is_training", error.Message);
    }

    private static float[] Resize(string op, bool alignCorners, bool halfPixel)
    {
        var g = new TestGraph();
        g.Input("img", DataType.DtFloat, [-1, 2, 2, 1]);
        g.ConstInt("size", [3, 4], 2);
        g.Node(op, "r", ["img", "size"], ("align_corners", B(alignCorners)), ("half_pixel_centers", B(halfPixel)));
        g.Output("y", "r");
        var (values, shape) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("img", new float[] { 1, 2, 3, 4 }, 1, 2, 2, 1));
        Assert.Equal(new long[] { 1, 3, 4, 1 }, shape);
        return values;
    }

    [Fact]
    public void ResizeBilinear_Legacy_MatchesTensorFlow()
        => OnnxRun.AssertClose([1, 1.5f, 2, 2, 2.3333333f, 2.8333333f, 3.3333333f, 3.3333333f, 3, 3.5f, 4, 4], Resize("ResizeBilinear", false, false));

    [Fact]
    public void ResizeBilinear_HalfPixelCenters_MatchesTensorFlow()
        => OnnxRun.AssertClose([1, 1.25f, 1.75f, 2, 2, 2.25f, 2.75f, 3, 3, 3.25f, 3.75f, 4], Resize("ResizeBilinear", false, true));

    [Fact]
    public void ResizeBilinear_AlignCorners_MatchesTensorFlow()
        => OnnxRun.AssertClose([1, 1.3333334f, 1.6666666f, 2, 2, 2.3333333f, 2.6666667f, 3, 3, 3.3333333f, 3.6666667f, 4], Resize("ResizeBilinear", true, false));

    [Theory]
    [InlineData(false, false, new float[] { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4 })]
    [InlineData(false, true, new float[] { 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 })]
    [InlineData(true, false, new float[] { 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 })]
    public void ResizeNearestNeighbor_EachSamplingGrid_MatchesTensorFlow(bool alignCorners, bool halfPixel, float[] expected)
        => Assert.Equal(expected, Resize("ResizeNearestNeighbor", alignCorners, halfPixel));
}
