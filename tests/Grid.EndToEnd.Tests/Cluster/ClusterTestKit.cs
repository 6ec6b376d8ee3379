using System.Diagnostics;
using Grid.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.Cluster;

/// <summary>
/// The cluster tests share one collection: each starts its own Redis, silos and gateway, and
/// their kill and timing checks should not compete with one another for the machine's cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}

/// <summary>A model repository in a temporary directory, built from the example models.</summary>
public sealed class TestRepository : IDisposable
{
    private readonly TempDirectory _dir = new();

    public string Path => _dir.Path;

    /// <summary>Copies <c>half_plus_two</c> (y = 0.5x + 2) as <paramref name="name"/>, with an optional config.pbtxt.</summary>
    public TestRepository AddHalfPlusTwo(string name, string? config = null)
    {
        TempDirectory.CopyDirectory(System.IO.Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123"), System.IO.Path.Combine(Path, name, "1"));
        if (config is not null)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, name, "config.pbtxt"), config);
        }
        return this;
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>TF Serving gRPC calls against a cluster's gateway.</summary>
public sealed class GatewayClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public GatewayClient(LocalCluster cluster)
    {
        _channel = GrpcChannel.ForAddress(cluster.GrpcAddress);
        Predictions = new PredictionService.PredictionServiceClient(_channel);
    }

    public PredictionService.PredictionServiceClient Predictions { get; }

    /// <summary>Predicts y = 0.5x + 2 on a half_plus_two copy and checks the answer.</summary>
    public async Task PredictHalfPlusTwoAsync(string model, float x, TimeSpan? deadline = null)
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = model } };
        request.Inputs["x"] = new TensorProto
        {
            Dtype = DataType.DtFloat,
            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 }, new TensorShapeProto.Types.Dim { Size = 1 } } },
            FloatVal = { x },
        };
        var response = await Predictions.PredictAsync(request, deadline: DateTime.UtcNow.Add(deadline ?? TimeSpan.FromSeconds(30)))
            .ResponseAsync.WaitAsync(TimeSpan.FromSeconds(40));
        var y = response.Outputs["y"].FloatVal[0];
        if (Math.Abs(y - (0.5f * x + 2)) > 1e-5)
        {
            throw new InvalidOperationException($"{model}: predicted {y} for x = {x}, expected {0.5f * x + 2}");
        }
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>What a closed-loop load run saw: every request's outcome, in order of completion.</summary>
public sealed class LoadRecord
{
    private readonly List<(double AtSeconds, double LatencyMs, StatusCode Code, string Error)> _outcomes = [];

    public int Succeeded => _outcomes.Count(o => o.Code == StatusCode.OK);

    public IReadOnlyList<(double AtSeconds, double LatencyMs, StatusCode Code, string Error)> Failures
        => _outcomes.Where(o => o.Code != StatusCode.OK).ToList();

    public double MaxLatencyMs => _outcomes.Count == 0 ? 0 : _outcomes.Max(o => o.LatencyMs);

    public void Add(double at, double latencyMs, StatusCode code, string error)
    {
        lock (_outcomes)
        {
            _outcomes.Add((at, latencyMs, code, error));
        }
    }

    public override string ToString()
        => $"{Succeeded} succeeded, {Failures.Count} failed, max latency {MaxLatencyMs:F0} ms"
           + string.Concat(Failures.Take(5).Select(f => $"\n  at {f.AtSeconds:F2} s: {f.Code} {f.Error}"));
}

public static class ClusterLoad
{
    /// <summary>
    /// Runs <paramref name="clients"/> closed-loop gRPC clients on <paramref name="model"/> until
    /// <paramref name="stop"/> is cancelled, recording each request's outcome. Timing is measured
    /// from <paramref name="clock"/>.
    /// </summary>
    public static async Task<LoadRecord> RunAsync(GatewayClient client, string model, int clients, Stopwatch clock, CancellationToken stop)
    {
        var record = new LoadRecord();
        var workers = Enumerable.Range(0, clients).Select(async i =>
        {
            var x = (float)i;
            while (!stop.IsCancellationRequested)
            {
                var started = clock.Elapsed;
                try
                {
                    await client.PredictHalfPlusTwoAsync(model, x);
                    record.Add(clock.Elapsed.TotalSeconds, (clock.Elapsed - started).TotalMilliseconds, StatusCode.OK, "");
                }
                catch (RpcException e)
                {
                    record.Add(clock.Elapsed.TotalSeconds, (clock.Elapsed - started).TotalMilliseconds, e.StatusCode, e.Status.Detail);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    record.Add(clock.Elapsed.TotalSeconds, (clock.Elapsed - started).TotalMilliseconds, StatusCode.Internal, e.Message);
                }
            }
        }).ToList();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(3));
        return record;
    }
}
