namespace Grid.Bench.Results;

/// <summary>Names shared by the points, the Markdown and the chart.</summary>
public static class BenchConfigs
{
    /// <summary>(a) raw ONNX Runtime in-process, batch sweep: the compute limit.</summary>
    public const string Onnx = "onnx";

    /// <summary>(b) a Kestrel gRPC server that answers a precomputed response: the transport limit.</summary>
    public const string Empty = "empty";

    /// <summary>(c) a minimal Kestrel server calling ONNX Runtime per request: what a .NET user would write.</summary>
    public const string Minimal = "minimal";

    /// <summary>(d) the real <c>grid serve</c>, batching off.</summary>
    public const string Grid = "grid";

    /// <summary>(e) <c>grid serve --enable_batching</c>.</summary>
    public const string GridBatching = "grid-batching";

    /// <summary>
    /// (f) Redis, one <c>grid silo</c> and one <c>grid gateway</c> in three processes, batching
    /// off: the cost of the gateway → silo hop against <see cref="Grid"/>.
    /// </summary>
    public const string GridCluster = "grid-cluster";

    /// <summary>All six, in the order they run and are shown.</summary>
    public static readonly IReadOnlyList<string> All = [Onnx, Empty, Minimal, Grid, GridBatching, GridCluster];

    /// <summary>The five that are servers driven over the network, in order.</summary>
    public static readonly IReadOnlyList<string> Servers = [Empty, Minimal, Grid, GridBatching, GridCluster];

    /// <summary>The ones that run grid.dll (and need it built).</summary>
    public static readonly IReadOnlyList<string> UsingGrid = [Grid, GridBatching, GridCluster];
}

public static class BenchProtocols
{
    public const string Grpc = "grpc";
    public const string Rest = "rest";
    public const string InProcess = "in-process";

    public static readonly IReadOnlyList<string> Network = [Grpc, Rest];

    public static string Display(string protocol) => protocol switch
    {
        Grpc => "gRPC",
        Rest => "REST",
        _ => protocol,
    };
}

public static class BenchModes
{
    /// <summary>N clients, each sends its next request when the previous one answers.</summary>
    public const string Closed = "closed";

    /// <summary>Requests issued on a fixed schedule, whatever the answers do.</summary>
    public const string Open = "open";

    /// <summary>Raw ONNX Runtime, one batch per run.</summary>
    public const string Batch = "batch";
}

/// <summary>
/// One measured point. Latencies are in milliseconds; <see cref="Requests"/> counts successful
/// answers inside the measured window. Errors are counted, never dropped from the record.
/// </summary>
public sealed record BenchPoint
{
    public required string Config { get; init; }
    public required string Model { get; init; }
    public required string Protocol { get; init; }
    public required string Mode { get; init; }

    /// <summary>Closed loop: concurrent clients.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Open loop: scheduled requests per second.</summary>
    public double? Rate { get; init; }

    /// <summary>Samples per request: 1 for every network point, the batch size for raw ONNX.</summary>
    public int BatchSize { get; init; } = 1;

    public double DurationSeconds { get; init; }
    public long Requests { get; init; }
    public double ThroughputRps { get; init; }
    public double SamplesPerSecond { get; init; }
    public double? P50Ms { get; init; }
    public double? P90Ms { get; init; }
    public double? P99Ms { get; init; }
    public double? MaxMs { get; init; }
    public long Errors { get; init; }

    /// <summary>Open loop: scheduled requests not sent because too many were outstanding.</summary>
    public long Dropped { get; init; }

    /// <summary>
    /// Open loop: p99 of how late the sender issued measured requests after their due time
    /// (already included in the latencies); a large value means the load generator, not the
    /// server, fell behind.
    /// </summary>
    public double? SendLagP99Ms { get; init; }

    /// <summary>The first error's message, so a failing point says why.</summary>
    public string? FirstError { get; init; }

    /// <summary>Short description of the load: "c=64", "500 req/s", "batch 16".</summary>
    public string Load => Mode switch
    {
        BenchModes.Closed => $"c={Concurrency}",
        BenchModes.Open => $"{Rate?.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} req/s",
        _ => $"batch {BatchSize}",
    };
}

/// <summary>A configuration that could not be measured (for example its server did not start).</summary>
public sealed record BenchFailure(string Config, string Reason);

/// <summary>Where and on what the run happened.</summary>
public sealed record MachineInfo
{
    public int CpuCount { get; init; }
    public string? CpuModel { get; init; }
    public string Os { get; init; } = "";
    public string Dotnet { get; init; } = "";
    public string? Commit { get; init; }
    public string? OnnxRuntime { get; init; }

    /// <summary>
    /// Share of the machine's CPU time (0–1) that was busy, or stolen by the hypervisor, in
    /// the half second before the run started, while the benchmark itself was idle: other
    /// work on the machine skews every figure.
    /// </summary>
    public double? CpuBusyBeforeRun { get; init; }
}

/// <summary>How the run was set up, recorded with the results.</summary>
public sealed record RunSettings
{
    public bool Quick { get; init; }
    public IReadOnlyList<string> Models { get; init; } = [];
    public IReadOnlyList<string> Configs { get; init; } = [];
    public IReadOnlyList<string> Protocols { get; init; } = [];
    public IReadOnlyList<int> Concurrency { get; init; } = [];
    public IReadOnlyList<int> BatchSizes { get; init; } = [];
    public double DurationSeconds { get; init; }
    public double WarmupSeconds { get; init; }
    public IReadOnlyDictionary<string, double> OpenLoopRates { get; init; } = new Dictionary<string, double>();
    public int MaxOutstanding { get; init; }
    public int GrpcChannels { get; init; }
    public string BatchingParameters { get; init; } = "";

    /// <summary>Extra <c>grid serve</c> flags grid and grid-batching ran with, and grid-cluster's silo.</summary>
    public IReadOnlyList<string> GridArgs { get; init; } = [];
}

/// <summary>Everything one run produced: written as results.json, rendered as results.md and throughput.png.</summary>
public sealed record BenchReport
{
    public DateTimeOffset StartedAt { get; init; }
    public double WallSeconds { get; set; }
    public required MachineInfo Machine { get; init; }
    public required RunSettings Settings { get; init; }
    public List<BenchPoint> Points { get; init; } = [];
    public List<BenchFailure> Failures { get; init; } = [];
    public List<Ratio> Ratios { get; set; } = [];
}
