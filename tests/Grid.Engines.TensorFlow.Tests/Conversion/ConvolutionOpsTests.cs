using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>
/// NHWC convolutions and pools. Inputs follow two formulas (x[i] = (i mod 11 − 5)/4, w[i] =
/// (i mod 7 − 3)/8, row-major); expected values were computed with NumPy by direct loops over
/// TensorFlow's definitions (SAME: out = ⌈in/stride⌉, pad_total = max((out−1)·stride + k − in, 0),
/// ⌊pad_total/2⌋ before; pools ignore padded cells), independent of ONNX.
/// </summary>
public sealed class ConvolutionOpsTests
{
    internal static float[] X(int count) => Enumerable.Range(0, count).Select(i => (i % 11 - 5) / 4f).ToArray();

    internal static float[] W(int count) => Enumerable.Range(0, count).Select(i => (i % 7 - 3) / 8f).ToArray();

    private static float[] Conv(string op, int size, long[] filterShape, string padding, int stride, bool filterAsInput = false)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, size, size, 2]);
        var filterCount = (int)filterShape.Aggregate(1L, (a, b) => a * b);
        if (filterAsInput)
        {
            g.Input("w", DataType.DtFloat, filterShape);
        }
        else
        {
            g.Const("w", W(filterCount), filterShape);
        }

        g.Node(op, "conv", ["x", "w"], ("strides", Ints(1, stride, stride, 1)), ("padding", S(padding)));
        g.Output("y", "conv");
        var inputs = new List<Microsoft.ML.OnnxRuntime.NamedOnnxValue> { OnnxRun.Input("x", X(size * size * 2), 1, size, size, 2) };
        if (filterAsInput)
        {
            inputs.Add(OnnxRun.Input("w", W(filterCount), filterShape.Select(d => (int)d).ToArray()));
        }

        return OnnxRun.Single<float>(g.Convert(), [.. inputs]).Values;
    }

    [Fact]
    public void Conv2D_SameStride1_MatchesTensorFlow()
        => OnnxRun.AssertClose(
            [-0.84375f, 0.6875f, -0.46875f, -0.0625f, 0.0f, -0.40625f, 0.0f, -0.25f, 0.78125f, -0.125f, 0.0625f, 0.28125f, 0.0625f, 1.125f, 1.28125f, 0.59375f,
             0.5f, -0.59375f, -0.28125f, -0.125f, -0.625f, 0.375f, -0.15625f, 0.0625f, -0.09375f, -0.09375f, 0.0625f, -0.4375f, 0.625f, -0.6875f, -1.15625f, 0.03125f],
            Conv("Conv2D", 4, [3, 3, 2, 2], "SAME", 1));

    [Fact]
    public void Conv2D_ValidStride1_MatchesTensorFlow()
        => OnnxRun.AssertClose([0.0625f, 0.28125f, 0.0625f, 1.125f, -0.28125f, -0.125f, -0.625f, 0.375f], Conv("Conv2D", 4, [3, 3, 2, 2], "VALID", 1));

    [Fact]
    public void Conv2D_SameStride2EvenInput_MatchesTensorFlow()
        => OnnxRun.AssertClose([0.0625f, 0.28125f, 1.28125f, 0.59375f, 0.0625f, -0.4375f, -1.15625f, 0.03125f], Conv("Conv2D", 4, [3, 3, 2, 2], "SAME", 2));

    [Fact]
    public void Conv2D_SameStride2OddInput_MatchesTensorFlow()
        => OnnxRun.AssertClose(
            [-0.84375f, -0.1875f, 0.125f, -0.6875f, -0.3125f, 0.1875f, -0.96875f, 2.3125f, 0.3125f, -0.09375f, 0.1875f, -0.28125f, 0.25f, -0.84375f, -0.9375f, -0.09375f, 0.34375f, -0.125f],
            Conv("Conv2D", 5, [3, 3, 2, 2], "SAME", 2));

    [Fact]
    public void Conv2D_ValidStride2_MatchesTensorFlow()
        => OnnxRun.AssertClose([1.6875f, 2.0625f, 0.3125f, -0.71875f, -2.4375f, 0.1875f, 0.3125f, -0.53125f], Conv("Conv2D", 5, [3, 3, 2, 2], "VALID", 2));

    [Fact]
    public void Conv2D_ComputedFilter_TransposesInTheGraph()
        => OnnxRun.AssertClose([1.6875f, 2.0625f, 0.3125f, -0.71875f, -2.4375f, 0.1875f, 0.3125f, -0.53125f], Conv("Conv2D", 5, [3, 3, 2, 2], "VALID", 2, filterAsInput: true));

    [Fact]
    public void DepthwiseConv2dNative_SameStride1_MatchesTensorFlow()
        => OnnxRun.AssertClose(
            [-0.25f, 0.40625f, -0.59375f, 0.28125f, -0.90625f, -0.84375f, 0.4375f, 0.78125f, 0.25f, -0.09375f, -0.25f, -0.3125f, 0.09375f, -0.09375f, -0.09375f, -0.15625f,
             0.46875f, -0.5625f, 0.3125f, 0.4375f, 0.03125f, 0.9375f, 0.03125f, -0.65625f, -0.09375f, 0.25f, 0.15625f, 0.875f, 0.40625f, 0.1875f, 0.875f, 0.40625f,
             0.21875f, -0.03125f, 0.28125f, -0.5625f, 0.5625f, -0.09375f, -0.84375f, -0.03125f, -0.9375f, 0.25f, 0.3125f, 0.125f, 0.4375f, 0.34375f, -0.59375f, -0.28125f,
             -0.125f, 0.03125f, 0.03125f, -0.125f, -0.25f, -0.375f, 0.3125f, -0.0625f, 0.4375f, -0.09375f, 0.1875f, -0.59375f, -0.5625f, -0.46875f, -0.59375f, 0.5f],
            Conv("DepthwiseConv2dNative", 4, [3, 3, 2, 2], "SAME", 1));

    [Fact]
    public void DepthwiseConv2dNative_ValidStride2_MatchesTensorFlow()
        => OnnxRun.AssertClose(
            [1.0625f, 1.0625f, 0.625f, 1.0f, 0.125f, -0.3125f, 0.1875f, -0.40625f, -1.21875f, -0.3125f, -1.21875f, 0.5f, 0.25f, -0.3125f, 0.0625f, -0.21875f],
            Conv("DepthwiseConv2dNative", 5, [3, 3, 2, 2], "VALID", 2));

    private static float[] Pool(string op, int size, int k, int stride, string padding)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, size, size, 2]);
        g.Node(op, "pool", ["x"], ("ksize", Ints(1, k, k, 1)), ("strides", Ints(1, stride, stride, 1)), ("padding", S(padding)));
        g.Output("y", "pool");
        return OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", X(size * size * 2), 1, size, size, 2)).Values;
    }

    [Fact]
    public void MaxPool_2x2ValidStride2_MatchesTensorFlow()
        => OnnxRun.AssertClose([1.25f, 1.0f, 0.25f, 0.5f, 0.5f, 0.75f, 1.0f, 1.25f], Pool("MaxPool", 4, 2, 2, "VALID"));

    [Fact]
    public void MaxPool_3x3SameStride2_MatchesTensorFlow()
        => OnnxRun.AssertClose(
            [1.25f, -0.5f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.25f, 1.25f, 0.25f, 0.5f, 0.75f, 1.25f, 1.25f, 1.25f, 1.25f, 0.0f, 0.25f],
            Pool("MaxPool", 5, 3, 2, "SAME"));

    [Fact]
    public void AvgPool_3x3SameStride2_ExcludesPaddingLikeTensorFlow()
        => OnnxRun.AssertClose(
            [-0.4375f, -0.875f, -0.375f, -0.125f, 0.375f, 0.625f, 0.3333333f, -0.3333333f, -0.4444444f, -0.5f, 0.0f, 0.25f, 0.875f, 0.4375f, -0.2083333f, -0.4166667f, -0.375f, -0.125f],
            Pool("AvgPool", 5, 3, 2, "SAME"));

    private static (float[] Values, long[] Shape) BackpropInput(string padding, int gradientSize, bool computedSizes)
    {
        var g = new TestGraph();
        g.Input("dy", DataType.DtFloat, [-1, gradientSize, gradientSize, 2]);
        g.Const("w", W(36), 3, 3, 2, 2);
        if (computedSizes)
        {
            // Keras builds input_sizes from tf.shape: Pack(batch from Shape(dy), 5, 5, 2).
            g.Node("Shape", "dy_shape", ["dy"]);
            g.ConstInt("begin", [0], 1);
            g.ConstInt("end", [1], 1);
            g.ConstInt("one", [1], 1);
            g.Node("StridedSlice", "batch", ["dy_shape", "begin", "end", "one"], ("shrink_axis_mask", I(1)), ("Index", Type(DataType.DtInt32)));
            g.ConstInt("h", [5]);
            g.ConstInt("c", [2]);
            g.Node("Pack", "sizes", ["batch", "h", "h", "c"], ("N", I(4)));
        }
        else
        {
            g.ConstInt("sizes", [1, 5, 5, 2], 4);
        }

        g.Node("Conv2DBackpropInput", "deconv", ["sizes", "w", "dy"], ("strides", Ints(1, 2, 2, 1)), ("padding", S(padding)));
        g.Output("y", "deconv");
        return OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("dy", X(gradientSize * gradientSize * 2), 1, gradientSize, gradientSize, 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Conv2DBackpropInput_SameStride2_MatchesTensorFlowGradient(bool computedSizes)
    {
        var (values, shape) = BackpropInput("SAME", 3, computedSizes);
        Assert.Equal(new long[] { 1, 5, 5, 2 }, shape);
        OnnxRun.AssertClose(
            [0.15625f, -0.40625f, -0.46875f, 0.84375f, 0.09375f, -0.21875f, -0.15625f, 0.34375f, 0.03125f, -0.03125f, 0.875f, 0.0625f, -1.125f, -0.5f, 0.75f, 0.0f,
             -0.6875f, -0.1875f, -0.0625f, 0.96875f, -0.03125f, 0.15625f, 0.46875f, -0.65625f, -0.09375f, 0.34375f, -0.25f, -0.46875f, -0.15625f, -0.15625f, -0.53125f,
             -0.125f, 0.875f, 0.4375f, -0.65625f, -0.1875f, 0.28125f, -0.28125f, -0.09375f, -0.25f, 0.125f, -0.3125f, -0.3125f, 0.59375f, 0.0625f, -0.125f, 0.0f, 0.09375f, 0.0f, 0.0625f],
            values);
    }

    [Fact]
    public void Conv2DBackpropInput_ValidStride2_ZeroFillsPastTheFullResult()
        => OnnxRun.AssertClose(
            [0.71875f, 0.15625f, -0.40625f, -0.09375f, 0.84375f, -0.03125f, -0.21875f, -0.09375f, 0.25f, -0.0625f, -0.6875f, 0.71875f, 0.15625f, -0.40625f, -0.46875f, 0.84375f,
             0.09375f, -0.21875f, -0.09375f, 0.25f, -0.03125f, -0.65625f, 0.6875f, 0.0625f, -0.625f, -0.5f, 0.5625f, 0.0f, -0.34375f, -0.03125f, -0.0625f, 0.09375f, 0.03125f,
             -0.03125f, 0.15625f, -0.15625f, -0.03125f, 0.15625f, -0.09375f, -0.125f, 0.0f, -0.0625f, 0.09375f, 0.03125f, 0.03125f, 0.15625f, -0.21875f, -0.03125f, 0.15625f, -0.09375f],
            BackpropInput("VALID", 2, computedSizes: false).Values);

    [Fact]
    public void Conv3DAndPool3D_Ndhwc_ComputeByHandValues()
    {
        // x = 1..8 in a 2×2×2 volume, one channel. Kernel output 0 sums the volume (36); output 1 picks voxel (0,0,0) (1).
        var kernel = Enumerable.Range(0, 8).SelectMany(i => new float[] { 1, i == 0 ? 1 : 0 }).ToArray();
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 2, 2, 2, 1]);
        g.Const("k", kernel, 2, 2, 2, 1, 2);
        g.Node("Conv3D", "conv", ["x", "k"], ("strides", Ints(1, 1, 1, 1, 1)), ("padding", S("VALID")));
        g.Node("MaxPool3D", "max", ["x"], ("ksize", Ints(1, 2, 2, 2, 1)), ("strides", Ints(1, 2, 2, 2, 1)), ("padding", S("VALID")));
        g.Node("AvgPool3D", "avg", ["x"], ("ksize", Ints(1, 2, 2, 2, 1)), ("strides", Ints(1, 2, 2, 2, 1)), ("padding", S("VALID")));
        g.Output("conv", "conv");
        g.Output("max", "max");
        g.Output("avg", "avg");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("x", Enumerable.Range(1, 8).Select(i => (float)i).ToArray(), 1, 2, 2, 2, 1));

        Assert.Equal(new float[] { 36, 1 }, results["conv"].Values);
        Assert.Equal(new long[] { 1, 1, 1, 1, 2 }, results["conv"].Shape);
        Assert.Equal(new float[] { 8 }, results["max"].Values);
        Assert.Equal(new float[] { 4.5f }, results["avg"].Values);
    }
}
