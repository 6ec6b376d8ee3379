using Grid.Engines.TensorFlow.Conversion;
using Grid.Serving;
using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

public sealed class SignatureConverterTests
{
    /// <summary>TF1 half_plus_two: x:0 is an Identity fed from an (unsupported) ParseExample; a, b are VariableV2 read through Identity.</summary>
    private static TestGraph HalfPlusTwoTf1()
    {
        var g = new TestGraph();
        g.Node("Placeholder", "tf_example", [], ("dtype", Type(DataType.DtString)));
        g.Node("ParseExample", "ParseExample/ParseExample", ["tf_example"]);
        g.Node("Identity", "x", ["ParseExample/ParseExample:0"]);
        g.Node("VariableV2", "a", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([])));
        g.Node("VariableV2", "b", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([])));
        g.Node("Identity", "a/read", ["a"]);
        g.Node("Identity", "b/read", ["b"]);
        g.Node("Mul", "Mul", ["a/read", "x", "^b/read"]);
        g.Node("Add", "y", ["Mul", "b/read"]);
        g.Signature.Inputs["x"] = Info("x:0", DataType.DtFloat, [-1, 1]);
        g.Output("y", "y:0", DataType.DtFloat, [-1, 1]);
        return g;
    }

    [Fact]
    public void Convert_Tf1HalfPlusTwoFedIdentity_ComputesHalfPlusTwoForAnyShape()
    {
        var variables = new TestVariables().Add("a", [0.5f]).Add("b", [2f]);
        var conversion = HalfPlusTwoTf1().Convert(variables);

        // TF Serving's REST test sends [[1,2],[3,4]] to x declared [-1,1]: y = 0.5x + 2.
        var (values, shape) = OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[] { 1, 2, 3, 4 }, 2, 2));
        Assert.Equal(new float[] { 2.5f, 3, 3.5f, 4 }, values);
        Assert.Equal(new long[] { 2, 2 }, shape);
        Assert.Equal("y", conversion.Outputs.Single().OnnxName); // the key, though a TF node is also named y
        Assert.Equal(new[] { "a", "b" }, variables.Requests.Select(r => r.NodeName).Order());
    }

    [Fact]
    public void Convert_Tf2NestedCallsWithCapturedVariables_InlinesAndFoldsVariables()
    {
        var g = new TestGraph();
        // Outer graph: signature input (a PlaceholderWithDefault), captured VarHandleOps, one call.
        g.Const("default_x", [0f, 0f], 1, 2);
        g.Node("PlaceholderWithDefault", "serving_x", ["default_x"], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([-1, 2])));
        g.Node("VarHandleOp", "dense/kernel", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([2, 2])), ("shared_name", S("dense/kernel")));
        g.Node("VarHandleOp", "dense/bias", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([2])), ("shared_name", S("dense/bias")));
        g.Node("StatefulPartitionedCall", "StatefulPartitionedCall", ["serving_x", "dense/kernel", "dense/bias"],
            ("f", Func("__inference_signature_wrapper_10")), ("Tin", Types(DataType.DtFloat, DataType.DtResource, DataType.DtResource)),
            ("Tout", Types(DataType.DtFloat)));
        g.Signature.Inputs["x"] = Info("serving_x:0", DataType.DtFloat, [-1, 2]);
        g.Output("y", "StatefulPartitionedCall:0", DataType.DtFloat, [-1, 2]);

        // Wrapper: calls the model function through PartitionedCall.
        g.Function("__inference_signature_wrapper_10",
            [("x", DataType.DtFloat), ("k", DataType.DtResource), ("b", DataType.DtResource)], [("identity", DataType.DtFloat)],
            [
                MakeNode("StatefulPartitionedCall", "call", ["x", "k", "b"], ("f", Func("__inference_model_5"))),
                MakeNode("Identity", "Identity", ["call:output:0"]),
            ],
            ("identity", "Identity:output:0"));
        // Model: relu(x @ k + b), reading the resource arguments; the bias add is a direct call of a library function.
        g.Function("__inference_model_5",
            [("inputs", DataType.DtFloat), ("matmul_readvariableop_resource", DataType.DtResource), ("bias_resource", DataType.DtResource)],
            [("identity", DataType.DtFloat)],
            [
                MakeNode("ReadVariableOp", "MatMul/ReadVariableOp", ["matmul_readvariableop_resource"], ("dtype", Type(DataType.DtFloat))),
                MakeNode("MatMul", "MatMul", ["inputs", "MatMul/ReadVariableOp:value:0"]),
                MakeNode("ReadVariableOp", "bias/read", ["bias_resource"], ("dtype", Type(DataType.DtFloat))),
                MakeNode("add_bias_3", "biased", ["MatMul:product:0", "bias/read:value:0"]),
                MakeNode("Relu", "Relu", ["biased:z:0"]),
                MakeNode("Identity", "Identity", ["Relu:activations:0", "^MatMul/ReadVariableOp"]),
            ],
            ("identity", "Identity:output:0"));
        g.Function("add_bias_3", [("a", DataType.DtFloat), ("c", DataType.DtFloat)], [("z", DataType.DtFloat)],
            [MakeNode("BiasAdd", "BiasAdd", ["a", "c"])],
            ("z", "BiasAdd:output:0"));

        var variables = new TestVariables()
            .Add("dense/kernel", [1, 2, 3, 4], 2, 2)
            .Add("dense/bias", [10, -100], 2);
        var conversion = g.Convert(variables);

        // [1,1]·[[1,2],[3,4]] = [4,6]; +[10,-100] = [14,-94]; relu → [14,0]. [2,0] → [2,4] → [12,-96] → [12,0].
        var (values, shape) = OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[] { 1, 1, 2, 0 }, 2, 2));
        Assert.Equal(new float[] { 14, 0, 12, 0 }, values);
        Assert.Equal(new long[] { 2, 2 }, shape);
    }

    [Fact]
    public void Convert_UnsupportedOps_NamesEveryOpTypeOnce()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 2]);
        g.Node("TRTEngineOp", "TRTEngineOp_0", ["x"]);
        g.Node("Foo", "a/b", ["TRTEngineOp_0"]);
        g.Node("Foo", "a/c", ["a/b"]);
        g.Node("Relu", "r", ["a/c"]);
        g.Output("y", "r");

        var error = Assert.Throws<ServingException>(() => g.Convert());
        Assert.Equal(ServingStatusCode.Unimplemented, error.Code);
        Assert.StartsWith("unsupported TensorFlow ops: ", error.Message);
        Assert.Contains("TRTEngineOp (node TRTEngineOp_0)", error.Message);
        Assert.Contains("Foo (node a/", error.Message);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(error.Message, "Foo"));
    }

    [Fact]
    public void Convert_UnsupportedOpOutsideTheSignaturePath_IsIgnored()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1]);
        g.Node("SaveV2", "save", ["x"]);
        g.Node("Neg", "n", ["x", "^save"]);
        g.Output("y", "n");

        var (values, _) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", new float[] { 1, -2 }, 2));
        Assert.Equal(new float[] { -1, 2 }, values);
    }

    [Fact]
    public void Convert_MissingVariable_FailsNamingIt()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1]);
        g.Node("VarHandleOp", "v", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([1])), ("shared_name", S("v_shared")));
        g.Node("ReadVariableOp", "read", ["v"]);
        g.Node("Add", "y", ["x", "read"]);
        g.Output("y", "y");

        var error = Assert.Throws<ServingException>(() => g.Convert());
        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.Contains("variable v (shared_name v_shared)", error.Message);
    }

    [Fact]
    public void Convert_UnfedPlaceholder_IsInvalidArgument()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1]);
        g.Node("Placeholder", "other", [], ("dtype", Type(DataType.DtFloat)));
        g.Node("Add", "y", ["x", "other"]);
        g.Output("y", "y");

        var error = Assert.Throws<ServingException>(() => g.Convert());
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("placeholder other", error.Message);
    }

    [Fact]
    public void Convert_DynamicBatch_DeclaresSymbolicDimensionAndRunsAnyBatch()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [-1, 3]);
        g.Node("Sigmoid", "s", ["x"]);
        g.Output("y", "s", DataType.DtFloat, [-1, 3]);
        var conversion = g.Convert();

        Assert.Equal(new long[] { -1, 3 }, conversion.Inputs.Single().Dims);
        foreach (var batch in new[] { 1, 4 })
        {
            var (values, shape) = OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[batch * 3], batch, 3));
            Assert.Equal(new long[] { batch, 3 }, shape);
            Assert.All(values, v => Assert.Equal(0.5f, v)); // sigmoid(0) = 0.5
        }
    }

    [Fact]
    public void Convert_OutputThatIsAnInput_GetsItsOwnOnnxName()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [2]);
        g.Output("x", "x");
        var conversion = g.Convert();

        Assert.NotEqual("x", conversion.Outputs.Single().OnnxName);
        var (values, _) = OnnxRun.Single<float>(conversion, OnnxRun.Input("x", new float[] { 7, 8 }, 2));
        Assert.Equal(new float[] { 7, 8 }, values);
    }

    [Fact]
    public void Convert_IdentityNAndStopGradient_PassValuesThrough()
    {
        var g = new TestGraph();
        g.Input("a", DataType.DtFloat, [1]);
        g.Input("b", DataType.DtFloat, [1]);
        g.Node("IdentityN", "ids", ["a", "b"], ("T", Types(DataType.DtFloat, DataType.DtFloat)));
        g.Node("StopGradient", "sg", ["ids:1"]);
        g.Node("Sub", "d", ["ids:0", "sg"]);
        g.Output("d", "d");
        var (values, _) = OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("a", new float[] { 5 }, 1), OnnxRun.Input("b", new float[] { 3 }, 1));
        Assert.Equal(new float[] { 2 }, values);
    }

    [Fact]
    public void Convert_VeryDeepChain_DoesNotExhaustTheStack()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [1]);
        var previous = "x";
        for (var i = 0; i < 100_000; i++)
        {
            previous = g.Node("Identity", $"id{i}", [previous]);
        }

        g.Node("Neg", "y", [previous]);
        g.Output("y", "y");
        Assert.Equal(new float[] { -4 }, OnnxRun.Single<float>(g.Convert(), OnnxRun.Input("x", new float[] { 4 }, 1)).Values);
    }

    [Fact]
    public void Convert_CyclicGraph_IsUnimplemented()
    {
        var g = new TestGraph();
        g.Input("x", DataType.DtFloat, [1]);
        g.Node("Add", "a", ["x", "b"]);
        g.Node("Neg", "b", ["a"]);
        g.Output("y", "a");

        var error = Assert.Throws<ServingException>(() => g.Convert());
        Assert.Equal(ServingStatusCode.Unimplemented, error.Code);
        Assert.Contains("cycle", error.Message);
    }
}
