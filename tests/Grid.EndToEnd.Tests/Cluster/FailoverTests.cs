using System.Diagnostics;
using Grid.Testing;
using Grpc.Core;

namespace Grid.EndToEnd.Tests.Cluster;

/// <summary>
/// A silo killed with SIGKILL under load: with two replicas the gateway retries in-flight and
/// later requests on the survivor, so no request fails; with one replica requests fail fast with
/// UNAVAILABLE until the replica is re-activated on the surviving silo.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestRepository _repository = new TestRepository()
        .AddHalfPlusTwo("two", "instance_group { count: 2 }")
        .AddHalfPlusTwo("one", "instance_group { count: 1 }");
    private LocalCluster _cluster = null!;
    private GatewayClient _client = null!;

    public async Task InitializeAsync()
    {
        _cluster = await LocalCluster.StartAsync(_repository.Path);
        await _cluster.StartSiloAsync("silo1");
        await _cluster.StartSiloAsync("silo2");
        await _cluster.StartGatewayAsync();
        await _cluster.WaitReadyAsync(2);
        _client = new GatewayClient(_cluster);
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("two"))?.Available().Select(r => r.Silo).Distinct().Count() == 2, "two replicas of 'two' on two silos");
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("one"))?.Available().Count == 1, "one replica of 'one'");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
        _repository.Dispose();
    }

    private async Task<string> SiloNameHostingAsync(string model)
    {
        var silo = (await _cluster.GetModelAsync(model))!.Available().First().Silo;
        foreach (var name in _cluster.SiloPorts.Keys)
        {
            if (await _cluster.SiloAddressAsync(name) == silo)
            {
                return name;
            }
        }
        throw new InvalidOperationException($"no started silo is {silo}");
    }

    [Fact]
    public async Task KillSilo_TwoReplicasUnderLoad_NoRequestFails()
    {
        var victim = await SiloNameHostingAsync("two");
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = ClusterLoad.RunAsync(_client, "two", clients: 8, clock, stop.Token);
        await _cluster.WaitUntilAsync(() => Task.FromResult(clock.Elapsed > TimeSpan.FromSeconds(3)), "3 s of load before the kill");

        var killedAt = clock.Elapsed;
        await _cluster.KillAsync(victim);
        // Load keeps running until the survivor has served for a while after the silo's death is declared.
        await _cluster.WaitUntilAsync(async () =>
        {
            var replicas = (await _cluster.GetModelAsync("two"))?.Available();
            return replicas is { Count: 2 } && replicas.All(r => !r.Silo.Contains($":{_cluster.SiloPorts[victim]}:", StringComparison.Ordinal));
        }, "both replicas re-placed on the surviving silo", TimeSpan.FromSeconds(60));
        var replacedAt = clock.Elapsed;
        await _cluster.WaitUntilAsync(() => Task.FromResult(clock.Elapsed > replacedAt + TimeSpan.FromSeconds(2)), "2 s of load after re-placement");
        await stop.CancelAsync();
        var record = await load;

        output.WriteLine($"2 replicas, kill -9 at {killedAt.TotalSeconds:F2} s, both replicas serving on the survivor at {replacedAt.TotalSeconds:F2} s: {record}");
        Assert.True(record.Failures.Count == 0, $"{record}\n{_cluster.Logs()}");
        Assert.True(record.Succeeded > 100, record.ToString());
    }

    [Fact]
    public async Task KillSilo_OneReplica_FailsFastWithUnavailableThenRecovers()
    {
        var victim = await SiloNameHostingAsync("one");
        await _client.PredictHalfPlusTwoAsync("one", 1);
        var clock = Stopwatch.StartNew();

        await _cluster.KillAsync(victim);
        var killedAt = clock.Elapsed;
        var failures = new List<(TimeSpan Latency, StatusCode Code, string Detail)>();
        TimeSpan? recoveredAt = null;
        while (recoveredAt is null && clock.Elapsed < killedAt + TimeSpan.FromSeconds(60))
        {
            var started = clock.Elapsed;
            try
            {
                await _client.PredictHalfPlusTwoAsync("one", 3);
                recoveredAt = clock.Elapsed;
            }
            catch (RpcException e)
            {
                failures.Add((clock.Elapsed - started, e.StatusCode, e.Status.Detail));
            }
        }

        var recovery = recoveredAt - killedAt;
        output.WriteLine($"1 replica: {failures.Count} requests failed before the first success, {recovery?.TotalMilliseconds:F0} ms after kill -9; slowest failure {failures.Select(f => f.Latency.TotalMilliseconds).DefaultIfEmpty().Max():F0} ms; codes {string.Join(",", failures.Select(f => f.Code).Distinct())}");
        Assert.True(recoveredAt is not null, $"no success within 60 s of the kill\n{_cluster.Logs()}");
        Assert.All(failures, f => Assert.Equal(StatusCode.Unavailable, f.Code));
        // Fail fast: no request waits for the silo to come back.
        Assert.All(failures, f => Assert.True(f.Latency < TimeSpan.FromSeconds(6), $"a failure took {f.Latency}: {f.Detail}"));
    }
}
