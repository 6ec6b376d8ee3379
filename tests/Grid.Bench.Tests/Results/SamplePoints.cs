using Grid.Bench.Results;

namespace Grid.Bench.Tests.Results;

/// <summary>Hand-made points and reports for the pure renderers and calculators.</summary>
internal static class SamplePoints
{
    public static BenchPoint Closed(string config, string model, int concurrency, double rps, double p50 = 1, long errors = 0) => new()
    {
        Config = config,
        Model = model,
        Protocol = BenchProtocols.Grpc,
        Mode = BenchModes.Closed,
        Concurrency = concurrency,
        DurationSeconds = 1,
        Requests = (long)rps,
        ThroughputRps = rps,
        SamplesPerSecond = rps,
        P50Ms = rps > 0 ? p50 : null,
        P90Ms = rps > 0 ? p50 * 2 : null,
        P99Ms = rps > 0 ? p50 * 4 : null,
        Errors = errors,
        FirstError = errors > 0 ? "gRPC Unavailable: queue full" : null,
    };

    public static BenchPoint Onnx(string model, int batch, double samplesPerSecond) => new()
    {
        Config = BenchConfigs.Onnx,
        Model = model,
        Protocol = BenchProtocols.InProcess,
        Mode = BenchModes.Batch,
        BatchSize = batch,
        DurationSeconds = 1,
        Requests = (long)(samplesPerSecond / batch),
        ThroughputRps = samplesPerSecond / batch,
        SamplesPerSecond = samplesPerSecond,
        P50Ms = 1000.0 * batch / samplesPerSecond,
        P90Ms = 1000.0 * batch / samplesPerSecond,
        P99Ms = 1000.0 * batch / samplesPerSecond,
    };

    /// <summary>Raw libtorch on <paramref name="device"/>, as <see cref="Onnx"/>.</summary>
    public static BenchPoint Torch(string model, int batch, double samplesPerSecond, string device = BenchDevices.Cpu) =>
        Onnx(model, batch, samplesPerSecond) with { Config = BenchConfigs.Torch, Engine = BenchEngines.LibTorch, Device = device };

    /// <summary>A closed-loop point of <paramref name="config"/> served by libtorch on <paramref name="device"/>.</summary>
    public static BenchPoint ClosedTorch(string config, string model, int concurrency, double rps, string device = BenchDevices.Cpu, double p50 = 1) =>
        Closed(config, model, concurrency, rps, p50) with { Engine = BenchEngines.LibTorch, Device = device };

    /// <summary>Every point the seven ratios need.</summary>
    public static List<BenchPoint> Complete() =>
    [
        Onnx("convnet", 1, 200),
        Onnx("convnet", 16, 500),
        Onnx("convnet", 64, 450),
        Closed(BenchConfigs.GridBatching, "convnet", 64, 420),
        Closed(BenchConfigs.Empty, "fashion", 64, 10_000),
        Closed(BenchConfigs.Minimal, "fashion", 64, 5_000),
        Closed(BenchConfigs.Grid, "fashion", 64, 4_000),
        Closed(BenchConfigs.GridBatching, "fashion", 64, 7_000),
        Closed(BenchConfigs.Minimal, "fashion", 1, 3_000, p50: 0.2),
        Closed(BenchConfigs.Grid, "fashion", 1, 2_000, p50: 0.4),
        Closed(BenchConfigs.GridCluster, "fashion", 64, 2_000),
        Closed(BenchConfigs.GridCluster, "fashion", 1, 1_000, p50: 0.8),
    ];

    /// <summary>The settings of a run with both engines on both devices, for the two models and gRPC.</summary>
    public static RunSettings EngineSettings(IReadOnlyList<string>? configs = null) => new()
    {
        Quick = true,
        Models = ["fashion", "convnet"],
        Configs = configs ?? [BenchConfigs.Onnx, BenchConfigs.Torch, BenchConfigs.Grid, BenchConfigs.GridBatching],
        Protocols = [BenchProtocols.Grpc],
        Concurrency = [1, 64],
        BatchSizes = [1, 16],
        DurationSeconds = 1,
        WarmupSeconds = 0.25,
        GrpcChannels = 4,
        Engines = BenchEngines.All,
        Devices = BenchDevices.All,
    };

    public static BenchReport Report(List<BenchPoint> points, params BenchFailure[] failures) => new()
    {
        StartedAt = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero),
        WallSeconds = 42,
        Machine = new MachineInfo { CpuCount = 2, Os = "Linux", Dotnet = ".NET 10.0.0", Commit = "abc1234" },
        Settings = new RunSettings
        {
            Quick = true,
            Models = ["fashion", "convnet"],
            Configs = BenchConfigs.All,
            Protocols = [BenchProtocols.Grpc],
            Concurrency = [1, 64],
            BatchSizes = [1, 16, 64],
            DurationSeconds = 1,
            WarmupSeconds = 0.25,
            GrpcChannels = 4,
        },
        Points = points,
        Failures = failures.ToList(),
        Ratios = RatioCalculator.Compute(points),
    };
}
