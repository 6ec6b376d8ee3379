using System.Text.Json;
using Grid.Testing;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// The libtorch engine behind the TF Serving APIs of a real <c>grid serve</c>: metadata from
/// the TorchScript sidecar, predictions equal to the ONNX twin's, and a hot swap from an ONNX
/// version to a TorchScript one.
/// </summary>
public sealed class LibTorchEngineTests : IDisposable
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
}
