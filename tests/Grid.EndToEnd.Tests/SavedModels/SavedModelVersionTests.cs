using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grid.Testing;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// A SavedModel version beside an ONNX version of the same model, in a real <c>grid serve</c>
/// with batching on: a hot swap from the ONNX version to the SavedModel loses no request, and an
/// experiment splits traffic between them. Version 1 is tabular_mlp13 converted to ONNX by
/// <c>grid convert</c>; version 2 is the SavedModel itself, so both answer the same numbers and
/// only the version in the response (and the arm header) tells them apart.
/// </summary>
public sealed class SavedModelVersionTests(ITestOutputHelper output) : IDisposable
{
    private const string Token = "test-admin-token";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly float[] Row = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 1.1f, 1.2f, 1.3f];
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<string> ConvertedVersionAsync(string model)
    {
        var target = _temp.Combine("repo", model, "1", "model.onnx");
        var (exit, stdout, stderr) = await GridCli.RunAsync(Timeout, "convert", Path.Combine(RepoPaths.SavedModels, "tabular_mlp13", "1"), "-o", target);
        Assert.True(exit == 0, stdout + stderr);
        return _temp.Combine("repo", model);
    }

    private static void LinkSavedModelVersion(string modelDirectory, string version) =>
        Directory.CreateSymbolicLink(Path.Combine(modelDirectory, version), Path.Combine(RepoPaths.SavedModels, "tabular_mlp13", "1"));

    private static PredictRequest Request()
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "mlp" } };
        var tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 }, new TensorShapeProto.Types.Dim { Size = 13 } } } };
        tensor.FloatVal.AddRange(Row);
        request.Inputs["input_1"] = tensor;
        return request;
    }

    [Fact]
    public async Task HotSwap_OnnxVersionToSavedModelVersionUnderLoad_NoRequestFails()
    {
        // Arrange
        var model = await ConvertedVersionAsync("mlp");
        await using var grid = GridProcess.Start("--model_repository", _temp.Combine("repo"), "--file_system_poll_wait_seconds", "0.5", "--enable_batching");
        await grid.WaitForAvailableAsync("mlp");
        using var channel = GrpcChannel.ForAddress(grid.GrpcAddress);
        var client = new PredictionService.PredictionServiceClient(channel);
        var before = await client.PredictAsync(Request(), deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout);
        using var stop = new CancellationTokenSource();
        var versions = new Dictionary<long, int>();
        var failures = 0;
        var load = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var response = await client.PredictAsync(Request(), deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync;
                    lock (versions)
                    {
                        var version = response.ModelSpec.Version ?? 0;
                        versions[version] = versions.GetValueOrDefault(version) + 1;
                    }
                }
                catch (Grpc.Core.RpcException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })));

        // Act: version 2, the SavedModel, appears; the latest policy swaps to it
        LinkSavedModelVersion(model, "2");
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("mlp")) is var s && s.GetValueOrDefault(2L) == "AVAILABLE" && s.GetValueOrDefault(1L) == "END", "version 2 AVAILABLE and version 1 END", TimeSpan.FromSeconds(90));
        var after = await client.PredictAsync(Request(), deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout);
        await stop.CancelAsync();
        await load.WaitAsync(Timeout);

        // Assert
        output.WriteLine($"answers by version during the swap: {string.Join(", ", versions.Select(v => $"{v.Key}: {v.Value}"))}; failures {failures}");
        Assert.Equal(0, failures);
        Assert.Equal(1, before.ModelSpec.Version);
        Assert.Equal(2, after.ModelSpec.Version);
        Assert.Equal(before.Outputs["dense_2"].FloatVal[0], after.Outputs["dense_2"].FloatVal[0], 5);
    }

    [Fact]
    public async Task Experiment_SavedModelArmAgainstOnnxArm_BothServeWithTheSameAnswer()
    {
        // Arrange: both versions loaded side by side
        var model = await ConvertedVersionAsync("mlp");
        LinkSavedModelVersion(model, "2");
        File.WriteAllText(Path.Combine(model, "config.pbtxt"), "version_policy { all { } }\n");
        await using var grid = GridProcess.Start("--model_repository", _temp.Combine("repo"), "--file_system_poll_wait_seconds", "0", "--enable_batching",
            "--admin_token", Token, "--state_dir", _temp.CreateDirectory("state"));
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("mlp")).Count(s => s.Value == "AVAILABLE") == 2, "mlp versions 1 and 2 AVAILABLE");
        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/grid/models/mlp/experiments")
        {
            Content = new StringContent("""{"id": "import", "arms": [{"name": "onnx", "version": 1, "weight": 50}, {"name": "savedmodel", "version": 2, "weight": 50}]}""", Encoding.UTF8, "application/json"),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var created = await grid.Http.SendAsync(create).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Act: 200 concurrent REST requests, merged by the batch queue
        var body = JsonSerializer.Serialize(new { instances = new[] { Row } });
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await grid.Http.PostAsync("/v1/models/mlp:predict", new StringContent(body)).WaitAsync(Timeout);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            using var doc = JsonDocument.Parse(text);
            return (Arm: response.Headers.GetValues("x-grid-arm").Single(), Y: doc.RootElement.GetProperty("predictions")[0][0].GetDouble());
        }));

        // Assert
        var byArm = answers.GroupBy(a => a.Arm).ToDictionary(g => g.Key, g => g.ToList());
        output.WriteLine(string.Join(", ", byArm.Select(a => $"{a.Key}: {a.Value.Count} answers, y = {a.Value[0].Y}")));
        Assert.Equal(["onnx", "savedmodel"], byArm.Keys.Order());
        Assert.All(answers, a => Assert.Equal(answers[0].Y, a.Y, 5));
    }
}
