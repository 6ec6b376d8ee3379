using Grid.Testing;

namespace Grid.Gpu.Tests;

/// <summary>
/// Placement across silos: a Redis-backed cluster of a CPU-only silo and a GPU silo, where a
/// KIND_GPU TorchScript model lands on the GPU silo and binds a GPU, a KIND_CPU ONNX model may
/// use either, and both answer through the gateway. Needs <c>redis-server</c> on PATH (the GPU
/// pack carries one).
/// </summary>
public sealed class GpuClusterTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _repository = new();

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task Placement_GpuModelInAMixedCluster_LandsOnTheGpuSiloAndServes()
    {
        // Arrange
        var gpu = GpuEnvironment.RequireGpu();
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion_torch"), _repository.Combine("fashion_torch"));
        File.WriteAllText(_repository.Combine("fashion_torch", "config.pbtxt"), "instance_group [ { count: 2 kind: KIND_GPU } ]\n");
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion"), _repository.Combine("fashion"));
        File.WriteAllText(_repository.Combine("fashion", "config.pbtxt"), "instance_group [ { count: 2 kind: KIND_CPU } ]\n");
        await using var cluster = await LocalCluster.StartAsync(_repository.Path);
        await cluster.StartSiloAsync("cpu-silo", "--devices", "cpu");
        await cluster.StartSiloAsync("gpu-silo", gpu);
        await cluster.StartGatewayAsync();
        await cluster.WaitReadyAsync(2);
        var gpuSilo = await cluster.SiloAddressAsync("gpu-silo");

        // Act
        await cluster.WaitUntilAsync(async () => (await cluster.GetModelAsync("fashion_torch"))?.Available().Count == 2, "fashion_torch with 2 available replicas", TimeSpan.FromMinutes(2));
        await cluster.WaitUntilAsync(async () => (await cluster.GetModelAsync("fashion"))?.Available().Count == 2, "fashion with 2 available replicas", TimeSpan.FromMinutes(2));
        var torch = (await cluster.GetModelAsync("fashion_torch"))!.Available();
        var (images, _) = FashionMnist.LoadTest(8);
        var body = System.Text.Json.JsonSerializer.Serialize(new { instances = images });
        using var predict = await cluster.Http.PostAsync("/v1/models/fashion_torch:predict", new StringContent(body), TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        // Assert
        output.WriteLine(string.Join(", ", torch.Select(r => $"replica {r.Replica} on {r.Silo} ({r.RunsOn})")));
        Assert.All(torch, r => Assert.Equal(gpuSilo, r.Silo));
        Assert.All(torch, r => Assert.StartsWith("gpu:", r.RunsOn));
        Assert.True(predict.IsSuccessStatusCode, await predict.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
