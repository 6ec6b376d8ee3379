using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>While loops over TensorLists, shaped like Keras' RNN loops; expected values by hand.</summary>
public sealed class LoopOpsTests
{
    /// <summary>
    /// A running sum over the rows of x: for t in 0..n-1: acc += x[t]; out[t or 0] = acc.
    /// <paramref name="keepLast"/> writes slot 0 of a one-slot list each step (Keras' return_sequences=False).
    /// </summary>
    private static TestGraph RunningSum(string loopOp, bool keepLast)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 2]);
        g.ConstInt("element_shape", [2], 1);
        g.Node("TensorListFromTensor", "list_in", ["x", "element_shape"], ("element_dtype", Type(DataType.DtFloat)), ("shape_type", Type(DataType.DtInt32)));
        g.Node("Shape", "shape", ["x"]);
        g.ConstInt("b", [0], 1);
        g.ConstInt("e", [1], 1);
        g.ConstInt("s", [1], 1);
        g.Node("StridedSlice", "n", ["shape", "b", "e", "s"], ("shrink_axis_mask", I(1)));
        g.ConstInt("one_slot", [1]);
        g.Node("TensorListReserve", "list_out", ["element_shape", keepLast ? "one_slot" : "n"], ("element_dtype", Type(DataType.DtFloat)));
        g.Const("acc0", [0, 0], 2);
        g.ConstInt("i0", [0]);
        var loopTypes = Types(DataType.DtInt32, DataType.DtFloat, DataType.DtVariant, DataType.DtInt32, DataType.DtVariant);
        g.Node(loopOp, "while", ["i0", "acc0", "list_out", "n", "list_in"],
            ("T", loopTypes), ("body", Func("body")), ("cond", Func("cond")), ("parallel_iterations", I(10)));
        g.Node("TensorListStack", "stacked", ["while:2", "element_shape"], ("element_dtype", Type(DataType.DtFloat)));
        g.Output("stacked", "stacked");
        g.Output("acc", "while:1");

        (string, DataType)[] args = [("i", DataType.DtInt32), ("acc", DataType.DtFloat), ("out", DataType.DtVariant), ("count", DataType.DtInt32), ("rows", DataType.DtVariant)];
        (string, DataType)[] outs = [("i_next", DataType.DtInt32), ("acc_next", DataType.DtFloat), ("out_next", DataType.DtVariant), ("count_out", DataType.DtInt32), ("rows_out", DataType.DtVariant)];
        g.Function("body", args, outs,
            [
                MakeNode("Const", "shape", [], ("dtype", Type(DataType.DtInt32)), ("value", Tensor(DataType.DtInt32, [1], BitConverter.GetBytes(2)))),
                MakeNode("TensorListGetItem", "row", ["rows", "i", "shape:output:0"], ("element_dtype", Type(DataType.DtFloat))),
                MakeNode("AddV2", "sum", ["acc", "row:item:0"]),
                MakeNode("Const", "zero", [], ("dtype", Type(DataType.DtInt32)), ("value", Tensor(DataType.DtInt32, [], BitConverter.GetBytes(0)))),
                MakeNode("TensorListSetItem", "write", ["out", keepLast ? "zero:output:0" : "i", "sum:z:0"], ("element_dtype", Type(DataType.DtFloat))),
                MakeNode("Const", "one", [], ("dtype", Type(DataType.DtInt32)), ("value", Tensor(DataType.DtInt32, [], BitConverter.GetBytes(1)))),
                MakeNode("AddV2", "next", ["i", "one:output:0"]),
                MakeNode("Identity", "count_id", ["count"]),
            ],
            ("i_next", "next:z:0"), ("acc_next", "sum:z:0"), ("out_next", "write:output_handle:0"), ("count_out", "count_id:output:0"), ("rows_out", "rows"));
        g.Function("cond", args, [("more", DataType.DtBool)],
            [MakeNode("Less", "less", ["i", "count"])],
            ("more", "less:z:0"));
        return g;
    }

    [Theory]
    [InlineData("While")]
    [InlineData("StatelessWhile")]
    public void While_RunningSumOverRows_StacksEveryStep(string loopOp)
    {
        var conversion = RunningSum(loopOp, keepLast: false).Convert();
        var results = OnnxRun.Run<float>(conversion, OnnxRun.Input("x", new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2));

        // Rows [1,2], [3,4], [5,6]: running sums [1,2], [4,6], [9,12].
        Assert.Equal(new float[] { 1, 2, 4, 6, 9, 12 }, results["stacked"].Values);
        Assert.Equal(new long[] { 3, 2 }, results["stacked"].Shape);
        Assert.Equal(new float[] { 9, 12 }, results["acc"].Values);

        // The step count comes from the input at run time.
        var single = OnnxRun.Run<float>(conversion, OnnxRun.Input("x", new float[] { 7, 8 }, 1, 2));
        Assert.Equal(new float[] { 7, 8 }, single["stacked"].Values);
    }

    [Fact]
    public void While_OverwritingSlotZero_KeepsTheLastValueOnly()
    {
        var results = OnnxRun.Run<float>(RunningSum("StatelessWhile", keepLast: true).Convert(),
            OnnxRun.Input("x", new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2));

        Assert.Equal(new float[] { 9, 12 }, results["stacked"].Values);
        Assert.Equal(new long[] { 1, 2 }, results["stacked"].Shape);
    }

    [Fact]
    public void While_BodyWithUnsupportedOp_IsReportedBeforeConversion()
    {
        var g = RunningSum("While", keepLast: false);
        g.Graph.Library.Function.Single(f => f.Signature.Name == "body").NodeDef.Single(n => n.Name == "sum").Op = "MysteryAdd";

        var error = Assert.Throws<Grid.Serving.ServingException>(() => g.Convert());
        Assert.Equal("unsupported TensorFlow ops: MysteryAdd (node while/body/sum)", error.Message);
    }
}
