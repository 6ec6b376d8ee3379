using System.Diagnostics;
using Grid.Experiments;
using Grid.Gateway.Routing;
using Grid.Grains;
using Grid.Inference;
using Grid.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Grid.Gateway.Experiments;

/// <summary>What served a Predict: the result, and the experiment arm when one chose it.</summary>
public sealed record RoutedResult(InferenceResult Result, string? Arm);

/// <summary>
/// The gateway's entry point for Predict. A request that names no version goes through the
/// model's active experiment, if any: the <see cref="IArmAssignmentPolicy"/> picks an arm from
/// the sticky key's value (or at random), the arm's version serves it, and the outcome is
/// measured for that arm. An explicit version bypasses the experiment. A shadow arm gets a copy
/// of its share of the requests after the caller's answer is known, on the thread pool, so it
/// never changes the caller's result, status or latency; its outcome is measured and discarded.
/// </summary>
public sealed partial class ExperimentRouter(ModelRouter router, IArmAssignmentPolicy assignment, ExperimentRecorder recorder, ILogger<ExperimentRouter> logger)
{
    /// <param name="subject">Returns the value of a request header / metadata key, or null.</param>
    public async Task<RoutedResult> PredictAsync(
        string model, long? version, Func<string, string?> subject, Func<VersionStatus, InferenceRequest> buildRequest, CancellationToken cancellationToken)
    {
        if (version is not null || (await router.GetRoutingStatusAsync(model)).ActiveExperiment is not { } experiment)
        {
            return new RoutedResult(await router.PredictAsync(model, version, buildRequest, cancellationToken), null);
        }
        var key = experiment.StickyKey is { } header ? subject(header) : null;
        var arm = experiment.Arms[assignment.Assign(experiment, string.IsNullOrEmpty(key) ? null : key, Random.Shared.NextDouble())];
        InferenceRequest? built = null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await router.PredictAsync(model, arm.Version, t => built = buildRequest(t), cancellationToken);
            recorder.Record(model, experiment.Id, arm.Name, arm.Version, Stopwatch.GetElapsedTime(started).TotalMilliseconds, result);
            return new RoutedResult(result, arm.Name);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            recorder.Record(model, experiment.Id, arm.Name, arm.Version, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
            throw;
        }
        finally
        {
            if (experiment.Shadow is { } shadow && built is { } request && Random.Shared.NextDouble() * 100 < shadow.Percent)
            {
                _ = Task.Run(() => ShadowAsync(model, experiment.Id, shadow, request));
            }
        }
    }

    private async Task ShadowAsync(string model, string experiment, ShadowArm shadow, InferenceRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await router.PredictAsync(model, shadow.Version, _ => request, CancellationToken.None);
            recorder.Record(model, experiment, ShadowArm.ArmName, shadow.Version, Stopwatch.GetElapsedTime(started).TotalMilliseconds, result);
        }
        catch (Exception e)
        {
            recorder.Record(model, experiment, ShadowArm.ArmName, shadow.Version, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
            Log.ShadowFailed(logger, model, experiment, shadow.Version, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2201, LogLevel.Debug, "Model {Model} experiment {Experiment}: shadow request to version {Version} failed (not seen by the caller): {Reason}")]
        public static partial void ShadowFailed(ILogger logger, string model, string experiment, long version, string reason);
    }
}

/// <summary>
/// Sends this gateway's per-arm measurements to each model's manager every second (and on
/// demand before an experiment is read), where gateways' counts add up. Undelivered counts are
/// kept for the next round.
/// </summary>
public sealed partial class ExperimentStatsFlusher(IGrainFactory grains, ExperimentRecorder recorder, ILogger<ExperimentStatsFlusher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task FlushAsync()
    {
        await _gate.WaitAsync();
        try
        {
            foreach (var (key, deltas) in recorder.TakePending())
            {
                try
                {
                    await grains.GetGrain<IModelGrain>(key.Model).AddExperimentStatsAsync(key.Experiment, deltas).WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (Exception e)
                {
                    recorder.Restore(key, deltas);
                    Log.FlushFailed(logger, key.Model, key.Experiment, e.Message);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await FlushAsync();
        }
        await FlushAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(2202, LogLevel.Warning, "Model {Model} experiment {Experiment}: reporting measurements failed ({Reason}); kept for the next report")]
        public static partial void FlushFailed(ILogger logger, string model, string experiment, string reason);
    }
}

/// <summary>Header and trailer names of the experiment protocol.</summary>
public static class ExperimentHeaders
{
    /// <summary>The arm that served a request: a REST response header, a gRPC trailer.</summary>
    public const string Arm = "x-grid-arm";

    /// <summary>The sticky key experiments use unless they name another.</summary>
    public const string DefaultSubject = "x-grid-subject";
}
