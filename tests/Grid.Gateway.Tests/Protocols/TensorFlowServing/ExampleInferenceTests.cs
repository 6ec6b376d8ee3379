using Google.Protobuf;
using Grid.Gateway.Protocols.TensorFlowServing;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Gateway.Tests.Protocols.TensorFlowServing;

public sealed class ExampleInferenceTests
{
    private static readonly TensorSpec ExamplesInput = new("inputs", "tf_example:0", TensorDType.String, null);

    private static ModelSignature Classifier(string method = ExampleInference.ClassifyMethodName, params TensorSpec[] outputs)
        => new("classify_x_to_y", method, [ExamplesInput], outputs.Length > 0 ? outputs : [new TensorSpec("scores", "y:0", TensorDType.Float, [-1, 1])]);

    private static ModelSignature Regressor(string method = ExampleInference.RegressMethodName)
        => new("regress_x_to_y", method, [ExamplesInput], [new TensorSpec("outputs", "y:0", TensorDType.Float, [-1, 1])]);

    private static readonly ModelSignature OnnxPredict = new(
        "serving_default", ModelSignature.PredictMethodName,
        [new TensorSpec("x", "x", TensorDType.Float, [-1, 1])],
        [new TensorSpec("y", "y", TensorDType.Float, [-1, 1])]);

    private static Example Example(string key, params float[] values)
    {
        var example = new Example { Features = new Features() };
        example.Features.Feature[key] = new Feature { FloatList = new FloatList { Value = { values } } };
        return example;
    }

    private static NamedTensor Floats(string name, long[] shape, params float[] values) => new(name, TensorData.FromFloats(shape, values));

    private static NamedTensor Strings(string name, long[] shape, params string[] values)
        => new(name, TensorData.FromStrings(shape, [.. values.Select(System.Text.Encoding.UTF8.GetBytes)]));

    [Fact]
    public void SerializeExamples_ExampleList_OneStringPerExample()
    {
        var input = new Input { ExampleList = new ExampleList { Examples = { Example("x", 1f), Example("x", 2f) } } };

        var tensor = ExampleInference.SerializeExamples(input);

        Assert.Equal(TensorDType.String, tensor.DType);
        Assert.Equal([2L], tensor.Shape);
        Assert.Equal(2f, Tensorflow.Example.Parser.ParseFrom(tensor.ReadStrings()[1].ToArray()).Features.Feature["x"].FloatList.Value[0]);
    }

    [Fact]
    public void SerializeExamples_WithContext_MergesContextAndExampleWins()
    {
        var context = Example("x", 9f);
        context.Features.Feature["shared"] = new Feature { BytesList = new BytesList { Value = { ByteString.CopyFromUtf8("ctx") } } };
        var input = new Input { ExampleListWithContext = new ExampleListWithContext { Context = context, Examples = { Example("x", 1f), Example("y", 2f) } } };

        var tensor = ExampleInference.SerializeExamples(input);

        var first = Tensorflow.Example.Parser.ParseFrom(tensor.ReadStrings()[0].ToArray());
        var second = Tensorflow.Example.Parser.ParseFrom(tensor.ReadStrings()[1].ToArray());
        Assert.Equal([1f], first.Features.Feature["x"].FloatList.Value);
        Assert.Equal("ctx", first.Features.Feature["shared"].BytesList.Value[0].ToStringUtf8());
        Assert.Equal([9f], second.Features.Feature["x"].FloatList.Value);
        Assert.Equal([2f], second.Features.Feature["y"].FloatList.Value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SerializeExamples_NoExamples_IsInputIsEmpty(bool withContext)
    {
        var input = withContext
            ? new Input { ExampleListWithContext = new ExampleListWithContext { Context = Example("x", 1f) } }
            : new Input();

        var error = Assert.Throws<ServingException>(() => ExampleInference.SerializeExamples(input));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Input is empty.", error.Message);
    }

    [Fact]
    public void FindSignature_Unknown_IsTfServingsInvalidArgument()
    {
        var error = Assert.Throws<ServingException>(() => ExampleInference.FindSignature([OnnxPredict], "nope"));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("No signature was found with the name: nope", error.Message);
    }

    [Fact]
    public void FindSignature_Empty_IsServingDefault()
    {
        var (name, signature) = ExampleInference.FindSignature([OnnxPredict], "");

        Assert.Equal("serving_default", name);
        Assert.Same(OnnxPredict, signature);
    }

    [Theory]
    [InlineData(ExampleMethod.Classify, "Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict")]
    [InlineData(ExampleMethod.Regress, "Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict")]
    public void Prepare_PredictSignatureWithMethodCheck_IsTfServingsWrongMethodError(ExampleMethod method, string expected)
    {
        var error = Assert.Throws<ServingException>(() => ExampleInference.Prepare("serving_default", OnnxPredict, method, checkMethodName: true));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Prepare_PredictSignatureWithoutMethodCheck_IsNoClassificationInputs()
    {
        var error = Assert.Throws<ServingException>(() => ExampleInference.Prepare("serving_default", OnnxPredict, ExampleMethod.Classify, checkMethodName: false));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("No classification inputs found in SignatureDef: inputs {\n  key: \"x\"\n  value {\n    name: \"x\"\n    dtype: DT_FLOAT\n", error.Message);
        Assert.EndsWith("method_name: \"tensorflow/serving/predict\"\n", error.Message);
    }

    [Fact]
    public void Prepare_Tf2PredictSignatureShapedLikeARegressor_IsAcceptedWithoutMethodCheck()
    {
        var task = ExampleInference.Prepare("regress_x_to_y", Regressor(ModelSignature.PredictMethodName), ExampleMethod.Regress, checkMethodName: false);

        Assert.Equal(["outputs"], task.OutputAliases);
        Assert.Equal("inputs", task.Input.Alias);
    }

    [Fact]
    public void Prepare_ClassifierWithoutClassesOrScores_IsTfServingsError()
    {
        var signature = Classifier(outputs: new TensorSpec("probabilities", "p:0", TensorDType.Float, [-1, 2]));

        var error = Assert.Throws<ServingException>(() => ExampleInference.Prepare("c", signature, ExampleMethod.Classify, checkMethodName: true));

        Assert.StartsWith("Expected classification signature outputs to contain at least one of \"classes\" or \"scores\". Signature was: ", error.Message);
    }

    [Fact]
    public void Prepare_RegressorWithTwoOutputs_IsExpectedOneOutputTensor()
    {
        var signature = Regressor() with { Outputs = [new TensorSpec("outputs", "y:0", TensorDType.Float, null), new TensorSpec("extra", "z:0", TensorDType.Float, null)] };

        var error = Assert.Throws<ServingException>(() => ExampleInference.Prepare("r", signature, ExampleMethod.Regress, checkMethodName: true));

        Assert.Equal("Expected one output Tensor.", error.Message);
    }

    [Fact]
    public void Prepare_ClassesAndScores_ReadsBothInOrder()
    {
        var signature = Classifier(outputs: [new TensorSpec("scores", "s:0", TensorDType.Float, [-1, 3]), new TensorSpec("classes", "c:0", TensorDType.String, [-1, 3])]);

        var task = ExampleInference.Prepare("c", signature, ExampleMethod.Classify, checkMethodName: true);

        Assert.Equal(["classes", "scores"], task.OutputAliases);
        var request = task.ToRequest(TensorData.FromStrings([1], [[1, 2]]));
        Assert.Equal("c", request.SignatureName);
        Assert.Equal("inputs", Assert.Single(request.Inputs).Name);
    }

    [Fact]
    public void ToClassificationResult_ScoresOnly_GivesEmptyLabels()
    {
        var task = ExampleInference.Prepare("classify_x_to_y", Classifier(), ExampleMethod.Classify, checkMethodName: true);

        var result = ExampleInference.ToClassificationResult(task, 2, [Floats("scores", [2, 1], 3f, 3.5f)]);

        Assert.Equal(2, result.Classifications.Count);
        Assert.Equal("", result.Classifications[0].Classes[0].Label);
        Assert.Equal(3f, result.Classifications[0].Classes[0].Score);
        Assert.Equal(3.5f, result.Classifications[1].Classes[0].Score);
    }

    [Fact]
    public void ToClassificationResult_ClassesAndScores_PairsThemPerExample()
    {
        var signature = Classifier(outputs: [new TensorSpec("classes", "c:0", TensorDType.String, [-1, 2]), new TensorSpec("scores", "s:0", TensorDType.Float, [-1, 2])]);
        var task = ExampleInference.Prepare("c", signature, ExampleMethod.Classify, checkMethodName: true);

        var result = ExampleInference.ToClassificationResult(task, 1, [Strings("classes", [1, 2], "cat", "dog"), Floats("scores", [1, 2], 0.75f, 0.25f)]);

        var classes = Assert.Single(result.Classifications).Classes;
        Assert.Equal(["cat", "dog"], classes.Select(c => c.Label));
        Assert.Equal([0.75f, 0.25f], classes.Select(c => c.Score));
    }

    [Fact]
    public void ToClassificationResult_ScoresOfRankOne_IsTfServingsShapeError()
    {
        var task = ExampleInference.Prepare("classify_x_to_y", Classifier(), ExampleMethod.Classify, checkMethodName: true);

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToClassificationResult(task, 2, [Floats("scores", [2], 3f, 3.5f)]));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Expected Tensor shape: [batch_size num_classes] but got [2]", error.Message);
    }

    [Fact]
    public void ToClassificationResult_ScoresNotFloat_IsTfServingsDtypeError()
    {
        var task = ExampleInference.Prepare("classify_x_to_y", Classifier(), ExampleMethod.Classify, checkMethodName: true);
        var scores = new NamedTensor("scores", TensorData.FromSpan<long>(TensorDType.Int64, [1, 1], [3]));

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToClassificationResult(task, 1, [scores]));

        Assert.Equal("Expected scores Tensor of DT_FLOAT. Got: DT_INT64", error.Message);
    }

    [Fact]
    public void ToClassificationResult_WrongBatch_IsTfServingsBatchError()
    {
        var task = ExampleInference.Prepare("classify_x_to_y", Classifier(), ExampleMethod.Classify, checkMethodName: true);

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToClassificationResult(task, 3, [Floats("scores", [2, 1], 3f, 3.5f)]));

        Assert.Equal("Expected scores output batch size of 3. Got: 2", error.Message);
    }

    [Fact]
    public void ToClassificationResult_ClassesAndScoresDisagree_IsTfServingsError()
    {
        var signature = Classifier(outputs: [new TensorSpec("classes", "c:0", TensorDType.String, null), new TensorSpec("scores", "s:0", TensorDType.Float, null)]);
        var task = ExampleInference.Prepare("c", signature, ExampleMethod.Classify, checkMethodName: true);

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToClassificationResult(task, 1, [Strings("classes", [1, 1], "a"), Floats("scores", [1, 2], 1f, 2f)]));

        Assert.Equal("Tensors class and score should match in dim_size(1). Got 1 vs. 2", error.Message);
    }

    [Theory]
    [InlineData(new long[] { 2 })]
    [InlineData(new long[] { 2, 1 })]
    public void ToRegressionResult_BatchOrBatchByOne_GivesOneValuePerExample(long[] shape)
    {
        var task = ExampleInference.Prepare("regress_x_to_y", Regressor(), ExampleMethod.Regress, checkMethodName: true);

        var result = ExampleInference.ToRegressionResult(task, 2, [Floats("outputs", shape, 3f, 4f)]);

        Assert.Equal([3f, 4f], result.Regressions.Select(r => r.Value));
    }

    [Fact]
    public void ToRegressionResult_TwoColumns_IsTfServingsShapeError()
    {
        var task = ExampleInference.Prepare("regress_x_to_y", Regressor(), ExampleMethod.Regress, checkMethodName: true);

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToRegressionResult(task, 1, [Floats("outputs", [1, 2], 3f, 4f)]));

        Assert.Equal("Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [1,2]", error.Message);
    }

    [Fact]
    public void ToRegressionResult_BatchMismatch_IsTfServingsError()
    {
        var task = ExampleInference.Prepare("regress_x_to_y", Regressor(), ExampleMethod.Regress, checkMethodName: true);

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToRegressionResult(task, 2, [Floats("outputs", [1], 3f)]));

        Assert.Equal("Input batch size did not match output batch size: 2 vs. 1", error.Message);
    }

    [Fact]
    public void ToRegressionResult_NotFloat_IsTfServingsDtypeError()
    {
        var task = ExampleInference.Prepare("regress_x_to_y", Regressor(), ExampleMethod.Regress, checkMethodName: true);
        var outputs = new NamedTensor("outputs", TensorData.FromSpan<double>(TensorDType.Double, [1], [3]));

        var error = Assert.Throws<ServingException>(() => ExampleInference.ToRegressionResult(task, 1, [outputs]));

        Assert.Equal("Expected output Tensor of DT_FLOAT.  Got: DT_DOUBLE", error.Message);
    }

    private static InferenceTask Task(string signature, string method, string model = "m")
        => new() { ModelSpec = new ModelSpec { Name = model, SignatureName = signature }, MethodName = method };

    private static readonly ModelSignature[] HalfPlusTwo =
    [
        Classifier(),
        Regressor(),
        Regressor() with { Key = "regress_x2_to_y3", Inputs = [new TensorSpec("inputs", "x2:0", TensorDType.Float, [-1, 1])] },
        OnnxPredict,
    ];

    [Fact]
    public void PrepareMulti_ClassifyAndRegress_PreparesBothInOrder()
    {
        var tasks = ExampleInference.PrepareMulti(
            [Task("regress_x_to_y", ExampleInference.RegressMethodName), Task("classify_x_to_y", ExampleInference.ClassifyMethodName)], HalfPlusTwo, checkMethodName: true);

        Assert.Equal([ExampleMethod.Regress, ExampleMethod.Classify], tasks.Select(t => t.Method));
    }

    [Theory]
    [InlineData("regress_x_to_y", "regress_x_to_y", "tensorflow/serving/regress", "other", "All ModelSpecs in a MultiInferenceRequest must access the same model name.")]
    [InlineData("regress_x_to_y", "regress_x_to_y", "tensorflow/serving/regress", "m", "Duplicate evaluation of signature: regress_x_to_y")]
    [InlineData("regress_x_to_y", "missing", "tensorflow/serving/regress", "m", "Requested signature not found in model graph: missing")]
    [InlineData("regress_x_to_y", "regress_x2_to_y3", "tensorflow/serving/regress", "m", "Input tensor must be the same for all Signatures.")]
    [InlineData("regress_x_to_y", "", "tensorflow/serving/regress", "", "Found ModelSpec with an empty model name.")]
    public void PrepareMulti_BrokenConstraint_IsTfServingsInvalidArgument(string first, string second, string method, string model, string expected)
    {
        var error = Assert.Throws<ServingException>(() => ExampleInference.PrepareMulti(
            [Task(first, ExampleInference.RegressMethodName), Task(second, method, model)], HalfPlusTwo, checkMethodName: true));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void PrepareMulti_PredictMethod_IsUnimplemented()
    {
        var error = Assert.Throws<ServingException>(() => ExampleInference.PrepareMulti([Task("serving_default", ModelSignature.PredictMethodName)], HalfPlusTwo, checkMethodName: true));

        Assert.Equal(ServingStatusCode.Unimplemented, error.Code);
        Assert.Equal("Unsupported signature method_name: tensorflow/serving/predict", error.Message);
    }

    [Fact]
    public void DebugString_UnknownRankAndSortedKeys_MatchesTextFormat()
    {
        var signature = new ModelSignature("s", "m", [ExamplesInput], [new TensorSpec("z", "z:0", TensorDType.Float, []), new TensorSpec("a", "a:0", TensorDType.Float, [-1])]);

        var text = ExampleInference.DebugString(signature);

        Assert.Equal(
            "inputs {\n  key: \"inputs\"\n  value {\n    name: \"tf_example:0\"\n    dtype: DT_STRING\n    tensor_shape {\n      unknown_rank: true\n    }\n  }\n}\n"
            + "outputs {\n  key: \"a\"\n  value {\n    name: \"a:0\"\n    dtype: DT_FLOAT\n    tensor_shape {\n      dim {\n        size: -1\n      }\n    }\n  }\n}\n"
            + "outputs {\n  key: \"z\"\n  value {\n    name: \"z:0\"\n    dtype: DT_FLOAT\n    tensor_shape {\n    }\n  }\n}\n"
            + "method_name: \"m\"\n",
            text);
    }
}
