using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>Shape, array and slice ops; expected values worked out by hand from TensorFlow's definitions.</summary>
public sealed class ShapeOpsTests
{
    private static readonly float[] Six = [1, 2, 3, 4, 5, 6];

    [Fact]
    public void Reshape_ConstantShapeWithInferredDim_KeepsDynamicBatch()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 2, 3]);
        g.ConstInt("shape", [-1, 6], 2);
        g.Node("Reshape", "r", ["x", "shape"]);
        g.Output("y", "r");
        var conversion = g.Convert();
        foreach (var batch in new[] { 1, 3 })
        {
            var (_, shape) = OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[batch * 6], batch, 2, 3));
            Assert.Equal(new long[] { batch, 6 }, shape);
        }
    }

    [Fact]
    public void Reshape_ShapeComputedFromShapeStridedSlicePack_FollowsRuntimeBatch()
    {
        // Keras Tensordot: Reshape(x, Pack(Shape(x)[0], -1)) with int32 shape arithmetic.
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 2, 3]);
        g.Node("Shape", "s", ["x"]);
        g.ConstInt("b", [0], 1);
        g.ConstInt("e", [1], 1);
        g.ConstInt("one", [1], 1);
        g.Node("StridedSlice", "batch", ["s", "b", "e", "one"], ("shrink_axis_mask", I(1)));
        g.ConstInt("minus1", [-1]);
        g.Node("Pack", "shape", ["batch", "minus1"]);
        g.Node("Reshape", "r", ["x", "shape"]);
        g.Output("y", "r");
        var conversion = g.Convert();

        var (values, shape) = OnnxRun.Run<float>(conversion, OnnxRun.Input("x", Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 2, 2, 3))["y"];
        Assert.Equal(new long[] { 2, 6 }, shape);
        Assert.Equal(11f, values[^1]);
    }

    [Fact]
    public void Shape_DynamicInput_GivesInt32RuntimeShape()
        => Assert.Equal(new[] { 3, 2 }, OpTest.Run<int>("Shape", [(Six, [3, 2])], DataType.DtInt32).Values);

    [Fact]
    public void ExpandDimsAndSqueeze_RoundTrip()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 3]);
        g.ConstInt("axis", [-1]);
        g.Node("ExpandDims", "e", ["x", "axis"]);
        g.Node("Squeeze", "s", ["e"], ("squeeze_dims", Ints(2)));
        g.Output("e", "e");
        g.Output("s", "s");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("x", Six, 2, 3));
        Assert.Equal(new long[] { 2, 3, 1 }, results["e"].Shape);
        Assert.Equal(new long[] { 2, 3 }, results["s"].Shape);
    }

    [Fact]
    public void Transpose_ConstantPerm_Permutes()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2, 3]);
        g.ConstInt("perm", [1, 0], 2);
        g.Node("Transpose", "t", ["x", "perm"]);
        g.Output("y", "t");
        var (values, shape) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", Six, 2, 3));
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, values);
        Assert.Equal(new long[] { 3, 2 }, shape);
    }

    [Fact]
    public void FillTileRange_ComputeByHandValues()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2]);
        g.ConstInt("dims", [2, 2], 2);
        g.Const("seven", [7f]);
        g.Node("Fill", "fill", ["dims", "seven"]);
        g.ConstInt("multiples", [3], 1);
        g.Node("Tile", "tile", ["x", "multiples"]);
        g.Const("start", [1f]);
        g.Const("limit", [2.5f]);
        g.Const("delta", [0.5f]);
        g.Node("Range", "range", ["start", "limit", "delta"]);
        g.Output("fill", "fill");
        g.Output("tile", "tile");
        g.Output("range", "range");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("x", new float[] { 1, 2 }, 2));
        Assert.Equal(new float[] { 7, 7, 7, 7 }, results["fill"].Values);
        Assert.Equal(new float[] { 1, 2, 1, 2, 1, 2 }, results["tile"].Values);
        Assert.Equal(new float[] { 1, 1.5f, 2 }, results["range"].Values);
    }

    [Fact]
    public void Where_OneInput_GivesInt64CoordinatesOfTrueElements()
    {
        var g = new TestGraph();
        g.Input("c", DataType.DtBool, [2, 2]);
        g.Node("Where", "w", ["c"]);
        g.Output("w", "w", DataType.DtInt64);
        var (values, shape) = OnnxRun.Single<long>(g.Convert(), OnnxRun.Input("c", new[] { true, false, false, true }, 2, 2));
        Assert.Equal(new long[] { 0, 0, 1, 1 }, values);
        Assert.Equal(new long[] { 2, 2 }, shape);
    }

    [Fact]
    public void PackUnpackConcat_ComputeByHandValues()
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtFloat, [2]);
        g.Input("b", DataType.DtFloat, [2]);
        g.Node("Pack", "pack1", ["a", "b"], ("axis", I(1)));
        g.Node("Unpack", "unpack", ["pack1"], ("num", I(2)), ("axis", I(0)));
        g.ConstInt("axis", [0]);
        g.Node("ConcatV2", "concat", ["a", "b", "axis"]);
        g.Output("pack", "pack1");
        g.Output("row1", "unpack:1");
        g.Output("concat", "concat");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("a", new float[] { 1, 2 }, 2), OnnxRun.Input("b", new float[] { 3, 4 }, 2));
        Assert.Equal(new float[] { 1, 3, 2, 4 }, results["pack"].Values);
        Assert.Equal(new float[] { 2, 4 }, results["row1"].Values);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, results["concat"].Values);
    }

    [Fact]
    public void SplitAndSplitV_SplitAlongAxis()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2, 3]);
        g.ConstInt("axis0", [0]);
        g.Node("Split", "split", ["axis0", "x"], ("num_split", I(2)));
        g.ConstInt("sizes", [1, -1], 2);
        g.ConstInt("axis1", [1]);
        g.Node("SplitV", "splitv", ["x", "sizes", "axis1"], ("num_split", I(2)));
        g.Output("s1", "split:1");
        g.Output("v1", "splitv:1");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("x", Six, 2, 3));
        Assert.Equal(new float[] { 4, 5, 6 }, results["s1"].Values);
        Assert.Equal(new float[] { 2, 3, 5, 6 }, results["v1"].Values);
    }

    [Fact]
    public void PadFamily_ConstantAndReflect_ComputeByHandValues()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [3]);
        g.ConstInt("pads", [1, 2], 1, 2);
        g.Const("nine", [9f]);
        g.Node("Pad", "pad", ["x", "pads"]);
        g.Node("PadV2", "padv2", ["x", "pads", "nine"]);
        g.Node("MirrorPad", "mirror", ["x", "pads"], ("mode", S("REFLECT")));
        g.Output("pad", "pad");
        g.Output("padv2", "padv2");
        g.Output("mirror", "mirror");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("x", new float[] { 1, 2, 3 }, 3));
        Assert.Equal(new float[] { 0, 1, 2, 3, 0, 0 }, results["pad"].Values);
        Assert.Equal(new float[] { 9, 1, 2, 3, 9, 9 }, results["padv2"].Values);
        Assert.Equal(new float[] { 2, 1, 2, 3, 2, 1 }, results["mirror"].Values);
    }

    [Fact]
    public void ReverseV2_Axis1_ReversesRows()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2, 3]);
        g.ConstInt("axis", [1], 1);
        g.Node("ReverseV2", "r", ["x", "axis"]);
        g.Output("y", "r");
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4 }, OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", Six, 2, 3)).Values);
    }

    [Fact]
    public void OneHot_NegativeAndOutOfRangeIndices_GiveAllOffRows()
    {
        var g = new TestGraph();
        g.Input("i", DataType.DtInt32, [4]);
        g.ConstInt("depth", [3]);
        g.Const("on", [5f]);
        g.Const("off", [-1f]);
        g.Node("OneHot", "h", ["i", "depth", "on", "off"]);
        g.Output("h", "h");
        var (values, shape) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("i", new[] { 0, 2, -1, 3 }, 4));
        Assert.Equal(new long[] { 4, 3 }, shape);
        Assert.Equal(new float[] { 5, -1, -1, -1, -1, 5, -1, -1, -1, -1, -1, -1 }, values);
    }

    [Fact]
    public void GatherFamily_AxisAndVariableAndNd_ComputeByHandValues()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2, 3]);
        g.Input("i", DataType.DtInt32, [2]);
        g.ConstInt("axis", [1]);
        g.Node("GatherV2", "g", ["x", "i", "axis"]);
        g.Node("VarHandleOp", "embeddings", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([3, 2])));
        g.Node("ResourceGather", "emb", ["embeddings", "i"], ("dtype", Type(DataType.DtFloat)));
        g.ConstInt("nd", [1, 2, 0, 0], 2, 2);
        g.Node("GatherNd", "nd_out", ["x", "nd"]);
        g.Output("g", "g");
        g.Output("emb", "emb");
        g.Output("nd", "nd_out");
        var variables = new TestVariables().Add("embeddings", [10, 11, 20, 21, 30, 31], 3, 2);
        var results = OnnxRun.Run<float>(g.Convert(variables), OnnxRun.Input("x", Six, 2, 3), OnnxRun.Input("i", new[] { 2, 0 }, 2));
        Assert.Equal(new float[] { 3, 1, 6, 4 }, results["g"].Values);
        Assert.Equal(new float[] { 30, 31, 10, 11 }, results["emb"].Values);
        Assert.Equal(new float[] { 6, 1 }, results["nd"].Values);
    }

    [Fact]
    public void Slice_SizeMinusOne_RunsToTheEnd()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 3]);
        g.ConstInt("begin", [0, 1], 2);
        g.ConstInt("size", [-1, 2], 2);
        g.Node("Slice", "s", ["x", "begin", "size"]);
        g.Output("y", "s");
        var (values, shape) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", Six, 2, 3));
        Assert.Equal(new float[] { 2, 3, 5, 6 }, values);
        Assert.Equal(new long[] { 2, 2 }, shape);
    }

    /// <summary>StridedSlice of a [2,3,4] tensor holding 0..23.</summary>
    private static (float[] Values, long[] Shape) StridedSlice(int[] begin, int[] end, int[] strides, params (string, AttrValue)[] masks)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 3, 4]);
        g.ConstInt("b", begin, begin.Length);
        g.ConstInt("e", end, end.Length);
        g.ConstInt("s", strides, strides.Length);
        g.Node("StridedSlice", "ss", ["x", "b", "e", "s"], masks);
        g.Output("y", "ss");
        return OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4));
    }

    [Fact]
    public void StridedSlice_BeginAndEndMasks_OpenTheBounds()
    {
        // x[:, 1:, :2] → rows 1..2 of each block, first two columns.
        var (values, shape) = StridedSlice([0, 1, 0], [0, 0, 2], [1, 1, 1], ("begin_mask", I(0b101)), ("end_mask", I(0b011)));
        Assert.Equal(new long[] { 2, 2, 2 }, shape);
        Assert.Equal(new float[] { 4, 5, 8, 9, 16, 17, 20, 21 }, values);
    }

    [Fact]
    public void StridedSlice_ShrinkLastElement_DropsTheAxis()
    {
        // x[:, -1] → [2,4]: rows 8..11 and 20..23.
        var (values, shape) = StridedSlice([0, -1], [0, 0], [1, 1], ("begin_mask", I(1)), ("end_mask", I(1)), ("shrink_axis_mask", I(2)));
        Assert.Equal(new long[] { 2, 4 }, shape);
        Assert.Equal(new float[] { 8, 9, 10, 11, 20, 21, 22, 23 }, values);
    }

    [Fact]
    public void StridedSlice_EllipsisNewAxisAndNegativeStride_MatchNumPyIndexing()
    {
        // x[..., tf.newaxis, ::-2] → shape [2,3,1,2]; each row reversed with step 2: [3,1], [7,5], …
        var (values, shape) = StridedSlice([0, 0, 0], [0, 0, 0], [1, 1, -2],
            ("ellipsis_mask", I(1)), ("new_axis_mask", I(2)), ("begin_mask", I(4)), ("end_mask", I(4)));
        Assert.Equal(new long[] { 2, 3, 1, 2 }, shape);
        Assert.Equal(new float[] { 3, 1, 7, 5, 11, 9, 15, 13, 19, 17, 23, 21 }, values);
    }

    [Fact]
    public void StridedSlice_Stride2_TakesEveryOtherElement()
    {
        // x[1, :, 1::2] with shrink on axis 0 → [3,2]: 13,15,17,19,21,23.
        var (values, shape) = StridedSlice([1, 0, 1], [2, 0, 4], [1, 1, 2], ("shrink_axis_mask", I(1)), ("begin_mask", I(2)), ("end_mask", I(2)));
        Assert.Equal(new long[] { 3, 2 }, shape);
        Assert.Equal(new float[] { 13, 15, 17, 19, 21, 23 }, values);
    }

    [Fact]
    public void Conv1D_AsTensorFlowLowersIt_ExpandDimsConv2DSqueeze()
    {
        // Conv1D(x=[1,2,3,4] (NWC, one channel), kernel [1,10], VALID) = [1+20, 2+30, 3+40].
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 4, 1]);
        g.ConstInt("axis1", [1]);
        g.ConstInt("axis0", [0]);
        g.Const("k", [1, 10], 2, 1, 1);
        g.Node("ExpandDims", "x4", ["x", "axis1"]);
        g.Node("ExpandDims", "k4", ["k", "axis0"]);
        g.Node("Conv2D", "conv", ["x4", "k4"], ("strides", Ints(1, 1, 1, 1)), ("padding", S("VALID")));
        g.Node("Squeeze", "y", ["conv"], ("squeeze_dims", Ints(1)));
        g.Output("y", "y");
        var (values, shape) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", new float[] { 1, 2, 3, 4 }, 1, 4, 1));
        Assert.Equal(new float[] { 21, 32, 43 }, values);
        Assert.Equal(new long[] { 1, 3, 1 }, shape);
    }
}
