using Grid.Testing;

namespace Grid.EndToEnd.Tests.Cluster;

/// <summary>
/// Device-aware placement across real silo processes on Redis.
/// </summary>
/// <remarks>
/// No engine in this build runs on CUDA and CI has no GPU, so the GPU silo here is a stand-in:
/// it advertises <c>gpu:0</c> with <c>--gpu_stand_in</c>, which makes it accept GPU placements
/// and run them on the CPU engine. What is tested is the placement: which silos qualify for a
/// device requirement and where replicas land. A second silo advertises <c>gpu:1</c> without the
/// stand-in, as a GPU host without a CUDA engine does, and must refuse GPU placements.
/// </remarks>
[Collection(ClusterCollection.Name)]
public sealed class PlacementTests : IAsyncLifetime
{
    private readonly TestRepository _repository = new TestRepository()
        .AddHalfPlusTwo("gpu_only", "instance_group [ { count: 2 kind: KIND_GPU } ]")
        .AddHalfPlusTwo("cpu_only", "instance_group { count: 2 kind: KIND_CPU }")
        .AddHalfPlusTwo("anywhere", "instance_group { count: 2 }");
    private LocalCluster _cluster = null!;
    private GatewayClient _client = null!;

    public async Task InitializeAsync()
    {
        _cluster = await LocalCluster.StartAsync(_repository.Path);
        await _cluster.StartSiloAsync("gpu-standin", "--devices", "gpu:0", "--gpu_stand_in");
        await _cluster.StartSiloAsync("cpu", "--devices", "cpu");
        await _cluster.StartSiloAsync("gpu-refused", "--devices", "cpu,gpu:1");
        await _cluster.StartGatewayAsync();
        await _cluster.WaitReadyAsync(3);
        _client = new GatewayClient(_cluster);
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("gpu_only"))?.Available().Count == 2, "gpu_only with 2 available replicas");
        // A replica placed while a silo was still joining is moved to it by the rebalancing rule.
        foreach (var model in new[] { "cpu_only", "anywhere" })
        {
            await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync(model))?.Available() is { Count: 2 } r && r.Select(x => x.Silo).Distinct().Count() == 2,
                $"{model} with 2 available replicas on 2 silos");
        }
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
        _repository.Dispose();
    }

    [Fact]
    public async Task GpuOnlyModel_TwoReplicas_LandOnlyOnTheGpuSilo()
    {
        var gpuSilo = await _cluster.SiloAddressAsync("gpu-standin");

        var replicas = (await _cluster.GetModelAsync("gpu_only"))!.Available();

        Assert.Equal(2, replicas.Count);
        Assert.All(replicas, r => Assert.Equal(gpuSilo, r.Silo));
        Assert.All(replicas, r => Assert.Equal("gpu", r.Device));
        await _client.PredictHalfPlusTwoAsync("gpu_only", 4);
    }

    [Fact]
    public async Task CpuOnlyModel_NeverLandsOnASiloWithoutTheCpu()
    {
        var gpuSilo = await _cluster.SiloAddressAsync("gpu-standin");

        var replicas = (await _cluster.GetModelAsync("cpu_only"))!.Available();

        Assert.Equal(2, replicas.Count);
        Assert.DoesNotContain(replicas, r => r.Silo == gpuSilo);
        // Two CPU silos qualify, so the replicas are spread over both.
        Assert.Equal(2, replicas.Select(r => r.Silo).Distinct().Count());
        await _client.PredictHalfPlusTwoAsync("cpu_only", 6);
    }

    [Fact]
    public async Task AnyModel_TwoReplicas_AreSpreadAcrossSilos()
    {
        var replicas = (await _cluster.GetModelAsync("anywhere"))!.Available();

        Assert.Equal(2, replicas.Count);
        Assert.Equal(2, replicas.Select(r => r.Silo).Distinct().Count());
    }

    [Fact]
    public async Task ClusterStatus_GpuWithoutEngine_IsListedWithTheReasonItIsRefused()
    {
        var cluster = (await _cluster.GetClusterAsync())!.Value;
        var refused = cluster.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "gpu-refused");
        var standIn = cluster.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "gpu-standin");

        Assert.Equal(["cpu", "gpu:1"], refused.GetProperty("devices").EnumerateArray().Select(d => d.GetString()));
        Assert.StartsWith("libtorch: the bundled libtorch is the CPU build", refused.GetProperty("gpu_unusable_reason").GetString());
        Assert.True(standIn.GetProperty("gpu_stand_in").GetBoolean());
        var refusedAddress = refused.GetProperty("address").GetString();
        Assert.DoesNotContain((await _cluster.GetModelAsync("gpu_only"))!.Available(), r => r.Silo == refusedAddress);
    }
}

/// <summary>A model no silo can host says so, and is placed once a silo that can joins.</summary>
[Collection(ClusterCollection.Name)]
public sealed class UnplacedModelTests : IAsyncLifetime
{
    private readonly TestRepository _repository = new TestRepository()
        .AddHalfPlusTwo("needs_gpu", "instance_group { kind: KIND_GPU }");
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await LocalCluster.StartAsync(_repository.Path);
        await _cluster.StartSiloAsync("cpu", "--devices", "cpu");
        await _cluster.StartGatewayAsync();
        await _cluster.WaitReadyAsync(1);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _repository.Dispose();
    }

    [Fact]
    public async Task GpuModel_NoGpuSilo_StatusAndPredictSaySoUntilAGpuSiloJoins()
    {
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("needs_gpu"))?.Versions.FirstOrDefault()?.State == "END", "needs_gpu END for want of a GPU");
        var version = (await _cluster.GetModelAsync("needs_gpu"))!.Versions.Single();
        Assert.Contains("cannot be placed", version.Error);
        Assert.Contains("needs a usable GPU", version.Error);
        Assert.Contains("cpu (", version.Error);

        using var response = await _cluster.Http.PostAsync("/v1/models/needs_gpu:predict", new StringContent("{\"instances\": [1.0]}"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("needs a usable GPU", body);

        await _cluster.StartSiloAsync("gpu-standin", "--devices", "gpu:0", "--gpu_stand_in");
        var gpuSilo = await _cluster.SiloAddressAsync("gpu-standin");
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("needs_gpu"))?.Available().Count == 1, "needs_gpu placed on the joining GPU silo");
        Assert.Equal(gpuSilo, (await _cluster.GetModelAsync("needs_gpu"))!.Available().Single().Silo);
        using var client = new GatewayClient(_cluster);
        await client.PredictHalfPlusTwoAsync("needs_gpu", 2);
    }
}
