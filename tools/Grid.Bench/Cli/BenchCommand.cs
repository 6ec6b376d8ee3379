using System.CommandLine;
using System.Globalization;
using Grid.Bench.Results;

namespace Grid.Bench.Cli;

/// <summary>The root command: parses and validates the options, then runs <see cref="BenchRunner"/>.</summary>
public static class BenchCommand
{
    /// <summary>grid's own variable for --libtorch_path; the default here too.</summary>
    public const string LibTorchPathVariable = Grid.Engines.LibTorch.LibTorchRuntime.EnvironmentVariable;

    public static RootCommand Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Short points and fewer of them: a smoke run in under a minute." };
        var models = new Option<string>("--models") { Description = $"Models to drive, comma-separated: {string.Join(", ", BenchModel.All.Select(m => m.Name))}.", DefaultValueFactory = _ => string.Join(",", BenchModel.Defaults.Select(m => m.Name)) };
        var configs = new Option<string?>("--configs") { Description = $"Configurations, comma-separated: {string.Join(", ", BenchConfigs.All)} (default: all; {BenchConfigs.Torch} only when --engines includes {BenchEngines.LibTorch})." };
        var engines = new Option<string>("--engines") { Description = $"Engines the grid configurations (grid, grid-batching, grid-cluster) run on, each on every device of --devices it supports, comma-separated: {BenchEngines.OnnxRuntime} (cpu, gpu), {BenchEngines.LibTorch} (cpu, gpu; serves the models' TorchScript twins).", DefaultValueFactory = _ => BenchEngines.OnnxRuntime };
        var devices = new Option<string>("--devices") { Description = $"Devices for the engines and for raw {BenchConfigs.Onnx} and {BenchConfigs.Torch}, comma-separated: cpu, gpu (raw {BenchConfigs.Onnx} always sweeps the CPU too; ONNX Runtime on a GPU needs a GridOnnxRuntime=cuda build and the CUDA libraries beside --libtorch_path's PyTorch install, or GRID_CUDA_LIBRARY_PATH).", DefaultValueFactory = _ => BenchDevices.Cpu };
        var libtorchPath = new Option<string?>("--libtorch_path") { Description = "A host libtorch lib directory (a CUDA build, for gpu): passed to grid as --libtorch_path and loaded by raw torch. Default: $GRID_LIBTORCH_PATH, else the bundled CPU build." };
        var protocols = new Option<string>("--protocols") { Description = "Protocols, comma-separated: grpc, rest.", DefaultValueFactory = _ => string.Join(",", BenchProtocols.Network) };
        var concurrency = new Option<string?>("--concurrency") { Description = $"Closed-loop client counts, comma-separated (default {string.Join(",", BenchSettings.FullConcurrency)}; quick {string.Join(",", BenchSettings.QuickConcurrency)})." };
        var batchSizes = new Option<string?>("--batch_sizes") { Description = $"Raw batch sizes, for onnx and torch (default {string.Join(",", BenchSettings.FullBatchSizes)}; quick {string.Join(",", BenchSettings.QuickBatchSizes)})." };
        var duration = new Option<double?>("--duration") { Description = $"Measured seconds per point (default {BenchSettings.FullDurationSeconds}; quick {BenchSettings.QuickDurationSeconds})." };
        var warmup = new Option<double?>("--warmup") { Description = $"Warm-up seconds before each point (default {BenchSettings.FullWarmupSeconds}; quick {BenchSettings.QuickWarmupSeconds})." };
        var rate = new Option<double?>("--rate") { Description = $"Open-loop requests per second for every model (default per model: {string.Join(", ", BenchModel.All.Select(m => $"{m.Name} {m.DefaultRate}"))}; quick: 0); 0 skips the open-loop points." };
        var maxOutstanding = new Option<int>("--max_outstanding") { Description = "Open loop: requests in flight at most; a request due beyond that is dropped and counted.", DefaultValueFactory = _ => BenchSettings.DefaultMaxOutstanding };
        var channels = new Option<int>("--grpc_channels") { Description = "gRPC channels (HTTP/2 connections) per point: min(clients, this).", DefaultValueFactory = _ => BenchSettings.DefaultGrpcChannels };
        var batching = new Option<string>("--batching_parameters") { Description = "grid-batching's batching_parameters file content (TF Serving text format).", DefaultValueFactory = _ => BenchSettings.DefaultBatchingParameters };
        var output = new Option<string?>("--out") { Description = "Output folder (default artifacts/bench/<timestamp>/)." };
        var examples = new Option<string?>("--examples") { Description = "Model repository to copy the models from (default examples/models)." };
        var savedModels = new Option<string?>("--savedmodels") { Description = "Directory of TensorFlow SavedModels for the imported models (fashion_cnn; default ../shared/fixtures/savedmodels beside the repository)." };
        var gridArgs = new Option<string>("--grid_args") { Description = "Extra `grid serve` flags for grid and grid-batching, and `grid silo` flags for grid-cluster's silo, space-separated (e.g. \"--tensorflow_intra_op_parallelism 1\").", DefaultValueFactory = _ => "" };
        var gridDll = new Option<string?>("--grid_dll") { Description = "The grid executable to benchmark (default: the grid.dll built with grid-bench)." };
        var startTimeout = new Option<double>("--start_timeout") { Description = "Seconds a server (for grid-cluster: its gateway) may take to report its models AVAILABLE.", DefaultValueFactory = _ => 120 };

        var root = new RootCommand("grid-bench: batch-1 Predict throughput and latency of Grid (in one process, and as gateway → silo cluster; on ONNX Runtime or libtorch, CPU or GPU) against raw ONNX Runtime and libtorch, an empty gRPC server and a minimal hand-written server.")
        {
            quick, models, configs, protocols, concurrency, batchSizes, duration, warmup, rate, maxOutstanding, channels, batching,
            output, examples, savedModels, gridDll, gridArgs, startTimeout, engines, devices, libtorchPath,
            Servers.ServerCommand.Create(),
        };
        root.SetAction(async (result, cancellationToken) =>
        {
            var isQuick = result.GetValue(quick);
            var started = DateTimeOffset.Now;
            var (modelNames, error) = BenchSettings.ParseNames("--models", result.GetValue(models)!, BenchModel.All.Select(m => m.Name).ToList());
            if (error is not null)
            {
                return Program.Fail(error);
            }
            (var engineNames, error) = BenchSettings.ParseNames("--engines", result.GetValue(engines)!, BenchEngines.All);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            (var deviceNames, error) = BenchSettings.ParseNames("--devices", result.GetValue(devices)!, BenchDevices.All);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            var configText = result.GetValue(configs);
            (var configNames, error) = configText is null
                ? (BenchSettings.DefaultConfigs(engineNames!), null)
                : BenchSettings.ParseNames("--configs", configText, BenchConfigs.All);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            error = BenchSettings.CheckEngines(configNames!, engineNames!, deviceNames!);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            (var protocolNames, error) = BenchSettings.ParseNames("--protocols", result.GetValue(protocols)!, BenchProtocols.Network);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            var concurrencyText = result.GetValue(concurrency) ?? string.Join(",", isQuick ? BenchSettings.QuickConcurrency : BenchSettings.FullConcurrency);
            (var concurrencyValues, error) = BenchSettings.ParseInts("--concurrency", concurrencyText, 10_000);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            var batchText = result.GetValue(batchSizes) ?? string.Join(",", isQuick ? BenchSettings.QuickBatchSizes : BenchSettings.FullBatchSizes);
            (var batchValues, error) = BenchSettings.ParseInts("--batch_sizes", batchText, 65_536);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            var durationSeconds = result.GetValue(duration) ?? (isQuick ? BenchSettings.QuickDurationSeconds : BenchSettings.FullDurationSeconds);
            if (!(durationSeconds > 0) || durationSeconds > 3600)
            {
                return Program.Fail($"--duration must be in (0, 3600] seconds, got {durationSeconds.ToString(CultureInfo.InvariantCulture)}");
            }
            var warmupSeconds = result.GetValue(warmup) ?? (isQuick ? BenchSettings.QuickWarmupSeconds : BenchSettings.FullWarmupSeconds);
            if (!(warmupSeconds >= 0) || warmupSeconds > 3600)
            {
                return Program.Fail($"--warmup must be in [0, 3600] seconds, got {warmupSeconds.ToString(CultureInfo.InvariantCulture)}");
            }
            var rateValue = result.GetValue(rate) ?? (isQuick ? 0 : null);
            if (rateValue is { } r && (!(r >= 0) || r > 1_000_000))
            {
                return Program.Fail($"--rate must be in [0, 1000000] requests per second, got {r.ToString(CultureInfo.InvariantCulture)}");
            }
            if (result.GetValue(maxOutstanding) < 1)
            {
                return Program.Fail($"--max_outstanding must be at least 1, got {result.GetValue(maxOutstanding)}");
            }
            if (result.GetValue(channels) is < 1 or > 1024)
            {
                return Program.Fail($"--grpc_channels must be between 1 and 1024, got {result.GetValue(channels)}");
            }
            var timeout = result.GetValue(startTimeout);
            if (!(timeout > 0))
            {
                return Program.Fail($"--start_timeout must be positive, got {timeout.ToString(CultureInfo.InvariantCulture)}");
            }
            var examplesDir = result.GetValue(examples) ?? Locations.DefaultExamples();
            var savedModelsDir = result.GetValue(savedModels) ?? Locations.DefaultSavedModels();
            var selected = modelNames!.Select(n => BenchModel.Find(n)!).ToList();
            foreach (var m in selected)
            {
                if (!File.Exists(m.SourceModelFile(examplesDir, savedModelsDir)))
                {
                    return Program.Fail($"model {m.Name} not found: no {m.SourceModelFile(examplesDir, savedModelsDir)}");
                }
            }
            var needsTorch = configNames!.Contains(BenchConfigs.Torch)
                             || (configNames!.Any(BenchConfigs.PerEngine.Contains) && engineNames!.Contains(BenchEngines.LibTorch));
            foreach (var m in selected.Where(_ => needsTorch))
            {
                if (!File.Exists(m.TorchModelFile(examplesDir)))
                {
                    return Program.Fail($"model {m.Name} has no TorchScript twin: no {m.TorchModelFile(examplesDir)}");
                }
            }
            var libtorch = result.GetValue(libtorchPath) ?? Environment.GetEnvironmentVariable(LibTorchPathVariable);
            libtorch = string.IsNullOrWhiteSpace(libtorch) ? null : Path.GetFullPath(libtorch);
            if (libtorch is not null && !Directory.Exists(libtorch))
            {
                return Program.Fail($"--libtorch_path '{libtorch}' is not a directory");
            }
            var needsGrid = configNames!.Any(BenchConfigs.UsingGrid.Contains);
            var grid = result.GetValue(gridDll) ?? Locations.FindGridDll();
            if (needsGrid && (grid is null || !File.Exists(grid)))
            {
                return Program.Fail(grid is null ? "grid.dll not found; build src/Silo or pass --grid_dll" : $"--grid_dll '{grid}' does not exist");
            }
            var settings = new BenchSettings
            {
                Quick = isQuick,
                Models = selected,
                Configs = configNames!,
                Protocols = protocolNames!,
                Concurrency = concurrencyValues!,
                BatchSizes = batchValues!,
                DurationSeconds = durationSeconds,
                WarmupSeconds = warmupSeconds,
                Rate = rateValue,
                MaxOutstanding = result.GetValue(maxOutstanding),
                GrpcChannels = result.GetValue(channels),
                BatchingParameters = result.GetValue(batching)!,
                GridArgs = result.GetValue(gridArgs)!.Split(' ', StringSplitOptions.RemoveEmptyEntries),
                OutputDirectory = Path.GetFullPath(result.GetValue(output) ?? Locations.DefaultOutput(started)),
                Examples = Path.GetFullPath(examplesDir),
                SavedModels = Path.GetFullPath(savedModelsDir),
                GridDll = grid is null ? "" : Path.GetFullPath(grid),
                StartTimeout = TimeSpan.FromSeconds(timeout),
                Engines = engineNames!,
                Devices = deviceNames!,
                LibTorchPath = libtorch,
            };
            return await BenchRunner.RunAsync(settings, started, cancellationToken);
        });
        return root;
    }
}
