using System.Globalization;
using System.Text.Json;
using Grid.Testing;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// The 11 real SavedModels (TensorFlow 1.0 to 2.15, from public repositories) through a real
/// <c>grid serve</c>: 10 serve and the estimator ends naming its sparse feature-column ops, and the image classifiers
/// reach, over the whole 10,000-image test sets, the accuracy their preprocessing gives.
/// </summary>
public sealed class RealSavedModelTests(SavedModelFixture fixture, ITestOutputHelper output) : IClassFixture<SavedModelFixture>
{
    /// <summary>Model → null when it must serve, else a fragment of the END message.</summary>
    public static TheoryData<string, string?> Expected => new()
    {
        { "crypto_lstm_bn", null },
        { "fashion_cnn", null },
        { "fer_mini_xception", null },
        { "mnist_cnn_bn", null },
        { "mnist_mlp_dotnet", null },
        { "stock_lstm_relu", null },
        { "tabular_mlp13", null },
        { "text_embed_gap", null },
        { "tf1_estimator_wide_deep", "the graph uses its sparse outputs (features feature4, feature5, feature6); Grid parses tf.Examples ahead of the graph for dense features only" },
        { "tf1_graph_resvar_mlp", null },
        { "tf1_mnist_softmax", null },
    };

    [Fact]
    public void Expected_CoversEveryRealModel()
    {
        Assert.Equal(SavedModelFixture.RealModels, Expected.Select(row => (string)row[0]).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public async Task Load_RealSavedModel_ServesOrEndsWithItsReason(string model, string? reason)
    {
        // Act
        var body = await fixture.Grid.Http.GetStringAsync($"/v1/models/{model}").WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        using var status = JsonDocument.Parse(body);
        var version = status.RootElement.GetProperty("model_version_status")[0];
        var state = version.GetProperty("state").GetString();
        var message = version.GetProperty("status").GetProperty("error_message").GetString();
        output.WriteLine($"{model}: {state} {message}");
        if (reason is null)
        {
            Assert.Equal("AVAILABLE", state);
        }
        else
        {
            Assert.Equal("END", state);
            Assert.Contains(reason, message);
        }
    }

    [Fact]
    public async Task Predict_FashionCnnOverTheTestSet_ReachesItsAccuracy()
    {
        // Arrange: the notebook feeds [N,28,28,1] scaled by 1/255, which FashionMnist gives
        var (images, labels) = FashionMnist.LoadTest(10_000);

        // Act
        var correct = await ClassifyAsync("fashion_cnn", "conv2d_input", "dense_1", [28, 28, 1], images, labels);

        // Assert
        var accuracy = correct / 10_000.0;
        output.WriteLine($"fashion_cnn: {correct} of 10,000 Fashion-MNIST test images right ({accuracy.ToString("P2", CultureInfo.InvariantCulture)})");
        Assert.InRange(accuracy, ExpectedAccuracy.FashionCnn - 0.0005, ExpectedAccuracy.FashionCnn + 0.0005);
    }

    [Theory]
    [InlineData("mnist_mlp_dotnet", "flatten_input", "dense_1", false)]
    [InlineData("mnist_cnn_bn", "conv2d_input", "dense_1", true)]
    public async Task Predict_MnistModelOverTheTestSet_ReachesItsAccuracy(string model, string input, string outputAlias, bool normalizeColumns)
    {
        // Arrange: mnist_mlp_dotnet's client divides by 255; mnist_cnn_bn was trained on
        // tf.keras.utils.normalize(x, axis=1) of [N,28,28] images, which scales each image
        // column (axis 1 runs down the rows) to unit L2 norm
        var (raw, labels) = Mnist.LoadTest(10_000);
        var images = raw.Select(pixels => normalizeColumns ? NormalizeColumns(pixels) : pixels.Select(p => p / 255f).ToArray()).ToArray();
        long[] shape = normalizeColumns ? [28, 28, 1] : [28, 28];

        // Act
        var correct = await ClassifyAsync(model, input, outputAlias, shape, images, labels);

        // Assert
        var accuracy = correct / 10_000.0;
        output.WriteLine($"{model}: {correct} of 10,000 MNIST test images right ({accuracy.ToString("P2", CultureInfo.InvariantCulture)})");
        Assert.InRange(accuracy, ExpectedAccuracy.Mnist[model] - 0.0005, ExpectedAccuracy.Mnist[model] + 0.0005);
    }

    /// <summary>Sends the images in gRPC batches of 500 and counts the arg-max answers equal to the label.</summary>
    private async Task<int> ClassifyAsync(string model, string input, string outputAlias, long[] imageShape, float[][] images, byte[] labels)
    {
        const int batch = 500;
        var correct = 0;
        for (var start = 0; start < images.Length; start += batch)
        {
            var count = Math.Min(batch, images.Length - start);
            var tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto() };
            tensor.TensorShape.Dim.Add(new TensorShapeProto.Types.Dim { Size = count });
            tensor.TensorShape.Dim.AddRange(imageShape.Select(d => new TensorShapeProto.Types.Dim { Size = d }));
            tensor.FloatVal.AddRange(images.Skip(start).Take(count).SelectMany(i => i));
            var request = new PredictRequest { ModelSpec = new ModelSpec { Name = model } };
            request.Inputs[input] = tensor;
            var response = await fixture.Predictions.PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(120)).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(130));
            var scores = response.Outputs[outputAlias];
            var classes = (int)scores.TensorShape.Dim[1].Size;
            for (var i = 0; i < count; i++)
            {
                var row = scores.FloatVal.Skip(i * classes).Take(classes).ToList();
                if (row.IndexOf(row.Max()) == labels[start + i])
                {
                    correct++;
                }
            }
        }
        return correct;
    }

    private static float[] NormalizeColumns(byte[] pixels)
    {
        var result = new float[pixels.Length];
        for (var c = 0; c < 28; c++)
        {
            var norm = Math.Sqrt(Enumerable.Range(0, 28).Sum(r => (double)pixels[r * 28 + c] * pixels[r * 28 + c]));
            for (var r = 0; r < 28; r++)
            {
                result[r * 28 + c] = norm == 0 ? 0f : (float)(pixels[r * 28 + c] / norm);
            }
        }
        return result;
    }

    /// <summary>
    /// Accuracies over the full test sets: the same figures an independent numpy forward pass
    /// of the same weights gives (tests/Grid.Testing/Models/savedmodel_reference.py), which
    /// SavedModelReferenceTests also compares output by output.
    /// </summary>
    private static class ExpectedAccuracy
    {
        public const double FashionCnn = 0.9636;

        public static readonly Dictionary<string, double> Mnist = new() { ["mnist_mlp_dotnet"] = 0.9758, ["mnist_cnn_bn"] = 0.9939 };
    }
}
