using System.Diagnostics;
using Grid.Testing;

namespace Grid.EndToEnd.Tests.Cluster;

/// <summary>
/// Silos leaving gracefully and joining, and the whole cluster restarting on the same Redis.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ElasticityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestRepository _repository = new TestRepository()
        .AddHalfPlusTwo("elastic", "instance_group { count: 2 }")
        .AddHalfPlusTwo("plain");
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await LocalCluster.StartAsync(_repository.Path);
        await _cluster.StartSiloAsync("silo1");
        await _cluster.StartSiloAsync("silo2");
        await _cluster.StartGatewayAsync();
        await _cluster.WaitReadyAsync(2);
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("elastic"))?.Available().Select(r => r.Silo).Distinct().Count() == 2, "elastic spread over two silos");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _repository.Dispose();
    }

    [Fact]
    public async Task StopSilo_UnderLoad_DrainsWithoutFailuresAndAJoiningSiloReceivesAReplica()
    {
        using var client = new GatewayClient(_cluster);
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = ClusterLoad.RunAsync(client, "elastic", clients: 8, clock, stop.Token);
        await _cluster.WaitUntilAsync(() => Task.FromResult(clock.Elapsed > TimeSpan.FromSeconds(2)), "2 s of load");

        await _cluster.StopAsync("silo2");
        var silo1 = await _cluster.SiloAddressAsync("silo1");
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("elastic"))?.Available() is { Count: 2 } r && r.All(x => x.Silo == silo1),
            "both replicas on silo1 after silo2 left");
        await stop.CancelAsync();
        var record = await load;
        output.WriteLine($"graceful stop under load: {record}");
        Assert.True(record.Failures.Count == 0, $"{record}\n{_cluster.Logs()}");

        // A silo that joins receives one of the two replicas doubled up on silo1.
        await _cluster.StartSiloAsync("silo3");
        var silo3 = await _cluster.SiloAddressAsync("silo3");
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("elastic"))?.Available() is { Count: 2 } r
            && r.Any(x => x.Silo == silo1) && r.Any(x => x.Silo == silo3), "one replica moved to the joining silo3");
        await client.PredictHalfPlusTwoAsync("elastic", 8);
    }

    [Fact]
    public async Task RestartEverySiloAndGateway_RegistryAndDeploymentOverrideSurvive()
    {
        using var put = await _cluster.Http.PutAsync("/v1/grid/models/plain/deployment", new StringContent("{\"replicas\": 3}"));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("plain"))?.Available().Count == 3, "plain with 3 replicas");

        await _cluster.ReplaceAllProcessesAsync("silo1b", "silo2b");

        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("plain"))?.Available().Count == 3, "plain back with 3 replicas");
        var plain = (await _cluster.GetModelAsync("plain"))!;
        Assert.Equal(3, plain.Replicas);
        Assert.Equal("admin", plain.Source);
        var models = (await _cluster.GetClusterAsync())!.Value.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Equal(["elastic", "plain"], models.Order());
        using var client = new GatewayClient(_cluster);
        await client.PredictHalfPlusTwoAsync("plain", 10);
    }
}
