using System.Security.Cryptography;

namespace Grid.Bench.Processes;

/// <summary>
/// grid-cluster: a real two-process grid on 127.0.0.1, started for one configuration. A private
/// Redis holds the membership; one <c>grid silo</c> loads the models and one <c>grid gateway</c>
/// (an Orleans client) serves TF Serving's APIs in front of it, both under a fresh cluster id.
/// The load goes to the gateway's ports, so every request crosses gateway process → silo
/// process; there is no co-located fast path. Disposing stops all three with SIGTERM, and a
/// kill for any still running after <see cref="StopGrace"/>: gateway and silo first, Redis last.
/// </summary>
public sealed class ClusterServer : IBenchServer
{
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _redis;
    private readonly ChildProcess _silo;
    private readonly ChildProcess _gateway;

    private ClusterServer(ChildProcess redis, ChildProcess silo, ChildProcess gateway, int grpcPort, int restPort)
    {
        _redis = redis;
        _silo = silo;
        _gateway = gateway;
        GrpcPort = grpcPort;
        RestPort = restPort;
    }

    public string Name => "grid cluster (grid gateway → grid silo)";
    public int GrpcPort { get; }
    public int RestPort { get; }
    public string GrpcAddress => $"http://127.0.0.1:{GrpcPort}";
    public string RestAddress => $"http://127.0.0.1:{RestPort}";
    public bool HasExited => _redis.HasExited || _silo.HasExited || _gateway.HasExited;
    public string Tail => $"{_silo.Name}: {_silo.Tail} || {_gateway.Name}: {_gateway.Tail}";

    /// <summary>
    /// Starts Redis (and waits until it answers), then the silo serving <paramref name="repository"/>
    /// with <paramref name="siloArguments"/> appended, then the gateway. Throws
    /// <see cref="ServerStartException"/>, with whatever it started already stopped, if one cannot start.
    /// </summary>
    public static async Task<ClusterServer> StartAsync(string gridDll, string repository, IReadOnlyList<string> siloArguments,
        string workingDirectory, CancellationToken cancellationToken)
    {
        // Redis, Orleans silo-to-silo, Orleans client gateway, TF Serving gRPC, TF Serving REST.
        var ports = Ports.Free(5);
        var (redisPort, siloPort, orleansGatewayPort, grpcPort, restPort) = (ports[0], ports[1], ports[2], ports[3], ports[4]);
        var cluster = $"redis://127.0.0.1:{redisPort}";
        var clusterId = $"bench-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

        Directory.CreateDirectory(workingDirectory);
        var redis = await RedisServer.StartAsync(redisPort, Path.Combine(workingDirectory, "redis"), cancellationToken);
        ChildProcess? silo = null;
        try
        {
            silo = ChildProcess.Start("grid silo", "dotnet",
                [gridDll, "silo", "--cluster", cluster, "--cluster_id", clusterId,
                 "--silo_port", $"{siloPort}", "--gateway_port", $"{orleansGatewayPort}", "--advertised_address", "127.0.0.1",
                 "--model_repository", repository, "--file_system_poll_wait_seconds", "0", .. siloArguments],
                workingDirectory);
            var gateway = ChildProcess.Start("grid gateway", "dotnet",
                [gridDll, "gateway", "--cluster", cluster, "--cluster_id", clusterId,
                 "--host", "127.0.0.1", "--port", $"{grpcPort}", "--rest_api_port", $"{restPort}"],
                workingDirectory);
            return new ClusterServer(redis, silo, gateway, grpcPort, restPort);
        }
        catch
        {
            if (silo is not null)
            {
                await silo.DisposeAsync();
            }
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls the gateway, which answers only once it has joined the cluster and the silo has loaded the models.</summary>
    public Task WaitUntilAvailableAsync(IEnumerable<string> models, TimeSpan timeout, CancellationToken cancellationToken) =>
        AvailabilityProbe.WaitAsync(this, [_redis, _silo, _gateway], models, timeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_gateway.StopAsync(StopGrace), _silo.StopAsync(StopGrace));
        await _redis.StopAsync(StopGrace);
        await _gateway.DisposeAsync();
        await _silo.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
