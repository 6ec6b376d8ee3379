using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>
/// Element-wise and activation ops. Expected values are by hand where exact, otherwise from
/// Python's math module / NumPy applied to TensorFlow's definitions (noted per test).
/// </summary>
public sealed class ElementwiseOpsTests
{
    private static readonly float[] A = [1, -2, 3, 4];
    private static readonly float[] B = [2, 2, -1, 0.5f];

    [Theory]
    [InlineData("Add", new float[] { 3, 0, 2, 4.5f })]
    [InlineData("AddV2", new float[] { 3, 0, 2, 4.5f })]
    [InlineData("Sub", new float[] { -1, -4, 4, 3.5f })]
    [InlineData("Mul", new float[] { 2, -4, -3, 2 })]
    [InlineData("RealDiv", new float[] { 0.5f, -1, -3, 8 })]
    [InlineData("Maximum", new float[] { 2, 2, 3, 4 })]
    [InlineData("Minimum", new float[] { 1, -2, -1, 0.5f })]
    [InlineData("Pow", new float[] { 1, 4, 1 / 3f, 2 })]
    [InlineData("SquaredDifference", new float[] { 1, 16, 16, 12.25f })]
    [InlineData("FloorDiv", new float[] { 0, -1, -3, 8 })]
    [InlineData("FloorMod", new float[] { 1, 0, 0, 0 })]
    public void Binary_TwoVectors_ComputesByHandValues(string op, float[] expected)
        => OnnxRun.AssertClose(expected, OpTest.Floats(op, A, B));

    [Fact]
    public void FloorDivAndFloorMod_NegativeFloats_RoundTowardNegativeInfinity()
    {
        // floor(7.5/2) = 3, floor(-7.5/2) = -4; 7.5 - 3·2 = 1.5, -7.5 - (-4)·2 = 0.5; 7.5 mod -2 = 7.5 - (-4)(-2) = -0.5.
        OnnxRun.AssertClose([3, -4, -4], OpTest.Floats("FloorDiv", [7.5f, -7.5f, 7.5f], [2, 2, -2]));
        OnnxRun.AssertClose([1.5f, 0.5f, -0.5f], OpTest.Floats("FloorMod", [7.5f, -7.5f, 7.5f], [2, 2, -2]));
    }

    [Fact]
    public void FloorDivAndFloorMod_NegativeIntegers_FollowPythonSemantics()
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtInt32, [4]);
        g.Input("b", DataType.DtInt32, [4]);
        g.Node("FloorDiv", "q", ["a", "b"]);
        g.Node("FloorMod", "r", ["a", "b"]);
        g.Output("q", "q", DataType.DtInt32);
        g.Output("r", "r", DataType.DtInt32);
        var results = OnnxRun.Run<int>(g.Convert(), OnnxRun.Input("a", new[] { 7, -7, 7, -7 }, 4), OnnxRun.Input("b", new[] { 2, 2, -2, -2 }, 4));

        // Python: 7//2=3, -7//2=-4, 7//-2=-4, -7//-2=3; 7%2=1, -7%2=1, 7%-2=-1, -7%-2=-1.
        Assert.Equal(new[] { 3, -4, -4, 3 }, results["q"].Values);
        Assert.Equal(new[] { 1, 1, -1, -1 }, results["r"].Values);
    }

    [Fact]
    public void Add_RowAndMatrix_Broadcasts()
    {
        var (values, shape) = OpTest.Run<float>("AddV2", [([1, 2, 3, 4, 5, 6], [2, 3]), ([10, 20, 30], [3])], DataType.DtFloat);
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, values);
        Assert.Equal(new long[] { 2, 3 }, shape);
    }

    [Theory]
    [InlineData("Equal", new[] { false, true, false })]
    [InlineData("NotEqual", new[] { true, false, true })]
    [InlineData("Less", new[] { true, false, false })]
    [InlineData("LessEqual", new[] { true, true, false })]
    [InlineData("Greater", new[] { false, false, true })]
    [InlineData("GreaterEqual", new[] { false, true, true })]
    public void Comparison_AgainstTwo_GivesBools(string op, bool[] expected)
        => Assert.Equal(expected, OpTest.Run<bool>(op, [([1, 2, 3], [3]), ([2, 2, 2], [3])], DataType.DtBool).Values);

    [Fact]
    public void LogicalOps_TruthTable_MatchByHand()
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtBool, [4]);
        g.Input("b", DataType.DtBool, [4]);
        g.Node("LogicalAnd", "and", ["a", "b"]);
        g.Node("LogicalOr", "or", ["a", "b"]);
        g.Node("LogicalNot", "not", ["a"]);
        g.Output("and", "and", DataType.DtBool);
        g.Output("or", "or", DataType.DtBool);
        g.Output("not", "not", DataType.DtBool);
        var results = OnnxRun.Run<bool>(g.Convert(),
            OnnxRun.Input("a", new[] { false, false, true, true }, 4), OnnxRun.Input("b", new[] { false, true, false, true }, 4));

        Assert.Equal(new[] { false, false, false, true }, results["and"].Values);
        Assert.Equal(new[] { false, true, true, true }, results["or"].Values);
        Assert.Equal(new[] { true, true, false, false }, results["not"].Values);
    }

    private static readonly float[] X = [-2.5f, -0.5f, 0.5f, 1.5f, 2.5f];

    // Expected: Python math/NumPy on TensorFlow's definitions (Selu's scale/alpha are TF's constants).
    [Theory]
    [InlineData("Neg", new float[] { 2.5f, 0.5f, -0.5f, -1.5f, -2.5f })]
    [InlineData("Abs", new float[] { 2.5f, 0.5f, 0.5f, 1.5f, 2.5f })]
    [InlineData("Floor", new float[] { -3, -1, 0, 1, 2 })]
    [InlineData("Ceil", new float[] { -2, 0, 1, 2, 3 })]
    [InlineData("Round", new float[] { -2, 0, 0, 2, 2 })]
    [InlineData("Sign", new float[] { -1, -1, 1, 1, 1 })]
    [InlineData("Square", new float[] { 6.25f, 0.25f, 0.25f, 2.25f, 6.25f })]
    [InlineData("Relu", new float[] { 0, 0, 0.5f, 1.5f, 2.5f })]
    [InlineData("Erf", new float[] { -0.99959302f, -0.52049988f, 0.52049988f, 0.96610516f, 0.99959302f })]
    [InlineData("Sigmoid", new float[] { 0.07585818f, 0.37754068f, 0.62245935f, 0.81757450f, 0.92414182f })]
    [InlineData("Tanh", new float[] { -0.98661429f, -0.46211717f, 0.46211717f, 0.90514827f, 0.98661429f })]
    [InlineData("Elu", new float[] { -0.91791499f, -0.39346933f, 0.5f, 1.5f, 2.5f })]
    [InlineData("Selu", new float[] { -1.61378574f, -0.69175822f, 0.52535051f, 1.57605147f, 2.62675238f })]
    [InlineData("Softplus", new float[] { 0.07888974f, 0.47407699f, 0.97407699f, 1.70141327f, 2.57888985f })]
    [InlineData("Softsign", new float[] { -0.71428573f, -0.33333334f, 0.33333334f, 0.6f, 0.71428573f })]
    public void Unary_FiveValues_MatchesReference(string op, float[] expected)
        => OnnxRun.AssertClose(expected, OpTest.Floats(op, X), 1e-5f);

    [Fact]
    public void LeakyRelu_Alpha_ScalesNegatives()
    {
        OnnxRun.AssertClose([-0.25f, -0.05f, 0.5f, 1.5f, 2.5f], OpTest.Floats("LeakyRelu", X, ("alpha", F(0.1f))));
        OnnxRun.AssertClose([-0.5f, -0.1f, 0.5f, 1.5f, 2.5f], OpTest.Floats("LeakyRelu", X)); // default alpha 0.2
    }

    [Fact]
    public void Relu6_ClipsToZeroAndSix() => OnnxRun.AssertClose([0, 3, 6], OpTest.Floats("Relu6", [-1, 3, 7.5f]));

    [Theory]
    [InlineData("Exp", new float[] { 1.28402543f, 2.71828175f, 54.59814835f })]
    [InlineData("Log", new float[] { -1.38629436f, 0, 1.38629436f })]
    [InlineData("Sqrt", new float[] { 0.5f, 1, 2 })]
    [InlineData("Rsqrt", new float[] { 2, 1, 0.5f })]
    [InlineData("Reciprocal", new float[] { 4, 1, 0.25f })]
    [InlineData("Log1p", new float[] { 0.22314355f, 0.69314718f, 1.60943791f })]
    public void Unary_PositiveValues_MatchesReference(string op, float[] expected)
        => OnnxRun.AssertClose(expected, OpTest.Floats(op, [0.25f, 1, 4]), 1e-4f);

    [Fact]
    public void SoftmaxAndLogSoftmax_LastAxis_MatchNumPy()
    {
        var input = ((float[])[1, 2, 3, 1, 1, 1], new[] { 2, 3 });
        OnnxRun.AssertClose([0.09003057f, 0.24472848f, 0.66524094f, 1 / 3f, 1 / 3f, 1 / 3f],
            OpTest.Run<float>("Softmax", [input], DataType.DtFloat).Values);
        OnnxRun.AssertClose([-2.40760589f, -1.40760601f, -0.40760598f, -1.09861231f, -1.09861231f, -1.09861231f],
            OpTest.Run<float>("LogSoftmax", [input], DataType.DtFloat).Values);
    }

    [Fact]
    public void Cast_FloatToInt32_TruncatesTowardZero()
        => Assert.Equal(new[] { 1, -1, 0 }, OpTest.Run<int>("Cast", [([1.7f, -1.7f, 0.2f], [3])], DataType.DtInt32, ("DstT", Type(DataType.DtInt32))).Values);

    [Fact]
    public void BiasAdd_Nhwc_AddsAlongLastAxis()
        => Assert.Equal(new float[] { 11, 22, 13, 24 }, OpTest.Run<float>("BiasAdd", [([1, 2, 3, 4], [1, 2, 2]), ([10, 20], [2])], DataType.DtFloat).Values);

    [Fact]
    public void BiasAdd_Nchw_AddsAlongChannelAxis()
        => Assert.Equal(new float[] { 11, 12, 23, 24 },
            OpTest.Run<float>("BiasAdd", [([1, 2, 3, 4], [1, 2, 2]), ([10, 20], [2])], DataType.DtFloat, ("data_format", S("NCHW"))).Values);

    [Fact]
    public void Select_VectorConditionOnMatrix_PicksRows()
    {
        var g = new TestGraph();
        g.Input("c", DataType.DtBool, [2]);
        g.Input("a", DataType.DtFloat, [2, 2]);
        g.Input("b", DataType.DtFloat, [2, 2]);
        g.Node("Select", "s", ["c", "a", "b"]);
        g.Node("SelectV2", "s2", ["c", "a", "b"]); // V2 broadcasts c [2] against the last axis instead
        g.Output("s", "s");
        g.Output("s2", "s2");
        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("c", new[] { true, false }, 2),
            OnnxRun.Input("a", new float[] { 1, 2, 3, 4 }, 2, 2), OnnxRun.Input("b", new float[] { -1, -2, -3, -4 }, 2, 2));

        Assert.Equal(new float[] { 1, 2, -3, -4 }, results["s"].Values);
        Assert.Equal(new float[] { 1, -2, 3, -4 }, results["s2"].Values);
    }

    [Fact]
    public void AddNAndClipByValueAndLikes_ComputeByHandValues()
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtFloat, [3]);
        g.Const("lo", [0f]);
        g.Const("hi", [2f]);
        g.Node("AddN", "sum", ["a", "a", "a"], ("N", I(3)));
        g.Node("ClipByValue", "clip", ["a", "lo", "hi"]);
        g.Node("ZerosLike", "zeros", ["a"]);
        g.Node("OnesLike", "ones", ["a"]);
        foreach (var name in new[] { "sum", "clip", "zeros", "ones" })
        {
            g.Output(name, name);
        }

        var results = OnnxRun.Run<float>(g.Convert(), OnnxRun.Input("a", new float[] { -1, 1, 3 }, 3));
        Assert.Equal(new float[] { -3, 3, 9 }, results["sum"].Values);
        Assert.Equal(new float[] { 0, 1, 2 }, results["clip"].Values);
        Assert.Equal(new float[] { 0, 0, 0 }, results["zeros"].Values);
        Assert.Equal(new float[] { 1, 1, 1 }, results["ones"].Values);
    }
}
