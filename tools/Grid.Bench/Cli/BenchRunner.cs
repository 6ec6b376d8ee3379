using System.Diagnostics;
using Grid.Bench.Load;
using Grid.Bench.Onnx;
using Grid.Bench.Processes;
using Grid.Bench.Results;
using Grid.Bench.Torch;

namespace Grid.Bench.Cli;

/// <summary>
/// Runs one benchmark: raw ONNX Runtime first, then raw libtorch on each device (no server
/// running), then each server configuration in its own process (grid-cluster: its own three),
/// the grid ones once per (engine, device) variant, one at a time, each stopped before the next
/// starts. A GPU variant is failed without starting anything when libtorch here sees no usable GPU.
/// A configuration that fails is recorded and the others still run. Writes the report.
/// </summary>
public static class BenchRunner
{
    /// <returns>0 when every configuration ran; 1 when one failed (the report says which); 130 when interrupted.</returns>
    public static async Task<int> RunAsync(BenchSettings settings, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        var progress = new Progress(settings.PlannedPoints());
        var report = new BenchReport { StartedAt = started, Machine = MachineInfoReader.Read(), Settings = settings.ToRecord() };
        if (MachineInfoReader.LooksBusy(report.Machine))
        {
            progress.Line($"warning: the machine was already {report.Machine.CpuBusyBeforeRun:P0} busy before the run; every figure will be skewed");
        }
        var work = Directory.CreateTempSubdirectory("grid-bench-");
        var interrupted = false;
        progress.Line($"grid-bench: {(settings.Quick ? "quick" : "full")} run, {settings.PlannedPoints()} points; models {string.Join(",", settings.Models.Select(m => m.Name))}; "
                      + $"configs {string.Join(",", settings.Configs)}; engines {string.Join(",", settings.Engines)} on {string.Join(",", settings.Devices)}; "
                      + $"protocols {string.Join(",", settings.Protocols)}; output {settings.OutputDirectory}");
        try
        {
            var repositories = new Dictionary<EngineVariant, string>();
            string RepositoryFor(EngineVariant variant)
            {
                if (!repositories.TryGetValue(variant, out var path))
                {
                    path = BenchRepository.Build(settings.Models, settings.Examples, settings.SavedModels, Path.Combine(work.FullName, BenchRepository.DirectoryName(variant)), variant);
                    repositories[variant] = path;
                }
                return path;
            }

            // Raw ONNX Runtime and the minimal server run plain ONNX: an imported model's converted graph.
            var repository = BenchRepository.Converted(settings.Models, RepositoryFor(EngineVariant.OnnxCpu), Path.Combine(work.FullName, "models-converted"));
            if (settings.OnnxDevices.Contains(BenchDevices.Cpu))
            {
                foreach (var model in settings.Models)
                {
                    report.Points.AddRange(RawOnnxBenchmark.Run(model, model.ModelFile(repository), BenchDevices.Cpu, settings.BatchSizes,
                        Math.Min(settings.WarmupSeconds, 0.5), settings.DurationSeconds, progress.Point, cancellationToken));
                }
            }

            // libtorch is loaded here (after the ONNX sweep, so that one runs as it always did) when
            // raw torch needs it, or to learn whether a GPU configuration can run at all.
            var gpu = new GpuCheck();
            if (settings.TorchDevices.Count > 0 || settings.Variants.Any(v => v.Device == BenchDevices.Gpu))
            {
                gpu = GpuCheck.Run(settings.LibTorchPath);
                report.Machine.LibTorch = gpu.Describe();
                progress.Line($"libtorch: {report.Machine.LibTorch}");
            }
            // ONNX Runtime's CUDA provider, after libtorch (which loads the same CUDA libraries
            // through its own RUNPATHs): the libraries beside --libtorch_path's PyTorch install,
            // or GRID_CUDA_LIBRARY_PATH, as grid finds them.
            string? onnxGpuReason = null;
            if (settings.OnnxDevices.Contains(BenchDevices.Gpu) || settings.Variants.Any(v => v is { Engine: BenchEngines.OnnxRuntime, Device: BenchDevices.Gpu }))
            {
                var cuda = Grid.Serving.Inference.OnnxCudaRuntime.Initialize(Grid.Serving.Inference.OnnxCudaRuntime.SearchDirectories(null, settings.LibTorchPath));
                onnxGpuReason = cuda.Available ? null : $"no usable GPU for ONNX Runtime: {cuda.UnavailableReason}";
                report.Machine.OnnxCuda = cuda.Available ? $"CUDA provider, {cuda.DeviceCount} device(s), libraries from {string.Join(":", cuda.LibraryDirectories)}" : onnxGpuReason;
                progress.Line($"ONNX Runtime: {report.Machine.OnnxCuda}");
            }
            string? GpuReason(string engine) => engine == BenchEngines.OnnxRuntime ? onnxGpuReason : gpu.GpuUnusableReason;

            if (settings.OnnxDevices.Contains(BenchDevices.Gpu))
            {
                var variant = new EngineVariant(BenchEngines.OnnxRuntime, BenchDevices.Gpu);
                if (onnxGpuReason is not null)
                {
                    Fail(report, progress, BenchConfigs.Onnx, variant, onnxGpuReason);
                }
                else
                {
                    foreach (var model in settings.Models)
                    {
                        try
                        {
                            report.Points.AddRange(RawOnnxBenchmark.Run(model, model.ModelFile(repository), BenchDevices.Gpu, settings.BatchSizes,
                                Math.Min(settings.WarmupSeconds, 0.5), settings.DurationSeconds, progress.Point, cancellationToken));
                        }
                        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
                        {
                            Fail(report, progress, BenchConfigs.Onnx, variant, $"{model.Name}: {e.Message.Split('\n', 2)[0]}");
                        }
                    }
                }
            }

            foreach (var device in settings.TorchDevices)
            {
                var variant = new EngineVariant(BenchEngines.LibTorch, device);
                if ((device == BenchDevices.Gpu ? gpu.GpuUnusableReason : gpu.LoadError) is { } reason)
                {
                    Fail(report, progress, BenchConfigs.Torch, variant, reason);
                    continue;
                }
                var torchRepository = RepositoryFor(new EngineVariant(BenchEngines.LibTorch, BenchDevices.Cpu));
                foreach (var model in settings.Models)
                {
                    try
                    {
                        report.Points.AddRange(RawTorchBenchmark.Run(model, Path.Combine(model.VersionDirectory(torchRepository), "model.pt"), device, settings.BatchSizes, Math.Min(settings.WarmupSeconds, 0.5), settings.DurationSeconds, progress.Point, cancellationToken));
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A libtorch error (say, CUDA out of memory at a large batch) fails this series, not the run.
                        Fail(report, progress, BenchConfigs.Torch, variant, $"{model.Name}: {e.GetType().Name}: {GpuCheck.Reason(e)}");
                    }
                }
            }

            foreach (var config in settings.Configs.Where(c => !BenchConfigs.InProcess.Contains(c)))
            {
                IReadOnlyList<EngineVariant?> variants = BenchConfigs.PerEngine.Contains(config) ? [.. settings.Variants] : [(EngineVariant?)null];
                foreach (var variant in variants)
                {
                    if (variant?.Device == BenchDevices.Gpu && GpuReason(variant.Engine) is { } reason)
                    {
                        Fail(report, progress, config, variant, reason);
                        continue;
                    }
                    try
                    {
                        await RunServerConfigAsync(config, variant, settings, config == BenchConfigs.Minimal ? repository : RepositoryFor(variant ?? EngineVariant.OnnxCpu), work.FullName, report, progress, cancellationToken);
                    }
                    catch (ServerStartException e)
                    {
                        Fail(report, progress, config, variant, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: the server of the current configuration is already killed (await using);
            // keep what was measured so far.
            interrupted = true;
            report.Failures.Add(new BenchFailure("run", "interrupted before every point was measured"));
            progress.Line("interrupted: writing the points measured so far");
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }

        report.Ratios = RatioCalculator.Compute(report.Points, report.Settings);
        report.WallSeconds = wall.Elapsed.TotalSeconds;
        await ReportWriter.WriteAsync(report, settings.OutputDirectory, CancellationToken.None);
        progress.Line("");
        foreach (var ratio in report.Ratios)
        {
            progress.Line("ratio: " + ratio.ToLine().Replace("**", ""));
        }
        foreach (var failure in report.Failures)
        {
            progress.Line($"failed configuration: {failure.Series}");
        }
        progress.Line($"wrote {Path.Combine(settings.OutputDirectory, ReportWriter.MarkdownFile)}, {ReportWriter.JsonFile} and {ReportWriter.ChartFile} in {report.WallSeconds:0.0} s");
        return interrupted ? 130 : report.Failures.Count == 0 ? 0 : 1;
    }

    private static void Fail(BenchReport report, Progress progress, string config, EngineVariant? variant, string reason)
    {
        var failure = new BenchFailure(config, reason) { Engine = variant?.Engine, Device = variant?.Device };
        report.Failures.Add(failure);
        progress.Line($"FAILED {failure.Series}: {reason}");
    }

    /// <param name="variant">The engine and device of a grid configuration; null for the others.</param>
    private static async Task RunServerConfigAsync(
        string config, EngineVariant? variant, BenchSettings settings, string repository, string work, BenchReport report, Progress progress, CancellationToken cancellationToken)
    {
        var series = BenchSeries.Name(config, variant);
        // What infers: the variant's engine; the minimal server runs ONNX Runtime on the CPU; the empty server nothing.
        var inference = variant ?? (config == BenchConfigs.Minimal ? EngineVariant.OnnxCpu : null);
        var startWatch = Stopwatch.StartNew();
        await using var server = await StartServerAsync(config, variant, settings, repository, work, cancellationToken);
        await server.WaitUntilAvailableAsync(settings.Models.Select(m => m.Name), settings.StartTimeout, cancellationToken);
        progress.Line($"{series}: ready in {startWatch.Elapsed.TotalSeconds:0.0} s (gRPC {server.GrpcPort}, REST {server.RestPort})");

        var channels = GrpcPredictClient.CreateChannels(server.GrpcAddress, settings.GrpcChannels);
        using var http = RestPredictClient.CreateHttpClient(server.RestAddress);
        try
        {
            foreach (var model in settings.Models)
            {
                var payload = new RequestPayload(model.Name, model.Input, model.Output, model.Dims);
                foreach (var protocol in settings.Protocols)
                {
                    foreach (var concurrency in settings.Concurrency)
                    {
                        // The same client set-up for every configuration: min(clients, channels) HTTP/2 connections.
                        var client = protocol == BenchProtocols.Grpc
                            ? (IPredictClient)new GrpcPredictClient(channels[..Math.Min(concurrency, channels.Length)], payload)
                            : new RestPredictClient(http, payload);
                        var live = new LiveCounter();
                        var label = Progress.Label(series, model.Name, protocol, $"c={concurrency}");
                        var result = await progress.TrackAsync(label, live,
                            LoadGenerator.RunClosedAsync(client, concurrency, settings.WarmupSeconds, settings.DurationSeconds, live, cancellationToken));
                        Record(report, progress, ToPoint(config, inference, model, protocol, BenchModes.Closed, result) with { Concurrency = concurrency });
                        ThrowIfDied(server, series);
                    }
                    var rate = settings.RateFor(model);
                    if (rate > 0)
                    {
                        var client = protocol == BenchProtocols.Grpc
                            ? (IPredictClient)new GrpcPredictClient(channels, payload)
                            : new RestPredictClient(http, payload);
                        var live = new LiveCounter();
                        var schedule = new OpenLoopSchedule(rate, settings.WarmupSeconds, settings.DurationSeconds);
                        var label = Progress.Label(series, model.Name, protocol, $"{rate} req/s");
                        var result = await progress.TrackAsync(label, live,
                            LoadGenerator.RunOpenAsync(client, schedule, settings.MaxOutstanding, live, cancellationToken));
                        Record(report, progress, ToPoint(config, inference, model, protocol, BenchModes.Open, result) with { Rate = rate });
                        ThrowIfDied(server, series);
                    }
                }
            }
        }
        finally
        {
            foreach (var c in channels)
            {
                c.Dispose();
            }
        }
    }

    private static async Task<IBenchServer> StartServerAsync(
        string config, EngineVariant? variant, BenchSettings settings, string repository, string work, CancellationToken cancellationToken)
    {
        var self = typeof(BenchRunner).Assembly.Location;
        var series = BenchSeries.Name(config, variant);
        var gridArgs = GridArguments(settings, variant);
        switch (config)
        {
            case BenchConfigs.Empty:
            case BenchConfigs.Minimal:
                return ServerProcess.Start($"grid-bench server --kind {config}", self,
                    (grpc, rest) => ["server", "--kind", config, "--port", $"{grpc}", "--rest_api_port", $"{rest}", "--model_repository", repository], work);
            case BenchConfigs.Grid:
            case BenchConfigs.GridBatching:
                var batching = new List<string>();
                if (config == BenchConfigs.GridBatching)
                {
                    var file = Path.Combine(work, "batching_parameters.txt");
                    File.WriteAllText(file, settings.BatchingParameters);
                    batching.AddRange(["--enable_batching", "--batching_parameters_file", file]);
                }
                return ServerProcess.Start($"grid serve ({series})", settings.GridDll,
                    (grpc, rest) => ["serve", "--model_repository", repository, "--file_system_poll_wait_seconds", "0",
                                     "--rest_api_port", $"{rest}", "--port", $"{grpc}", "--host", "127.0.0.1",
                                     "--state_dir", Path.Combine(work, series + "-state"), .. gridArgs, .. batching], work);
            case BenchConfigs.GridCluster:
                // The same grid.dll, repository and extra flags as grid, split into silo and gateway.
                return await ClusterServer.StartAsync(settings.GridDll, repository, gridArgs, Path.Combine(work, series), cancellationToken);
            default:
                throw new ArgumentOutOfRangeException(nameof(config), config, "Not a server configuration");
        }
    }

    /// <summary>
    /// The extra flags for grid serve and grid-cluster's silo: --grid_args, and --libtorch_path
    /// when one was given, for every variant: the libtorch a grid process loads is the process's,
    /// whatever engine serves the models (a silo on a machine with a GPU loads it at start-up to
    /// probe CUDA, and a build without the bundled libtorch needs it then).
    /// </summary>
    public static List<string> GridArguments(BenchSettings settings, EngineVariant? variant)
    {
        var args = settings.GridArgs.ToList();
        if (variant is not null && settings.LibTorchPath is { } path)
        {
            args.AddRange(["--libtorch_path", path]);
        }
        return args;
    }

    private static void ThrowIfDied(IBenchServer server, string series)
    {
        if (server.HasExited)
        {
            throw new ServerStartException($"{server.Name} died during the {series} run: {server.Tail}");
        }
    }

    private static void Record(BenchReport report, Progress progress, BenchPoint point)
    {
        report.Points.Add(point);
        progress.Point(point);
    }

    private static BenchPoint ToPoint(string config, EngineVariant? inference, BenchModel model, string protocol, string mode, LoadResult r) => new()
    {
        Config = config,
        Engine = inference?.Engine,
        Device = inference?.Device,
        Model = model.Name,
        Protocol = protocol,
        Mode = mode,
        DurationSeconds = r.MeasuredSeconds,
        Requests = r.Successes,
        ThroughputRps = r.ThroughputRps,
        SamplesPerSecond = r.ThroughputRps,
        P50Ms = r.Latency.P50Ms,
        P90Ms = r.Latency.P90Ms,
        P99Ms = r.Latency.P99Ms,
        MaxMs = r.Latency.MaxMs,
        Errors = r.Errors,
        Dropped = r.Dropped,
        FirstError = r.FirstError,
        SendLagP99Ms = r.SendLagP99Ms,
    };
}
