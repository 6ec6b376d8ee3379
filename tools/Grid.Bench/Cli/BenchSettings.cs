using System.Globalization;
using Grid.Bench.Results;

namespace Grid.Bench.Cli;

/// <summary>One run's settings, after defaults for the mode are applied and the options validated.</summary>
public sealed record BenchSettings
{
    /// <summary>TF Serving's batching_parameters text format; written to a temp file for grid-batching.</summary>
    public const string DefaultBatchingParameters =
        "max_batch_size { value: 32 }\nbatch_timeout_micros { value: 0 }\nmax_enqueued_batches { value: 100 }\nnum_batch_threads { value: 1 }\n";

    public const int DefaultGrpcChannels = 4;
    public const int DefaultMaxOutstanding = 1024;

    public static readonly IReadOnlyList<int> QuickConcurrency = [1, 64];
    public static readonly IReadOnlyList<int> FullConcurrency = [1, 4, 16, 64, 128];
    public static readonly IReadOnlyList<int> QuickBatchSizes = [1, 16, 64, 256];
    public static readonly IReadOnlyList<int> FullBatchSizes = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    // Quick: 40 network points of 1 s (warm-up included) plus the ONNX sweep, four server
    // start-ups and one three-process cluster stay around a minute on 2 cores; open-loop
    // points only when --rate is given.
    public const double QuickDurationSeconds = 0.75;
    public const double QuickWarmupSeconds = 0.25;
    public const double FullDurationSeconds = 5;
    public const double FullWarmupSeconds = 1;

    public bool Quick { get; init; }
    public required IReadOnlyList<BenchModel> Models { get; init; }
    public required IReadOnlyList<string> Configs { get; init; }
    public required IReadOnlyList<string> Protocols { get; init; }
    public required IReadOnlyList<int> Concurrency { get; init; }
    public required IReadOnlyList<int> BatchSizes { get; init; }

    /// <summary>Measured seconds per point (network points and raw ONNX batch sizes alike).</summary>
    public double DurationSeconds { get; init; }

    /// <summary>Unmeasured seconds before each point.</summary>
    public double WarmupSeconds { get; init; }

    /// <summary>Open-loop rate for every model; null: each model's default; 0: no open-loop points.</summary>
    public double? Rate { get; init; }
    public int MaxOutstanding { get; init; } = DefaultMaxOutstanding;
    public int GrpcChannels { get; init; } = DefaultGrpcChannels;
    public string BatchingParameters { get; init; } = DefaultBatchingParameters;

    /// <summary>Extra <c>grid serve</c> flags for grid and grid-batching, and for grid-cluster's <c>grid silo</c>.</summary>
    public IReadOnlyList<string> GridArgs { get; init; } = [];
    public required string OutputDirectory { get; init; }
    public required string Examples { get; init; }

    /// <summary>Where imported models (<see cref="BenchModel.SavedModel"/>) are copied from.</summary>
    public string SavedModels { get; init; } = Locations.DefaultSavedModels();
    public required string GridDll { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Engines the grid configurations run on, in the order of <see cref="BenchEngines.All"/>.</summary>
    public IReadOnlyList<string> Engines { get; init; } = [BenchEngines.OnnxRuntime];

    /// <summary>Devices for the engines that can choose (libtorch), and for raw <c>torch</c>.</summary>
    public IReadOnlyList<string> Devices { get; init; } = [BenchDevices.Cpu];

    /// <summary>A host libtorch directory: <c>--libtorch_path</c> for grid, and what raw <c>torch</c> loads; null: the bundled CPU build.</summary>
    public string? LibTorchPath { get; init; }

    /// <summary>The (engine, device) pairs each grid configuration runs on.</summary>
    public IReadOnlyList<EngineVariant> Variants => EngineVariant.Combine(Engines, Devices);

    /// <summary>Raw libtorch's devices: every device given (libtorch runs on both).</summary>
    public IReadOnlyList<string> TorchDevices => Configs.Contains(BenchConfigs.Torch) ? BenchDevices.All.Where(Devices.Contains).ToList() : [];

    /// <summary>Devices raw <c>onnx</c> sweeps: always the CPU, and each other device of <see cref="Devices"/>.</summary>
    public IReadOnlyList<string> OnnxDevices => Configs.Contains(BenchConfigs.Onnx) ? BenchDevices.All.Where(d => d == BenchDevices.Cpu || Devices.Contains(d)).ToList() : [];

    /// <summary>The network series in the order they run: each server config, the grid ones once per variant.</summary>
    public IReadOnlyList<string> ServerSeries => BenchSeries.Servers(Configs, Variants);

    public double RateFor(BenchModel model) => Rate ?? model.DefaultRate;

    public RunSettings ToRecord() => new()
    {
        Quick = Quick,
        Models = Models.Select(m => m.Name).ToList(),
        Configs = Configs,
        Protocols = Protocols,
        Concurrency = Concurrency,
        BatchSizes = BatchSizes,
        DurationSeconds = DurationSeconds,
        WarmupSeconds = WarmupSeconds,
        OpenLoopRates = Models.ToDictionary(m => m.Name, RateFor),
        MaxOutstanding = MaxOutstanding,
        GrpcChannels = GrpcChannels,
        BatchingParameters = BatchingParameters,
        GridArgs = GridArgs,
        Engines = Engines,
        Devices = Devices,
        LibTorchPath = LibTorchPath,
    };

    /// <summary>Points the run will measure, for the progress counter.</summary>
    public int PlannedPoints()
    {
        var onnx = OnnxDevices.Count * Models.Count * BatchSizes.Count;
        var torch = TorchDevices.Count * Models.Count * BatchSizes.Count;
        var perProtocol = Models.Sum(m => Concurrency.Count + (RateFor(m) > 0 ? 1 : 0));
        return onnx + torch + ServerSeries.Count * Protocols.Count * perProtocol;
    }

    /// <summary>Parses "a,b,c" into the known names, or says which is unknown.</summary>
    public static (List<string>? Values, string? Error) ParseNames(string option, string text, IReadOnlyList<string> known)
    {
        var values = Split(text);
        if (values.Count == 0)
        {
            return (null, $"{option} needs at least one of {string.Join(", ", known)}");
        }
        foreach (var v in values)
        {
            if (!known.Contains(v))
            {
                return (null, $"{option}: unknown '{v}' (expected some of {string.Join(", ", known)})");
            }
        }
        return (values.Distinct().OrderBy(v => IndexOf(known, v)).ToList(), null);
    }

    /// <summary>
    /// The configurations when <c>--configs</c> is not given: every one, raw <c>torch</c> only
    /// when <paramref name="engines"/> includes pytorch_libtorch (so a run without engine options
    /// is the run it was before they existed).
    /// </summary>
    public static List<string> DefaultConfigs(IReadOnlyList<string> engines) =>
        BenchConfigs.All.Where(c => c != BenchConfigs.Torch || engines.Contains(BenchEngines.LibTorch)).ToList();

    /// <summary>
    /// Checks that the engines, devices and configurations make a run: a grid configuration needs
    /// at least one (engine, device) pair that exists, and a GPU asked for must be used by
    /// something (the CPU always is). Returns the error, or null.
    /// </summary>
    public static string? CheckEngines(IReadOnlyList<string> configs, IReadOnlyList<string> engines, IReadOnlyList<string> devices)
    {
        var variants = EngineVariant.Combine(engines, devices);
        var grid = configs.Where(BenchConfigs.PerEngine.Contains).ToList();
        if (grid.Count > 0 && variants.Count == 0)
        {
            return $"--engines {string.Join(",", engines)} --devices {string.Join(",", devices)}: no engine runs on those devices for {string.Join(", ", grid)} "
                   + $"({string.Join("; ", engines.Select(e => $"{e} runs on {string.Join(" and ", BenchEngines.DevicesOf(e))}"))})";
        }
        foreach (var device in devices.Where(d => d != BenchDevices.Cpu))
        {
            var used = (grid.Count > 0 && variants.Any(v => v.Device == device)) || configs.Contains(BenchConfigs.Torch) || configs.Contains(BenchConfigs.Onnx);
            if (!used)
            {
                return $"--devices {device}: nothing selected runs on {device} "
                       + $"(add a grid configuration, or {BenchConfigs.Onnx} or {BenchConfigs.Torch} to --configs)";
            }
        }
        return null;
    }

    /// <summary>Parses "1,4,16" into distinct ascending positive integers no larger than <paramref name="max"/>.</summary>
    public static (List<int>? Values, string? Error) ParseInts(string option, string text, int max)
    {
        var values = new List<int>();
        foreach (var part in Split(text))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1 || v > max)
            {
                return (null, $"{option}: '{part}' is not an integer between 1 and {max}");
            }
            values.Add(v);
        }
        if (values.Count == 0)
        {
            return (null, $"{option} needs at least one value");
        }
        return (values.Distinct().Order().ToList(), null);
    }

    private static List<string> Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }
        return -1;
    }
}
