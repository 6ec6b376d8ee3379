using Google.Protobuf;
using Grid.Engines.TensorFlow.Serving;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Inference;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Tests.Serving;

/// <summary>
/// SavedModels loaded through <see cref="SavedModelEngine"/> and run as TF Serving runs them:
/// the classify/regress signatures take serialized tf.Examples built here.
/// </summary>
public sealed class SavedModelServingTests
{
    private static SavedModelEngine Engine() => new(new OnnxModelEngine(new OnnxRuntimeOptions { IntraOpThreads = 1 }), new SavedModelOptions());

    internal static byte[] Example(params (string Key, float[] Values)[] features)
    {
        var example = new Example { Features = new Features() };
        foreach (var (key, values) in features)
        {
            example.Features.Feature[key] = new Feature { FloatList = new FloatList { Value = { values } } };
        }

        return example.ToByteArray();
    }

    internal static NamedTensor[] Run(IModelSession session, string signatureKey, string input, TensorData tensor, params string[] outputs)
    {
        var signature = session.Signatures.Single(s => s.Key == signatureKey);
        return session.Run(signature, [new NamedTensor(input, tensor)], outputs);
    }

    private static TensorData Examples(params byte[][] examples) => TensorData.FromStrings([examples.Length], examples);

    public static TheoryData<string, string, float> HalfPlusTwoExampleSignatures()
    {
        var data = new TheoryData<string, string, float>();
        foreach (var model in new[]
        {
            "saved_model_half_plus_two_cpu", "saved_model_half_plus_two_2_versions", "saved_model_half_plus_two_gpu",
            "saved_model_half_plus_two_gpu_trt", "saved_model_half_plus_two_mkl", "saved_model_half_plus_two_mlmd",
            "saved_model_half_plus_two_cpu_with_saved_model_config", "saved_model_half_plus_two_cpu_with_empty_saved_model_config",
            "saved_model_half_plus_two_tf2_cpu",
        })
        {
            // README: regress_x_to_y and classify_x_to_y give y = 0.5x + 2; regress_x_to_y2 gives 0.5x + 3.
            data.Add(model, "regress_x_to_y", 2f);
            data.Add(model, "classify_x_to_y", 2f);
            if (!model.EndsWith("_mkl", StringComparison.Ordinal))
            {
                data.Add(model, "regress_x_to_y2", 3f);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(HalfPlusTwoExampleSignatures))]
    public void Run_HalfPlusTwoExampleSignature_ParsesExamplesAndComputesHalfXPlusOffset(string model, string signatureKey, float offset)
    {
        using var session = Engine().Load(Fixture.Serving(model), ExecutionDevice.Cpu);
        var signature = session.Signatures.Single(s => s.Key == signatureKey);
        var output = signature.Outputs.Single().Alias;

        var result = Run(session, signatureKey, "inputs", Examples(Example(("x", [2f])), Example(("x", [-3f]), ("x2", [10f])), Example(("x", [0.5f]))), output);

        var y = Assert.Single(result);
        Assert.Equal(new long[] { 3, 1 }, y.Tensor.Shape);
        Assert.Equal(new[] { 0.5f * 2 + offset, (0.5f * -3) + offset, (0.5f * 0.5f) + offset }, y.Tensor.AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData("saved_model_half_plus_two_cpu")]
    [InlineData("saved_model_half_plus_two_tf2_cpu")]
    public void Load_HalfPlusTwoExampleSignature_KeepsTheDeclaredStringInput(string model)
    {
        using var session = Engine().Load(Fixture.Serving(model), ExecutionDevice.Cpu);

        var input = Assert.Single(session.Signatures.Single(s => s.Key == "regress_x_to_y").Inputs);
        Assert.Equal("inputs", input.Alias);
        Assert.Equal(TensorDType.String, input.DType);
        Assert.Equal(model.Contains("tf2") ? "regress_x_to_y_inputs:0" : "tf_example:0", input.TensorName);
        Assert.Equal(model.Contains("tf2") ? new long[] { -1 } : null, input.Shape);
    }

    [Fact]
    public void Run_MklRegressXToY2_BroadcastsOverItsZeroConvolution()
    {
        using var session = Engine().Load(Fixture.Serving("saved_model_half_plus_two_mkl"), ExecutionDevice.Cpu);

        // README: the _mkl export adds a zero-valued Conv2D of shape [1,10,10,1] to y2, so one
        // example gives 100 copies of 0.5x + 3 (and TensorFlow cannot broadcast a batch of 3).
        var result = Run(session, "regress_x_to_y2", "inputs", Examples(Example(("x", [2f]))), "outputs");

        Assert.Equal(new long[] { 1, 10, 10, 1 }, result[0].Tensor.Shape);
        Assert.All(result[0].Tensor.AsSpan<float>().ToArray(), v => Assert.Equal(4f, v));
    }

    [Fact]
    public void Run_HalfPlusThreeRegress_ComputesHalfXPlusThree()
    {
        using var session = Engine().Load(Fixture.Serving("saved_model_half_plus_three"), ExecutionDevice.Cpu);

        // README: regress with examples x=1, x=2 gives [3.5, 4.0].
        var result = Run(session, "tensorflow/serving/regress", "inputs", Examples(Example(("x", [1f])), Example(("x", [2f]))), "outputs");

        Assert.Equal(new[] { 3.5f, 4f }, result[0].Tensor.AsSpan<float>().ToArray());
        var input = Assert.Single(session.Signatures.Single(s => s.Key == "tensorflow/serving/regress").Inputs);
        Assert.Equal(("inputs", "tf_example:0", TensorDType.String), (input.Alias, input.TensorName, input.DType));
    }

    [Theory]
    [InlineData("saved_model_half_plus_two_cpu")]
    [InlineData("saved_model_half_plus_two_tf2_cpu")]
    public void Run_ExampleWithoutRequiredFeature_FailsWithTensorFlowsMessage(string model)
    {
        using var session = Engine().Load(Fixture.Serving(model), ExecutionDevice.Cpu);

        var error = Assert.Throws<ServingException>(() =>
            Run(session, "regress_x_to_y", "inputs", Examples(Example(("x", [1f])), Example(("x2", [1f]))), "outputs"));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Name: <unknown>, Feature: x (data type: float) is required but could not be found.", error.Message);
    }

    [Theory]
    [InlineData("saved_model_half_plus_two_cpu", "Expected serialized to be a vector, got shape: []")]
    [InlineData("saved_model_half_plus_two_mlmd", "Expected serialized to be a vector, got shape: [1,1]")]
    public void Run_Tf1ParseExampleOnANonVector_FailsWithTensorFlowsMessage(string model, string message)
    {
        using var session = Engine().Load(Fixture.Serving(model), ExecutionDevice.Cpu);
        long[] shape = message.EndsWith("[]", StringComparison.Ordinal) ? [] : [1, 1];

        var error = Assert.Throws<ServingException>(() =>
            Run(session, "regress_x_to_y", "inputs", TensorData.FromStrings(shape, [Example(("x", [1f]))]), "outputs"));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Run_ExampleWithWrongFeatureType_FailsWithTensorFlowsMessage()
    {
        using var session = Engine().Load(Fixture.Serving("saved_model_half_plus_two_cpu"), ExecutionDevice.Cpu);
        var example = new Example { Features = new Features() };
        example.Features.Feature["x"] = new Feature { Int64List = new Int64List { Value = { 2 } } };

        var error = Assert.Throws<ServingException>(() =>
            Run(session, "regress_x_to_y", "inputs", Examples(example.ToByteArray()), "outputs"));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Name: <unknown>, Key: x, Index: 0.  Data types don't match. Data type: int64 but expected type: float", error.Message);
    }

    [Fact]
    public void Run_HalfPlusTwoPredictSignatures_StillTakeFloats()
    {
        using var session = Engine().Load(Fixture.Serving("saved_model_half_plus_two_cpu"), ExecutionDevice.Cpu);

        var y = Run(session, "serving_default", "x", TensorData.FromFloats([3, 1], [1f, 2f, 5f]), "y");
        var y3 = Run(session, "regress_x2_to_y3", "inputs", TensorData.FromFloats([1, 1], [2f]), "outputs");

        Assert.Equal(new[] { 2.5f, 3f, 4.5f }, y[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal(new[] { 4f }, y3[0].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Run_Tf1MnistSoftmaxClassify_GivesClassNamesAndScoresOfTheImage()
    {
        var directory = Fixture.SavedModel("tf1_mnist_softmax");
        var image = Enumerable.Range(0, 784).Select(i => (i % 28) * ((i / 28) % 3) / 56f).ToArray();
        var blank = new float[784];

        // Independent reference: softmax(x·W + b) from the checkpoint's variables, then every class
        // by descending score (TopKV2 with k = 10, sorted; ties keep the lower index first).
        var bundle = Grid.Engines.TensorFlow.SavedModel.SavedModelLoader.Load(directory);
        var w = bundle.VariablesByGraphNode["Variable"].AsSpan<float>().ToArray();
        var b = bundle.VariablesByGraphNode["Variable_1"].AsSpan<float>().ToArray();
        (string[] Classes, float[] Scores) Expected(float[] x)
        {
            var logits = Enumerable.Range(0, 10).Select(j => b[j] + Enumerable.Range(0, 784).Sum(i => (double)x[i] * w[(i * 10) + j])).ToArray();
            var max = logits.Max();
            var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
            var scores = exp.Select(e => (float)(e / exp.Sum())).ToArray();
            var order = Enumerable.Range(0, 10).OrderByDescending(j => scores[j]).ThenBy(j => j).ToArray();
            return (order.Select(j => j.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), order.Select(j => scores[j]).ToArray());
        }

        using var session = Engine().Load(directory, ExecutionDevice.Cpu);
        var result = Run(session, "serving_default", "inputs", Examples(Example(("x", image)), Example(("x", blank))), "classes", "scores");

        Assert.Equal(new long[] { 2, 10 }, result[0].Tensor.Shape);
        Assert.Equal(new long[] { 2, 10 }, result[1].Tensor.Shape);
        var classes = result[0].Tensor.ReadStrings().Select(c => System.Text.Encoding.UTF8.GetString(c.Span)).ToArray();
        var scores = result[1].Tensor.AsSpan<float>().ToArray();
        for (var row = 0; row < 2; row++)
        {
            var (expectedClasses, expectedScores) = Expected(row == 0 ? image : blank);
            Assert.Equal(expectedClasses, classes.Skip(row * 10).Take(10));
            Grid.Engines.TensorFlow.Tests.Conversion.OnnxRun.AssertClose(expectedScores, scores.Skip(row * 10).Take(10).ToArray(), 1e-5f);
        }
    }
}
