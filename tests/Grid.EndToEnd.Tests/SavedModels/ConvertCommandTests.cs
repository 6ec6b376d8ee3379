using System.Text.Json;
using Grid.Testing;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// <c>grid convert</c> as a user runs it: a real SavedModel becomes an ONNX file that a real
/// <c>grid serve</c> serves as a plain ONNX model with the same answers as the SavedModel, and
/// bad inputs exit with status 2 and one line.
/// </summary>
public sealed class ConvertCommandTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Convert_FashionCnn_WritesAnOnnxModelThatServesTheSameAnswers()
    {
        // Arrange
        var source = Path.Combine(RepoPaths.SavedModels, "fashion_cnn", "1");
        var onnx = _temp.Combine("repo", "converted", "1", "model.onnx");
        var repo = _temp.CreateDirectory("repo");
        Directory.CreateSymbolicLink(Path.Combine(repo, "fashion_cnn"), Path.Combine(RepoPaths.SavedModels, "fashion_cnn"));

        // Act
        var (exit, stdout, stderr) = await GridCli.RunAsync(Timeout, "convert", source, "-o", onnx);
        output.WriteLine(stdout + stderr);
        await using var grid = GridProcess.Start("--model_repository", _temp.Combine("repo"), "--file_system_poll_wait_seconds", "0");
        await grid.WaitForAvailableAsync("converted", "fashion_cnn");
        var (images, _) = FashionMnist.LoadTest(8);
        var body = JsonSerializer.Serialize(new { instances = images.Select(i => Enumerable.Range(0, 28).Select(r => i.Skip(r * 28).Take(28).Select(p => new[] { p }).ToArray()).ToArray()) });
        var converted = await PredictAsync(grid, "converted", body);
        var saved = await PredictAsync(grid, "fashion_cnn", body);

        // Assert
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Contains("signature serving_default (tensorflow/serving/predict)", stdout);
        Assert.Contains("input  conv2d_input: serving_default_conv2d_input:0 DtFloat [-1,28,28,1] -> ONNX input conv2d_input [-1,28,28,1]", stdout);
        Assert.Matches(@"TensorFlow ops converted \(\d+ nodes\): .*Conv2D 2", stdout);
        Assert.Matches(@"ONNX nodes \(\d+\): .*Conv 2", stdout);
        Assert.Equal(saved, converted);
    }

    [Theory]
    [InlineData("/nonexistent/model", "serving_default", "grid: SavedModel directory /nonexistent/model does not exist")]
    [InlineData("fashion_cnn", "nope", "has no signature 'nope'; it has: __saved_model_init_op, serving_default")]
    [InlineData("tf1_mnist_softmax", "predict_images", null)]
    public async Task Convert_BadInputOrGoodSignature_ExitsAsDocumented(string model, string signature, string? error)
    {
        // Arrange: tf1_mnist_softmax's predict_images signature is plain MatMul/Add/Softmax and converts
        var source = model.StartsWith('/') ? model : Path.Combine(RepoPaths.SavedModels, model, "1");

        // Act
        var (exit, stdout, stderr) = await GridCli.RunAsync(Timeout, "convert", source, "-o", _temp.Combine("out.onnx"), "--signature", signature);

        // Assert
        output.WriteLine(stdout + stderr);
        if (error is null)
        {
            Assert.Equal(0, exit);
            Assert.True(File.Exists(_temp.Combine("out.onnx")));
        }
        else
        {
            Assert.Equal(2, exit);
            Assert.Single(stderr.TrimEnd().Split('\n'));
            Assert.Contains(error, stderr);
        }
    }

    private static async Task<string> PredictAsync(GridProcess grid, string model, string body)
    {
        using var response = await grid.Http.PostAsync($"/v1/models/{model}:predict", new StringContent(body)).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return text;
    }
}
