using System.Diagnostics;
using Grid.Testing;

namespace Grid.EndToEnd.Tests.Cluster;

/// <summary>
/// Load-aware routing across real silos: one replica is deliberately slowed, and the gateway's
/// power-of-two-choices sends most requests to the other.
/// </summary>
/// <remarks>
/// The slow silo runs with batching whose batch never fills (max_batch_size 1000) and waits
/// 100 ms for it (batch_timeout_micros 100000), so each request there takes at least 100 ms,
/// against about a millisecond on the other silo. That is a real configuration, not a fault
/// injected for the test.
/// </remarks>
[Collection(ClusterCollection.Name)]
public sealed class RoutingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestRepository _repository = new TestRepository().AddHalfPlusTwo("routed", "instance_group { count: 2 }");
    private LocalCluster _cluster = null!;
    private GatewayClient _client = null!;

    public async Task InitializeAsync()
    {
        // A file at the repository's top level is not a model; the repository source skips it.
        var slowBatching = Path.Combine(_repository.Path, "slow-batching.pbtxt");
        File.WriteAllText(slowBatching, "max_batch_size { value: 1000 }\nbatch_timeout_micros { value: 100000 }\nmax_enqueued_batches { value: 100 }\nnum_batch_threads { value: 1 }\n");
        _cluster = await LocalCluster.StartAsync(_repository.Path);
        await _cluster.StartSiloAsync("fast");
        await _cluster.StartSiloAsync("slow", "--enable_batching", "--batching_parameters_file", slowBatching);
        await _cluster.StartGatewayAsync();
        await _cluster.WaitReadyAsync(2);
        _client = new GatewayClient(_cluster);
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("routed"))?.Available().Select(r => r.Silo).Distinct().Count() == 2, "one replica on each silo");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
        _repository.Dispose();
    }

    [Fact]
    public async Task Predict_OneReplicaSlowed_MostRequestsGoToTheOther()
    {
        var slowSilo = await _cluster.SiloAddressAsync("slow");
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));

        var record = await ClusterLoad.RunAsync(_client, "routed", clients: 8, clock, stop.Token);

        Assert.True(record.Failures.Count == 0, record.ToString());
        IReadOnlyList<ReplicaView> replicas = [];
        await _cluster.WaitUntilAsync(async () =>
        {
            replicas = (await _cluster.GetModelAsync("routed"))!.Available();
            return replicas.Sum(r => r.Served) >= record.Succeeded;
        }, "the replicas' served counts to catch up with the load");
        var slow = replicas.Single(r => r.Silo == slowSilo).Served;
        var fast = replicas.Single(r => r.Silo != slowSilo).Served;
        output.WriteLine($"{record.Succeeded} requests with 8 clients over 4 s: fast replica served {fast}, slowed replica {slow} ({100.0 * slow / (slow + fast):F1} %)");
        Assert.True(fast > 4 * slow, $"fast {fast}, slow {slow}");
        Assert.True(slow > 0, "the slowed replica should still get some requests when both are idle");
    }
}
