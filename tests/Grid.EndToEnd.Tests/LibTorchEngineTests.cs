using System.Text.Json;
using Grid.Testing;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// The libtorch engine behind the TF Serving APIs of a real <c>grid serve</c>: metadata from
/// the TorchScript sidecar, predictions equal to the ONNX twin's, and a hot swap from an ONNX
/// version to a TorchScript one.
/// </summary>
public sealed class LibTorchEngineTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _repository = new();

    public void Dispose() => _repository.Dispose();

    private static async Task<double[]> PredictAsync(GridProcess grid, string path)
    {
        using var response = await grid.Http.PostAsync(path, new StringContent("{\"instances\": [[0.1, 0.2, 0.3, 0.4], [-1.0, 0.5, 2.0, 0.0]]}"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("predictions").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()).ToArray();
    }

    [Fact]
    public async Task HotSwap_OnnxVersionToTorchScriptVersion_ServesTheSameAnswers()
    {
        TempDirectory.CopyDirectory(RepoPaths.TestModel("tiny_onnx"), _repository.Combine("tiny", "1"));
        await using var grid = GridProcess.Start("--model_base_path", _repository.Combine("tiny"), "--model_name", "tiny", "--file_system_poll_wait_seconds", "0.2");
        await grid.WaitForAvailableAsync("tiny");
        var onnx = await PredictAsync(grid, "/v1/models/tiny:predict");

        TempDirectory.CopyDirectory(RepoPaths.TestModel("tiny_torch"), _repository.Combine("tiny", "2"));
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("tiny")).GetValueOrDefault(2) == "AVAILABLE", "TorchScript version 2 AVAILABLE");
        var torch = await PredictAsync(grid, "/v1/models/tiny/versions/2:predict");

        Assert.Equal(6, torch.Length);
        for (var i = 0; i < onnx.Length; i++)
        {
            Assert.Equal(onnx[i], torch[i], 1e-6);
        }
        using var metadata = JsonDocument.Parse(await grid.Http.GetStringAsync("/v1/models/tiny/versions/2/metadata"));
        var signature = metadata.RootElement.GetProperty("metadata").GetProperty("signature_def").GetProperty("signature_def").GetProperty("serving_default");
        Assert.Equal("DT_FLOAT", signature.GetProperty("inputs").GetProperty("x").GetProperty("dtype").GetString());
        Assert.True(signature.GetProperty("outputs").TryGetProperty("probabilities", out _));
    }

    [Theory]
    [InlineData("{\"instances\": [[0.1, 0.2]]}")]
    [InlineData("{\"instances\": [[\"a\", \"b\", \"c\", \"d\"]]}")]
    [InlineData("{\"inputs\": {\"wrong\": [[0.1, 0.2, 0.3, 0.4]]}}")]
    [InlineData("{\"inputs\": {\"x\": [[0.1, 0.2, 0.3, 0.4]]}, \"instances\": [[0.1, 0.2, 0.3, 0.4]]}")]
    [InlineData("{\"instances\": [[0.1, 0.2, 0.3, 0.4]], \"signature_name\": \"other\"}")]
    [InlineData("{\"instances\": [[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3]]}")]
    [InlineData("not json")]
    public async Task BadInput_SameRequestToTheOnnxAndTorchScriptTwins_GetsTheSameError(string body)
    {
        // Arrange
        TempDirectory.CopyDirectory(RepoPaths.TestModel("tiny_onnx"), _repository.Combine("tiny_onnx", "1"));
        TempDirectory.CopyDirectory(RepoPaths.TestModel("tiny_torch"), _repository.Combine("tiny_torch", "1"));
        await using var grid = GridProcess.Start("--model_repository", _repository.Path);
        await grid.WaitForAvailableAsync("tiny_onnx", "tiny_torch");

        // Act
        using var onnx = await grid.Http.PostAsync("/v1/models/tiny_onnx:predict", new StringContent(body)).WaitAsync(TimeSpan.FromSeconds(30));
        using var torch = await grid.Http.PostAsync("/v1/models/tiny_torch:predict", new StringContent(body)).WaitAsync(TimeSpan.FromSeconds(30));
        var onnxError = await onnx.Content.ReadAsStringAsync();
        var torchError = await torch.Content.ReadAsStringAsync();

        // Assert
        output.WriteLine($"{(int)onnx.StatusCode} {onnxError}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, onnx.StatusCode);
        Assert.Equal(onnx.StatusCode, torch.StatusCode);
        Assert.Equal(onnxError.Replace("tiny_onnx", "MODEL"), torchError.Replace("tiny_torch", "MODEL"));
    }

    [Fact]
    public async Task FashionTorch_100TestImages_MatchesItsOnnxTwinOverGrpc()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion"), _repository.Combine("fashion"));
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion_torch"), _repository.Combine("fashion_torch"));
        await using var grid = GridProcess.Start("--model_repository", _repository.Path);
        await grid.WaitForAvailableAsync("fashion", "fashion_torch");
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(grid.GrpcAddress);
        var client = new Tensorflow.Serving.PredictionService.PredictionServiceClient(channel);
        var (images, _) = FashionMnist.LoadTest(100);

        async Task<float[]> ScoresAsync(string model)
        {
            var request = new Tensorflow.Serving.PredictRequest { ModelSpec = new Tensorflow.Serving.ModelSpec { Name = model } };
            var tensor = new Tensorflow.TensorProto
            {
                Dtype = Tensorflow.DataType.DtFloat,
                TensorShape = new Tensorflow.TensorShapeProto { Dim = { new Tensorflow.TensorShapeProto.Types.Dim { Size = images.Length }, new Tensorflow.TensorShapeProto.Types.Dim { Size = 784 } } },
            };
            tensor.FloatVal.AddRange(images.SelectMany(i => i));
            request.Inputs["images"] = tensor;
            var response = await client.PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal([100L, 10L], response.Outputs["scores"].TensorShape.Dim.Select(d => d.Size));
            return [.. response.Outputs["scores"].FloatVal];
        }

        var onnx = await ScoresAsync("fashion");
        var torch = await ScoresAsync("fashion_torch");

        Assert.Equal(onnx.Length, torch.Length);
        var worst = onnx.Zip(torch, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"fashion_torch against fashion on 100 test images: largest score difference {worst:E2}");
        Assert.True(worst < 1e-4, $"largest difference {worst}");
    }

    [Fact]
    public async Task FashionTorch_WithBatching_ConcurrentRowsEqualOneWholeRequest_AndMetadataOverGrpc()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion_torch"), _repository.Combine("fashion_torch"));
        var parameters = _repository.Combine("batching.pbtxt");
        File.WriteAllText(parameters, "max_batch_size { value: 32 }\nbatch_timeout_micros { value: 20000 }\nnum_batch_threads { value: 1 }\n");
        await using var grid = GridProcess.Start("--model_repository", _repository.Path, "--enable_batching", "--batching_parameters_file", parameters);
        await grid.WaitForAvailableAsync("fashion_torch");
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(grid.GrpcAddress);
        var client = new Tensorflow.Serving.PredictionService.PredictionServiceClient(channel);
        var (images, _) = FashionMnist.LoadTest(24);

        var metadata = await client.GetModelMetadataAsync(new Tensorflow.Serving.GetModelMetadataRequest
        {
            ModelSpec = new Tensorflow.Serving.ModelSpec { Name = "fashion_torch" },
            MetadataField = { "signature_def" },
        }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(30));
        var signatures = metadata.Metadata["signature_def"].Unpack<Tensorflow.Serving.SignatureDefMap>();
        Assert.Equal(["images"], signatures.SignatureDef["serving_default"].Inputs.Keys);
        Assert.Equal(["scores"], signatures.SignatureDef["serving_default"].Outputs.Keys);

        Task<float[]> ScoresAsync(float[][] rows)
        {
            var request = new Tensorflow.Serving.PredictRequest { ModelSpec = new Tensorflow.Serving.ModelSpec { Name = "fashion_torch" } };
            var tensor = new Tensorflow.TensorProto
            {
                Dtype = Tensorflow.DataType.DtFloat,
                TensorShape = new Tensorflow.TensorShapeProto { Dim = { new Tensorflow.TensorShapeProto.Types.Dim { Size = rows.Length }, new Tensorflow.TensorShapeProto.Types.Dim { Size = 784 } } },
            };
            tensor.FloatVal.AddRange(rows.SelectMany(r => r));
            request.Inputs["images"] = tensor;
            return client.PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(30))
                .ContinueWith(t => t.Result.Outputs["scores"].FloatVal.ToArray(), TaskScheduler.Default);
        }

        // One request with all 24 rows, then 24 concurrent one-row requests that the queue merges.
        var whole = await ScoresAsync(images);
        var single = await Task.WhenAll(images.Select(i => ScoresAsync([i])));

        for (var r = 0; r < images.Length; r++)
        {
            for (var c = 0; c < 10; c++)
            {
                Assert.Equal(whole[r * 10 + c], single[r][c], 1e-6f);
            }
        }
    }
}
