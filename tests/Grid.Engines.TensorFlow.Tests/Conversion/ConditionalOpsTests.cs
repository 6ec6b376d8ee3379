using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>TF2 If/StatelessIf: then = x·k (k a constant argument), else = −x; expected values by hand.</summary>
public sealed class ConditionalOpsTests
{
    private static TestGraph Conditional(string op, bool? constantCondition)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1]);
        if (constantCondition is { } value)
        {
            g.Node("Const", "p", [], ("dtype", Type(DataType.DtBool)), ("value", Tensor(DataType.DtBool, [], [value ? (byte)1 : (byte)0])));
        }
        else
        {
            g.Input("p", DataType.DtBool, []);
        }

        g.Const("k", [3f]);
        g.Node(op, "cond", ["p", "x", "k"], ("then_branch", Func("then")), ("else_branch", Func("else")),
            ("Tcond", Type(DataType.DtBool)), ("Tin", Types(DataType.DtFloat, DataType.DtFloat)), ("Tout", Types(DataType.DtFloat)));
        g.Output("y", "cond:0");
        g.Function("then", [("a", DataType.DtFloat), ("b", DataType.DtFloat)], [("out", DataType.DtFloat)],
            [MakeNode("Mul", "m", ["a", "b"])], ("out", "m:z:0"));
        g.Function("else", [("a", DataType.DtFloat), ("b", DataType.DtFloat)], [("out", DataType.DtFloat)],
            [MakeNode("Neg", "n", ["a"])], ("out", "n:y:0"));
        return g;
    }

    [Theory]
    [InlineData("If", true, new float[] { 3, -6 })]
    [InlineData("StatelessIf", false, new float[] { -1, 2 })]
    public void If_RuntimeCondition_RunsTheChosenBranch(string op, bool condition, float[] expected)
    {
        var conversion = Conditional(op, null).Convert();
        var (values, _) = OnnxRun.Single<float>(conversion,
            OnnxRun.Input("x", new float[] { 1, -2 }, 2), OnnxRun.Input("p", new[] { condition }, []));
        Assert.Equal(expected, values);
    }

    [Fact]
    public void If_ConstantCondition_InlinesTheBranch()
    {
        var conversion = Conditional("StatelessIf", constantCondition: false).Convert();
        var model = Onnx.ModelProto.Parser.ParseFrom(conversion.Model);

        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "If");
        Assert.Equal(new float[] { -1, 2 }, OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[] { 1, -2 }, 2)).Values);
    }

    [Fact]
    public void If_BranchWithUnsupportedOp_IsReportedBeforeConversion()
    {
        var g = Conditional("If", null);
        g.Graph.Library.Function.Single(f => f.Signature.Name == "else").NodeDef[0].Op = "MysteryNeg";

        var error = Assert.Throws<Grid.Serving.ServingException>(() => g.Convert());
        Assert.Equal("unsupported TensorFlow ops: MysteryNeg (node cond/else_branch/n)", error.Message);
    }

    /// <summary>TF1 tf.cond on Keras' learning phase: training → x·100, inference → −x.</summary>
    private static TestGraph LearningPhaseCond(bool feedPhase)
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1]);
        g.Node("Const", "phase_default", [], ("dtype", Type(DataType.DtBool)), ("value", Tensor(DataType.DtBool, [], [0])));
        g.Node("PlaceholderWithDefault", "keras_learning_phase", ["phase_default"], ("dtype", Type(DataType.DtBool)), ("shape", Shape([])));
        if (feedPhase)
        {
            g.Signature.Inputs["phase"] = Info("keras_learning_phase:0", DataType.DtBool, []);
        }

        g.Node("Identity", "cond/pred_id", ["keras_learning_phase"]);
        g.Node("Switch", "cond/Switch", ["x", "cond/pred_id"]);
        g.Node("Const", "cond/hundred", ["^cond/Switch"], ("dtype", Type(DataType.DtFloat)), ("value", Tensor(DataType.DtFloat, [], BitConverter.GetBytes(100f))));
        g.Node("Mul", "cond/training", ["cond/Switch:1", "cond/hundred"]);
        g.Node("Neg", "cond/inference", ["cond/Switch:0"]);
        g.Node("Merge", "cond/Merge", ["cond/training", "cond/inference"]);
        g.Output("y", "cond/Merge:0");
        return g;
    }

    [Fact]
    public void SwitchMerge_LearningPhaseDefault_TakesTheInferenceBranch()
        => Assert.Equal(new float[] { -1, 2 }, OnnxRun.Single<float>(LearningPhaseCond(feedPhase: false).Convert(), OnnxRun.Input("x", new float[] { 1, -2 }, 2)).Values);

    [Fact]
    public void SwitchMerge_RuntimePredicate_IsUnimplemented()
    {
        var error = Assert.Throws<Grid.Serving.ServingException>(() => LearningPhaseCond(feedPhase: true).Convert());
        Assert.Equal(Grid.Serving.ServingStatusCode.Unimplemented, error.Code);
        Assert.Contains("Switch on a predicate computed at run time", error.Message);
    }
}
