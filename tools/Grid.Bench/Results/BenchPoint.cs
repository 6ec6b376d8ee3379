namespace Grid.Bench.Results;

/// <summary>Names shared by the points, the Markdown and the chart.</summary>
public static class BenchConfigs
{
    /// <summary>(a) raw ONNX Runtime in-process, batch sweep: the compute limit.</summary>
    public const string Onnx = "onnx";

    /// <summary>
    /// Raw libtorch in-process, batch sweep, once per device: the compute limit of the libtorch
    /// engine (series <c>torch-cpu</c>, <c>torch-gpu</c>).
    /// </summary>
    public const string Torch = "torch";

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

    /// <summary>All seven, in the order they run and are shown.</summary>
    public static readonly IReadOnlyList<string> All = [Onnx, Torch, Empty, Minimal, Grid, GridBatching, GridCluster];

    /// <summary>
    /// What runs when <c>--configs</c> is not given and <c>--engines</c> does not include
    /// pytorch_libtorch: every configuration but <see cref="Torch"/> (the run before engines could be chosen).
    /// </summary>
    public static readonly IReadOnlyList<string> Default = [Onnx, Empty, Minimal, Grid, GridBatching, GridCluster];

    /// <summary>The two measured in the benchmark process, no server running.</summary>
    public static readonly IReadOnlyList<string> InProcess = [Onnx, Torch];

    /// <summary>The five that are servers driven over the network, in order.</summary>
    public static readonly IReadOnlyList<string> Servers = [Empty, Minimal, Grid, GridBatching, GridCluster];

    /// <summary>The ones that run grid.dll (and need it built).</summary>
    public static readonly IReadOnlyList<string> UsingGrid = [Grid, GridBatching, GridCluster];

    /// <summary>The ones run once per (engine, device) variant: the model repository decides Grid's engine and device.</summary>
    public static readonly IReadOnlyList<string> PerEngine = [Grid, GridBatching, GridCluster];
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

    /// <summary>Raw ONNX Runtime or libtorch in-process, one batch per run.</summary>
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

    /// <summary>
    /// The engine that inferred (Triton platform name: onnxruntime_onnx, pytorch_libtorch);
    /// null for the empty server, which infers nothing.
    /// </summary>
    public string? Engine { get; init; }

    /// <summary>cpu or gpu; null with <see cref="Engine"/>.</summary>
    public string? Device { get; init; }

    /// <summary>Config, engine and device in one name: grid, grid+torch-cpu, torch-gpu (see <see cref="BenchSeries"/>).</summary>
    public string Series => BenchSeries.Name(Config, Engine, Device);

    /// <summary>Closed loop: concurrent clients.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Open loop: scheduled requests per second.</summary>
    public double? Rate { get; init; }

    /// <summary>Samples per request: 1 for every network point, the batch size for raw ONNX Runtime and libtorch.</summary>
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

    /// <summary>One in-process batch-sweep point: <paramref name="latencies"/> holds one entry per whole batch run.</summary>
    public static BenchPoint RawBatch(string config, string engine, string device, string model, int batch, double elapsedSeconds, List<double> latencies)
    {
        var summary = LatencySummary.FromUnsorted(latencies.ToArray());
        return new BenchPoint
        {
            Config = config,
            Engine = engine,
            Device = device,
            Model = model,
            Protocol = BenchProtocols.InProcess,
            Mode = BenchModes.Batch,
            BatchSize = batch,
            DurationSeconds = elapsedSeconds,
            Requests = latencies.Count,
            ThroughputRps = latencies.Count / elapsedSeconds,
            SamplesPerSecond = (double)latencies.Count * batch / elapsedSeconds,
            P50Ms = summary.P50Ms,
            P90Ms = summary.P90Ms,
            P99Ms = summary.P99Ms,
            MaxMs = summary.MaxMs,
        };
    }
}

/// <summary>
/// A configuration that could not be measured (for example its server did not start, or it
/// needs a GPU the machine does not offer). <see cref="Engine"/> and <see cref="Device"/> say
/// which variant of a grid configuration, or which device of raw libtorch, failed.
/// </summary>
public sealed record BenchFailure(string Config, string Reason)
{
    public string? Engine { get; init; }
    public string? Device { get; init; }

    public string Series => BenchSeries.Name(Config, Engine, Device);
}

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
    /// libtorch as the benchmark process loaded it (raw <c>torch</c> and the GPU check): where
    /// from, its CPU threads, and whether CUDA was usable; null when nothing needed libtorch.
    /// </summary>
    public string? LibTorch { get; set; }

    /// <summary>What ONNX Runtime's CUDA provider found in grid-bench; null when no ONNX Runtime GPU series was asked for.</summary>
    public string? OnnxCuda { get; set; }

    /// <summary>NVIDIA GPUs the kernel driver lists (their model names), whatever libtorch can use.</summary>
    public IReadOnlyList<string> Gpus { get; init; } = [];

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

    /// <summary>Engines the grid configurations ran on (Triton platform names).</summary>
    public IReadOnlyList<string> Engines { get; init; } = [BenchEngines.OnnxRuntime];

    /// <summary>Devices for the engines that have a choice, and for raw libtorch.</summary>
    public IReadOnlyList<string> Devices { get; init; } = [BenchDevices.Cpu];

    /// <summary>The host libtorch directory given to grid (<c>--libtorch_path</c>) and loaded by raw libtorch; null: the bundled CPU build.</summary>
    public string? LibTorchPath { get; init; }

    /// <summary>Each (engine, device) pair that exists among <see cref="Engines"/> × <see cref="Devices"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public List<EngineVariant> Variants => EngineVariant.Combine(Engines, Devices);
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
