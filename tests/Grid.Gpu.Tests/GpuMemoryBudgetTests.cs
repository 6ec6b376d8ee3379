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

    [Fact]
    public async Task Load_ModelOverTheGpuBudget_FailsWithResourceExhaustedWhileOthersServe()
    {
        // Arrange: 1 MiB per GPU; fashion_torch's model.pt is 0.8 MB, convnet_torch's 1.9 MB
        var gpu = GpuEnvironment.RequireGpu();
        foreach (var name in new[] { "fashion_torch", "convnet_torch" })
        {
            TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, name), _repository.Combine(name));
            File.WriteAllText(_repository.Combine(name, "config.pbtxt"), "instance_group [ { count: 1 kind: KIND_GPU } ]\n");
        }
        await using var grid = GridProcess.Start(["--model_repository", _repository.Path, .. gpu, "--gpu_memory_mib", "1"]);

        // Act
        await grid.WaitForAvailableAsync("fashion_torch");
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("convnet_torch")).GetValueOrDefault(1) == "END", "convnet_torch version 1 END");
        var status = (await GpuGridFixture.GetJsonAsync(grid, "/v1/models/convnet_torch")).GetProperty("model_version_status")[0].GetProperty("status");
        var fashion = await GpuGridFixture.GetJsonAsync(grid, "/v1/grid/models/fashion_torch");

        // Assert
        output.WriteLine(status.ToString());
        Assert.Equal("RESOURCE_EXHAUSTED", status.GetProperty("error_code").GetString());
        Assert.Contains("--gpu_memory_mib 1", status.GetProperty("error_message").GetString());
        Assert.Equal("gpu:0", fashion.GetProperty("versions")[0].GetProperty("replicas")[0].GetProperty("runs_on").GetString());
    }
}
