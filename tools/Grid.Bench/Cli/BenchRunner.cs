using System.Diagnostics;
using Grid.Bench.Load;
using Grid.Bench.Onnx;
using Grid.Bench.Processes;
using Grid.Bench.Results;

namespace Grid.Bench.Cli;

/// <summary>
/// Runs one benchmark: raw ONNX Runtime first (no server running), then each server
/// configuration in its own process (grid-cluster: its own three), one at a time, each
/// stopped before the next starts.
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
                      + $"configs {string.Join(",", settings.Configs)}; protocols {string.Join(",", settings.Protocols)}; output {settings.OutputDirectory}");
        try
        {
            var repository = BuildRepository(settings, work.FullName);
            if (settings.Configs.Contains(BenchConfigs.Onnx))
            {
                foreach (var model in settings.Models)
                {
                    report.Points.AddRange(RawOnnxBenchmark.Run(model, model.ModelFile(repository), settings.BatchSizes,
                        Math.Min(settings.WarmupSeconds, 0.5), settings.DurationSeconds, progress.Point, cancellationToken));
                }
            }
            foreach (var config in settings.Configs.Where(c => c != BenchConfigs.Onnx))
            {
                try
                {
                    await RunServerConfigAsync(config, settings, repository, work.FullName, report, progress, cancellationToken);
                }
                catch (ServerStartException e)
                {
                    report.Failures.Add(new BenchFailure(config, e.Message));
                    progress.Line($"FAILED {config}: {e.Message}");
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

        report.Ratios = RatioCalculator.Compute(report.Points);
        report.WallSeconds = wall.Elapsed.TotalSeconds;
        await ReportWriter.WriteAsync(report, settings.OutputDirectory, CancellationToken.None);
        progress.Line("");
        foreach (var ratio in report.Ratios)
        {
            progress.Line("ratio: " + ratio.ToLine().Replace("**", ""));
        }
        foreach (var failure in report.Failures)
        {
            progress.Line($"failed configuration: {failure.Config}");
        }
        progress.Line($"wrote {Path.Combine(settings.OutputDirectory, ReportWriter.MarkdownFile)}, {ReportWriter.JsonFile} and {ReportWriter.ChartFile} in {report.WallSeconds:0.0} s");
        return interrupted ? 130 : report.Failures.Count == 0 ? 0 : 1;
    }

    /// <summary>A temporary repository holding only the benchmarked models: TMP/models/NAME/VERSION/...</summary>
    private static string BuildRepository(BenchSettings settings, string work)
    {
        var repository = Path.Combine(work, "models");
        foreach (var model in settings.Models)
        {
            var source = model.VersionDirectory(settings.Examples);
            var target = model.VersionDirectory(repository);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var dest = Path.Combine(target, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                File.Copy(file, dest);
            }
        }
        return repository;
    }

    private static async Task RunServerConfigAsync(
        string config, BenchSettings settings, string repository, string work, BenchReport report, Progress progress, CancellationToken cancellationToken)
    {
        var startWatch = Stopwatch.StartNew();
        await using var server = await StartServerAsync(config, settings, repository, work, cancellationToken);
        await server.WaitUntilAvailableAsync(settings.Models.Select(m => m.Name), settings.StartTimeout, cancellationToken);
        progress.Line($"{config}: ready in {startWatch.Elapsed.TotalSeconds:0.0} s (gRPC {server.GrpcPort}, REST {server.RestPort})");

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
                        var label = Progress.Label(config, model.Name, protocol, $"c={concurrency}");
                        var result = await progress.TrackAsync(label, live,
                            LoadGenerator.RunClosedAsync(client, concurrency, settings.WarmupSeconds, settings.DurationSeconds, live, cancellationToken));
                        Record(report, progress, ToPoint(config, model, protocol, BenchModes.Closed, result) with { Concurrency = concurrency });
                        ThrowIfDied(server, config);
                    }
                    var rate = settings.RateFor(model);
                    if (rate > 0)
                    {
                        var client = protocol == BenchProtocols.Grpc
                            ? (IPredictClient)new GrpcPredictClient(channels, payload)
                            : new RestPredictClient(http, payload);
                        var live = new LiveCounter();
                        var schedule = new OpenLoopSchedule(rate, settings.WarmupSeconds, settings.DurationSeconds);
                        var label = Progress.Label(config, model.Name, protocol, $"{rate} req/s");
                        var result = await progress.TrackAsync(label, live,
                            LoadGenerator.RunOpenAsync(client, schedule, settings.MaxOutstanding, live, cancellationToken));
                        Record(report, progress, ToPoint(config, model, protocol, BenchModes.Open, result) with { Rate = rate });
                        ThrowIfDied(server, config);
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
        string config, BenchSettings settings, string repository, string work, CancellationToken cancellationToken)
    {
        var self = typeof(BenchRunner).Assembly.Location;
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
                return ServerProcess.Start($"grid serve ({config})", settings.GridDll,
                    (grpc, rest) => ["serve", "--model_repository", repository, "--file_system_poll_wait_seconds", "0",
                                     "--rest_api_port", $"{rest}", "--port", $"{grpc}", "--host", "127.0.0.1",
                                     "--state_dir", Path.Combine(work, config + "-state"), .. settings.GridArgs, .. batching], work);
            case BenchConfigs.GridCluster:
                // The same grid.dll, repository and extra flags as grid, split into silo and gateway.
                return await ClusterServer.StartAsync(settings.GridDll, repository, settings.GridArgs, Path.Combine(work, config), cancellationToken);
            default:
                throw new ArgumentOutOfRangeException(nameof(config), config, "Not a server configuration");
        }
    }

    private static void ThrowIfDied(IBenchServer server, string config)
    {
        if (server.HasExited)
        {
            throw new ServerStartException($"{server.Name} died during the {config} run: {server.Tail}");
        }
    }

    private static void Record(BenchReport report, Progress progress, BenchPoint point)
    {
        report.Points.Add(point);
        progress.Point(point);
    }

    private static BenchPoint ToPoint(string config, BenchModel model, string protocol, string mode, LoadResult r) => new()
    {
        Config = config,
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
