using Grid.Engines.TensorFlow.Conversion;
using Grid.Engines.TensorFlow.SavedModel;
using Grid.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>Converts real SavedModels (shared/fixtures, read in place) and runs them on ONNX Runtime.</summary>
public sealed class FixtureConversionTests
{
    private static string SavedModels => Path.GetFullPath(Path.Combine(RepoPaths.Root, "..", "shared", "fixtures", "savedmodels"));

    private static string ServingTestData => RepoPaths.Fixtures;

    /// <summary>Converts a signature and runs it on a batch of 2 with every input element set to <paramref name="fill"/>.</summary>
    private static (float[] Values, long[] Shape) RunFilled(string exportDir, string signature, float fill)
    {
        var bundle = SavedModelLoader.Load(exportDir);
        var conversion = SignatureConverter.Convert(bundle, signature);
        var input = conversion.Inputs.Single();
        var dims = input.SignatureDims!.Select((d, i) => i == 0 ? 2 : (int)d).ToArray();
        Assert.True(dims.All(d => d > 0), $"input shape [{string.Join(",", input.SignatureDims!)}] has unknown non-batch dims");
        var values = Enumerable.Repeat(fill, dims.Aggregate(1, (a, b) => a * b)).ToArray();
        return OnnxRun.Single<float>(conversion, NamedOnnxValue.CreateFromTensor(input.OnnxName, new DenseTensor<float>(values, dims)));
    }

    [Theory]
    [InlineData("mnist_mlp_dotnet", 10)]
    [InlineData("fashion_cnn", 10)]
    [InlineData("mnist_cnn_bn", 10)]
    [InlineData("fer_mini_xception", 7)]
    [InlineData("text_embed_gap", 3)]
    public void Convert_SoftmaxClassifierFixture_RunsAndGivesProbabilityRows(string model, int classes)
    {
        var (values, shape) = RunFilled(Path.Combine(SavedModels, model, "1"), "serving_default", 0.5f);

        Assert.Equal(new long[] { 2, classes }, shape);
        for (var row = 0; row < 2; row++)
        {
            var probabilities = values.Skip(row * classes).Take(classes).ToArray();
            Assert.All(probabilities, p => Assert.InRange(p, 0f, 1f));
            Assert.InRange(probabilities.Sum(), 0.999f, 1.001f);
        }
    }

    [Theory]
    [InlineData("tabular_mlp13", 1)]
    [InlineData("tf1_graph_resvar_mlp", 1)]
    public void Convert_RegressionFixture_RunsAndGivesFiniteRows(string model, int outputs)
    {
        var (values, shape) = RunFilled(Path.Combine(SavedModels, model, "1"), "serving_default", 0.5f);

        Assert.Equal(new long[] { 2, outputs }, shape);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(values[0], values[1]); // two identical rows give identical outputs
    }

    [Theory]
    [InlineData("crypto_lstm_bn", new long[] { 2, 2 })]
    [InlineData("stock_lstm_relu", new long[] { 2, 100, 1 })]
    public void Convert_KerasLstmFixture_RunsTheLoopAndGivesFiniteOutput(string model, long[] expectedShape)
    {
        var (values, shape) = RunFilled(Path.Combine(SavedModels, model, "1"), "serving_default", 0.5f);

        Assert.Equal(expectedShape, shape);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
        var half = values.Length / 2;
        Assert.Equal(values.Take(half), values.Skip(half)); // two identical rows give identical outputs
    }

    [Fact]
    public void Convert_FashionCnn_MatchesAnIndependentNhwcForwardPass()
    {
        var bundle = SavedModelLoader.Load(Path.Combine(SavedModels, "fashion_cnn", "1"));
        var conversion = SignatureConverter.Convert(bundle, "serving_default");
        var input = Enumerable.Range(0, 784).Select(i => (i * 7 % 13) / 52f).ToArray();
        var (values, _) = OnnxRun.Single<float>(conversion, OnnxRun.Input(conversion.Inputs.Single().OnnxName, input, 1, 28, 28, 1));

        // Reference: NumPy (float64) on the checkpoint's weights, written from the graph: Conv2D 3×3×16 VALID + relu,
        // MaxPool 2×2/2 VALID, Conv2D 3×3×32 VALID + relu, Flatten in NHWC order, Dense 64 relu, Dense 10 softmax.
        OnnxRun.AssertClose(
            [0.00096121f, 0.04732237f, 0.01003133f, 0.01539183f, 0.04682013f, 0.00000022f, 0.87656367f, 0.00000938f, 0.00221222f, 0.00068764f],
            values, 2e-6f);
    }

    [Fact]
    public void Convert_MnistCnnBn_MatchesAnIndependentForwardPassWithBatchNorm()
    {
        var bundle = SavedModelLoader.Load(Path.Combine(SavedModels, "mnist_cnn_bn", "1"));
        var conversion = SignatureConverter.Convert(bundle, "serving_default");
        var input = Enumerable.Range(0, 784).Select(i => (i * 7 % 13) / 260f).ToArray();
        var (values, _) = OnnxRun.Single<float>(conversion, OnnxRun.Input(conversion.Inputs.Single().OnnxName, input, 1, 28, 28, 1));

        // Reference: NumPy (float64) on the checkpoint's weights, written from the graph: three blocks of Conv2D 3×3
        // VALID + relu + batch norm (γ(x − mean)/√(var + 0.001) + β), max-pooling 2×2/2 after the first two,
        // Flatten (NHWC order), Dense 128 relu, Dense 10 softmax.
        OnnxRun.AssertClose(
            [0.02331920f, 0.49285285f, 0.11212352f, 0.13929102f, 0.00352664f, 0.01870418f, 0.06402899f, 0.02091709f, 0.02614867f, 0.09908782f],
            values, 2e-6f);
    }

    [Fact]
    public void Convert_StockLstmRelu_MatchesAnIndependentLstmForwardPass()
    {
        var bundle = SavedModelLoader.Load(Path.Combine(SavedModels, "stock_lstm_relu", "1"));
        var conversion = SignatureConverter.Convert(bundle, "serving_default");
        var input = Enumerable.Range(0, 100).Select(t => (float)(Math.Sin(t / 10.0) * 0.5 + 0.5)).ToArray();
        var (values, shape) = OnnxRun.Single<float>(conversion, OnnxRun.Input(conversion.Inputs.Single().OnnxName, input, 1, 100, 1));

        // Reference: NumPy (float64) on the checkpoint's weights, written from the graph's cell: 4 stacked LSTMs
        // (units 50, 60, 80, 120; gates i, f, g, o; i/f/o sigmoid, g and the cell output relu; zero initial
        // state; every step returned), then Dense(1) per step. Input x[t] = sin(t/10)/2 + 1/2.
        Assert.Equal(new long[] { 1, 100, 1 }, shape);
        var expected = new Dictionary<int, float> { [0] = 0.25772482f, [1] = 0.37737464f, [49] = 0.45169977f, [99] = 0.46233968f };
        foreach (var (step, value) in expected)
        {
            Assert.True(Math.Abs(values[step] - value) < 1e-4f, $"step {step}: expected {value}, got {values[step]}");
        }
    }

    [Theory]
    [InlineData("saved_model_half_plus_two_cpu/00000123")]
    [InlineData("saved_model_half_plus_two_2_versions/00000123")]
    [InlineData("saved_model_half_plus_two_mlmd/00000123")]
    [InlineData("saved_model_half_plus_two_mkl/00000123")]
    [InlineData("saved_model_half_plus_two_cpu_with_saved_model_config/00000123")]
    [InlineData("saved_model_half_plus_two_tf2_cpu/00000123")]
    public void Convert_HalfPlusTwo_ComputesHalfXPlusTwo(string model)
    {
        var bundle = SavedModelLoader.Load(Path.Combine(ServingTestData, model));
        var conversion = SignatureConverter.Convert(bundle, "serving_default");
        var input = conversion.Inputs.Single();

        // README: y = 0.5x + 2. TF Serving's REST test sends [[1,2],[3,4]] to x declared [-1,1] and expects
        // [[2.5,3],[3.5,4]]; the TF2 export's x is a Placeholder declared [1], so it gets one value.
        if (input.Dims is [1])
        {
            Assert.Equal(new float[] { 3.5f }, OnnxRun.Single<float>(conversion, OnnxRun.Input(input.OnnxName, new float[] { 3 }, 1)).Values);
            return;
        }

        var (values, shape) = OnnxRun.Single<float>(conversion, OnnxRun.Input(input.OnnxName, new float[] { 1, 2, 3, 4 }, 2, 2));
        Assert.Equal(new float[] { 2.5f, 3, 3.5f, 4 }, values);
        Assert.Equal(new long[] { 2, 2 }, shape);
    }

    [Theory]
    [InlineData("saved_model_half_plus_two_cpu/00000123")]
    [InlineData("saved_model_half_plus_two_tf2_cpu/00000123")]
    public void Convert_RegressX2ToY3_ComputesHalfX2PlusThree(string model)
    {
        var bundle = SavedModelLoader.Load(Path.Combine(ServingTestData, model));
        var conversion = SignatureConverter.Convert(bundle, "regress_x2_to_y3");
        var input = conversion.Inputs.Single();

        // README: regress_x2_to_y3 = 0.5·x2 + 3.
        var (values, _) = input.Dims is [1]
            ? OnnxRun.Single<float>(conversion, OnnxRun.Input(input.OnnxName, new float[] { 4 }, 1))
            : OnnxRun.Single<float>(conversion, OnnxRun.Input(input.OnnxName, new float[] { 4, 6 }, 2, 1));
        Assert.Equal(input.Dims is [1] ? new float[] { 5 } : new float[] { 5, 6 }, values);
    }

    [Fact]
    public void Convert_Tf1MnistSoftmaxPredictImages_GivesProbabilityRows()
    {
        var (values, shape) = RunFilled(Path.Combine(SavedModels, "tf1_mnist_softmax", "1"), "predict_images", 0.1f);

        Assert.Equal(new long[] { 2, 10 }, shape);
        Assert.InRange(values.Take(10).Sum(), 0.999f, 1.001f);
    }

    [Fact]
    public void Convert_EstimatorWithSparseFeatures_ReportsEveryUnsupportedOpAndWhyParseExampleStays()
    {
        var bundle = SavedModelLoader.Load(Path.Combine(SavedModels, "tf1_estimator_wide_deep", "1"));
        var error = Assert.Throws<Grid.Serving.ServingException>(() => SignatureConverter.Convert(bundle, "serving_default"));

        Assert.Equal(Grid.Serving.ServingStatusCode.Unimplemented, error.Code);
        foreach (var op in new[] { "ParseExample", "SparseFillEmptyRows", "SparseReshape", "SparseSegmentSum", "Unique" })
        {
            Assert.Contains(op + " (node ", error.Message);
        }

        // Its lookup tables (HashTableV2 filled by LookupTableImportV2) convert; the sparse columns do not.
        Assert.DoesNotContain("HashTableV2", error.Message);
        Assert.EndsWith(
            "; ParseExample node ParseExample/ParseExample: the graph uses its sparse outputs (features feature4, feature5, feature6); Grid parses tf.Examples ahead of the graph for dense features only",
            error.Message);
    }
}
