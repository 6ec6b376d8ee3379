using Grid.Testing;

namespace Grid.Gpu.Tests;

/// <summary>
/// <c>--gpu_memory_mib</c> on a real GPU: a model over the budget fails its load with
/// RESOURCE_EXHAUSTED before anything is allocated, and the models within it serve on the GPU.
/// </summary>
public sealed class GpuMemoryBudgetTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _repository = new();

    public void Dispose() => _repository.Dispose();

    [Theory]
    [InlineData("fashion_torch", "convnet_torch")]
    // ONNX Runtime's CUDA arena is capped by the same budget, so the ONNX model that fits is
    // half_plus_two, whose weights and activations stay far below 1 MiB.
    [InlineData("half_plus_two", "convnet")]
    public async Task Load_ModelOverTheGpuBudget_FailsWithResourceExhaustedWhileOthersServe(string fashion, string convnet)
    {
        // Arrange: 1 MiB per GPU; fashion_torch's model.pt is 0.8 MB, half_plus_two's model.onnx 219 bytes, convnet's files 1.9 MB
        var gpu = GpuEnvironment.RequireGpu();
        foreach (var name in new[] { fashion, convnet })
        {
            TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, name), _repository.Combine(name));
            File.WriteAllText(_repository.Combine(name, "config.pbtxt"), "instance_group [ { count: 1 kind: KIND_GPU } ]\n");
        }
        await using var grid = GridProcess.Start(["--model_repository", _repository.Path, .. gpu, "--gpu_memory_mib", "1"]);

        // Act
        await grid.WaitForAvailableAsync(fashion);
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync(convnet)).GetValueOrDefault(1) == "END", $"{convnet} version 1 END");
        var status = (await GpuGridFixtureBase.GetJsonAsync(grid, $"/v1/models/{convnet}")).GetProperty("model_version_status")[0].GetProperty("status");
        var served = await GpuGridFixtureBase.GetJsonAsync(grid, $"/v1/grid/models/{fashion}");

        // Assert
        output.WriteLine(status.ToString());
        Assert.Equal("RESOURCE_EXHAUSTED", status.GetProperty("error_code").GetString());
        Assert.Contains("--gpu_memory_mib 1", status.GetProperty("error_message").GetString());
        Assert.Equal("gpu:0", served.GetProperty("versions")[0].GetProperty("replicas")[0].GetProperty("runs_on").GetString());
    }
}
