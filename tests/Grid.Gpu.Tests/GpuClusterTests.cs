using Grid.Testing;

namespace Grid.Gpu.Tests;

/// <summary>
/// Placement across silos: a Redis-backed cluster of a CPU-only silo and a GPU silo, where a
/// KIND_GPU model (TorchScript, or ONNX on ONNX Runtime's CUDA provider) lands on the GPU silo
/// and binds a GPU, a KIND_CPU ONNX model may use either, and both answer through the gateway. Needs <c>redis-server</c> on PATH (the GPU
/// pack carries one).
/// </summary>
public sealed class GpuClusterTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _repository = new();

    public void Dispose() => _repository.Dispose();

    [Theory]
    [InlineData("fashion_torch")]
    [InlineData("fashion")]
    public async Task Placement_GpuModelInAMixedCluster_LandsOnTheGpuSiloAndServes(string source)
    {
        // Arrange: the example under test as "on_gpu" (KIND_GPU), the ONNX fashion as "on_cpu" (KIND_CPU)
        var gpu = GpuEnvironment.RequireGpu();
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, source), _repository.Combine("on_gpu"));
        File.WriteAllText(_repository.Combine("on_gpu", "config.pbtxt"), "instance_group [ { count: 2 kind: KIND_GPU } ]\n");
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion"), _repository.Combine("on_cpu"));
        File.WriteAllText(_repository.Combine("on_cpu", "config.pbtxt"), "instance_group [ { count: 2 kind: KIND_CPU } ]\n");
        await using var cluster = await LocalCluster.StartAsync(_repository.Path);
        await cluster.StartSiloAsync("cpu-silo", "--devices", "cpu");
        await cluster.StartSiloAsync("gpu-silo", gpu);
        await cluster.StartGatewayAsync();
        await cluster.WaitReadyAsync(2);
        var gpuSilo = await cluster.SiloAddressAsync("gpu-silo");

        // Act
        await cluster.WaitUntilAsync(async () => (await cluster.GetModelAsync("on_gpu"))?.Available().Count == 2, "on_gpu with 2 available replicas", TimeSpan.FromMinutes(2));
        await cluster.WaitUntilAsync(async () => (await cluster.GetModelAsync("on_cpu"))?.Available().Count == 2, "on_cpu with 2 available replicas", TimeSpan.FromMinutes(2));
        var onGpu = (await cluster.GetModelAsync("on_gpu"))!.Available();
        var (images, _) = FashionMnist.LoadTest(8);
        var body = System.Text.Json.JsonSerializer.Serialize(new { instances = images });
        using var predict = await cluster.Http.PostAsync("/v1/models/on_gpu:predict", new StringContent(body), TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        // Assert
        output.WriteLine(string.Join(", ", onGpu.Select(r => $"{source}: replica {r.Replica} on {r.Silo} ({r.RunsOn})")));
        Assert.All(onGpu, r => Assert.Equal(gpuSilo, r.Silo));
        Assert.All(onGpu, r => Assert.StartsWith("gpu:", r.RunsOn));
        Assert.True(predict.IsSuccessStatusCode, await predict.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
