using System.Globalization;
using Grid.Testing;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// TF Serving's mnist_client, against Fashion-MNIST: the first 1000 test images, one gRPC
/// Predict each, and the printed error rate. The expected rates are the ones the generator
/// computed for the same images (examples/models/fashion/ACCURACY.md).
/// </summary>
[Collection(SharedGridCollection.Name)]
public sealed class MnistClientTests(SharedGridFixture fixture, ITestOutputHelper output)
{
    [Theory]
    [InlineData("fashion_v1", 1, 15.3)]
    [InlineData("fashion", 2, 11.4)]
    public async Task MnistClient_FirstThousandTestImages_MatchesRecordedErrorRate(string model, long version, double expectedPercent)
    {
        var (images, labels) = FashionMnist.LoadTest(1000);
        var errors = 0;

        for (var i = 0; i < images.Length; i++)
        {
            var request = new PredictRequest { ModelSpec = new ModelSpec { Name = model } };
            var tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 }, new TensorShapeProto.Types.Dim { Size = 784 } } } };
            tensor.FloatVal.AddRange(images[i]);
            request.Inputs["images"] = tensor;
            var response = await fixture.Predictions.PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.DefaultTimeout();
            Assert.Equal(version, response.ModelSpec.Version);
            var scores = response.Outputs["scores"].FloatVal;
            var predicted = scores.IndexOf(scores.Max());
            if (predicted != labels[i])
            {
                errors++;
            }
        }

        var rate = errors * 100.0 / images.Length;
        output.WriteLine($"{model} version {version}: Inference error rate: {rate.ToString("0.0", CultureInfo.InvariantCulture)}%");
        Assert.InRange(rate, expectedPercent - 0.5, expectedPercent + 0.5);
    }
}
