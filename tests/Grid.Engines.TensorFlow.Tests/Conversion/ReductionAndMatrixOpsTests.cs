using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>Reductions, arg-reductions, TopK, Cumsum and matrix products; expected values by hand.</summary>
public sealed class ReductionAndMatrixOpsTests
{
    private static readonly float[] Six = [1, 2, 3, 4, 5, 6]; // [[1,2,3],[4,5,6]]

    private static (float[] Values, long[] Shape) Reduce(string op, int[] axes, bool keepDims)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 3]);
        g.ConstInt("axes", axes, axes.Length);
        g.Node(op, "r", ["x", "axes"], ("keep_dims", B(keepDims)));
        g.Output("y", "r");
        return OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", Six, 2, 3));
    }

    [Theory]
    [InlineData("Sum", new float[] { 6, 15 })]
    [InlineData("Mean", new float[] { 2, 5 })]
    [InlineData("Max", new float[] { 3, 6 })]
    [InlineData("Min", new float[] { 1, 4 })]
    [InlineData("Prod", new float[] { 6, 120 })]
    public void Reduce_LastAxis_MatchesByHand(string op, float[] expected)
    {
        var (values, shape) = Reduce(op, [-1], keepDims: false);
        Assert.Equal(expected, values);
        Assert.Equal(new long[] { 2 }, shape);
        Assert.Equal(new long[] { 2, 1 }, Reduce(op, [1], keepDims: true).Shape);
    }

    [Fact]
    public void Sum_BothAxesAndNoAxes_ReducesAllOrNothing()
    {
        Assert.Equal(new float[] { 21 }, Reduce("Sum", [0, 1], keepDims: false).Values);
        var (values, shape) = Reduce("Sum", [], keepDims: false); // TensorFlow: an empty axis list reduces nothing
        Assert.Equal(Six, values);
        Assert.Equal(new long[] { 2, 3 }, shape);
    }

    [Fact]
    public void AllAndAny_RowWise_MatchByHand()
    {
        var g = new TestGraph();
        g.Input("c", DataType.DtBool, [2, 2]);
        g.ConstInt("axis", [1]);
        g.Node("All", "all", ["c", "axis"]);
        g.Node("Any", "any", ["c", "axis"]);
        g.Output("all", "all", DataType.DtBool);
        g.Output("any", "any", DataType.DtBool);
        var results = OnnxRun.Run<bool>(g.Convert(), OnnxRun.Input("c", new[] { true, false, true, true }, 2, 2));
        Assert.Equal(new[] { false, true }, results["all"].Values);
        Assert.Equal(new[] { true, true }, results["any"].Values);
    }

    [Fact]
    public void ArgMaxArgMin_TiesTakeFirstIndex()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2, 3]);
        g.ConstInt("axis", [1]);
        g.Node("ArgMax", "amax", ["x", "axis"]);
        g.Node("ArgMin", "amin", ["x", "axis"], ("output_type", Type(DataType.DtInt32)));
        g.Output("amax", "amax", DataType.DtInt64);
        var conversion = g.Convert();
        Assert.Equal(new long[] { 1, 0 }, OnnxRun.Single<long>(conversion, OnnxRun.Input("x", new float[] { 1, 3, 3, 9, 2, 9 }, 2, 3)).Values);

        g.Signature.Outputs.Clear();
        g.Output("amin", "amin", DataType.DtInt32);
        Assert.Equal(new[] { 0, 1 }, OnnxRun.Single<int>(g.Convert(), OnnxRun.Input("x", new float[] { 1, 3, 3, 9, 2, 9 }, 2, 3)).Values);
    }

    [Fact]
    public void TopKV2_K2_GivesSortedValuesAndInt32Indices()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 4]);
        g.ConstInt("k", [2]);
        g.Node("TopKV2", "top", ["x", "k"]);
        g.Output("values", "top:0");
        var conversion = g.Convert();
        Assert.Equal(new float[] { 9, 4 }, OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[] { 4, 1, 9, 3 }, 1, 4)).Values);

        g.Signature.Outputs.Clear();
        g.Output("indices", "top:1", DataType.DtInt32);
        Assert.Equal(new[] { 2, 0 }, OnnxRun.Single<int>(g.Convert(), OnnxRun.Input("x", new float[] { 4, 1, 9, 3 }, 1, 4)).Values);
    }

    [Fact]
    public void Cumsum_ExclusiveReverse_MatchesByHand()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [3]);
        g.ConstInt("axis", [0]);
        g.Node("Cumsum", "c", ["x", "axis"], ("exclusive", B(true)), ("reverse", B(true)));
        g.Output("y", "c");
        Assert.Equal(new float[] { 5, 3, 0 }, OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", new float[] { 1, 2, 3 }, 3)).Values);
    }

    [Theory]
    [InlineData(false, false, new float[] { 19, 22, 43, 50 })] // [[1,2],[3,4]]·[[5,6],[7,8]]
    [InlineData(true, false, new float[] { 26, 30, 38, 44 })] // aᵀ·b
    [InlineData(false, true, new float[] { 17, 23, 39, 53 })] // a·bᵀ
    public void MatMul_Transposes_MatchByHand(bool transposeA, bool transposeB, float[] expected)
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtFloat, [2, 2]);
        g.Const("b", [5, 6, 7, 8], 2, 2);
        g.Node("MatMul", "m", ["a", "b"], ("transpose_a", B(transposeA)), ("transpose_b", B(transposeB)));
        g.Output("y", "m");
        Assert.Equal(expected, OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("a", new float[] { 1, 2, 3, 4 }, 2, 2)).Values);
    }

    [Fact]
    public void BatchMatMulV2AndEinsum_BatchedProducts_MatchByHand()
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtFloat, [2, 1, 2]);
        g.Input("b", DataType.DtFloat, [2, 1, 2]);
        g.Node("BatchMatMulV2", "bmm", ["a", "b"], ("adj_y", B(true)));
        g.Node("Einsum", "ein", ["a", "b"], ("equation", S("bij,bkj->bik")), ("N", I(2)));
        g.Output("bmm", "bmm");
        g.Output("ein", "ein");
        var results = OnnxRun.Run<float>(g.Convert(),
            OnnxRun.Input("a", new float[] { 1, 2, 3, 4 }, 2, 1, 2), OnnxRun.Input("b", new float[] { 5, 6, 7, 8 }, 2, 1, 2));
        // Batch 0: [1,2]·[5,6] = 17; batch 1: [3,4]·[7,8] = 53.
        Assert.Equal(new float[] { 17, 53 }, results["bmm"].Values);
        Assert.Equal(new float[] { 17, 53 }, results["ein"].Values);
    }
}
