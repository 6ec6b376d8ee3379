using Grid.Grains;
using Grid.Models;
using Grid.Serving.Policies;
using Grid.Serving.Repository;
using Microsoft.Extensions.Options;

namespace Grid.Silo.Services;

/// <summary>Where models come from: one named base path, or a directory of models.</summary>
public sealed class RepositorySourceOptions
{
    /// <summary>Explicit models: name → base path.</summary>
    public Dictionary<string, string> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, every subdirectory is a model named after it, re-listed on every poll.</summary>
    public string? RepositoryRoot { get; set; }

    /// <summary>Time between scans; zero or negative scans only at start-up.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Delay between the first two scans at start-up. Readiness needs two identical scans, so
    /// this bounds how long a fully copied repository waits before its first load.
    /// </summary>
    public TimeSpan StartupSettleDelay { get; set; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// TF Serving's file-system storage path source: scans every model's base path, keeps
/// half-copied versions out (<see cref="VersionReadinessTracker"/>), applies the version
/// policy and tells each <see cref="IModelGrain"/> its complete aspired version set.
/// </summary>
/// <remarks>
/// A model whose base path is missing keeps what it serves (TF Serving skips such a poll); an
/// existing but empty base path unloads everything. A model whose previous update is still
/// loading is skipped for this poll, so one slow load never stalls the others.
/// </remarks>
public sealed partial class RepositorySource(
    IGrainFactory grains,
    IOptions<RepositorySourceOptions> options,
    IVersionSelectionPolicy selection,
    ILogger<RepositorySource> logger) : BackgroundService
{
    private readonly Dictionary<string, ModelTracking> _models = new(StringComparer.Ordinal);

    private sealed class ModelTracking
    {
        public VersionReadinessTracker Readiness { get; } = new();
        public HashSet<string> ReportedIgnored { get; } = new(StringComparer.Ordinal);
        public bool ReportedEmpty { get; set; }
        public Task Pending { get; set; } = Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        try
        {
            await PollOnceAsync(stoppingToken);
            await Task.Delay(o.StartupSettleDelay, stoppingToken);
            await PollOnceAsync(stoppingToken);
            if (o.PollInterval <= TimeSpan.Zero)
            {
                return;
            }
            using var timer = new PeriodicTimer(o.PollInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await PollOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Task PollOnceAsync(CancellationToken cancellationToken)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, basePath) in ListModels())
        {
            cancellationToken.ThrowIfCancellationRequested();
            listed.Add(name);
            if (!_models.TryGetValue(name, out var tracking))
            {
                _models[name] = tracking = new ModelTracking();
            }
            var scan = RepositoryScanner.Scan(basePath);
            foreach (var ignored in scan.Ignored)
            {
                if (tracking.ReportedIgnored.Add(ignored))
                {
                    Log.IgnoredEntry(logger, name, ignored, basePath);
                }
            }
            var ready = tracking.Readiness.Observe(scan);
            if (scan.Versions.Count == 0)
            {
                if (!tracking.ReportedEmpty)
                {
                    Log.NoVersions(logger, name, basePath);
                    tracking.ReportedEmpty = true;
                }
            }
            else
            {
                tracking.ReportedEmpty = false;
            }
            if (!scan.BasePathExists || !tracking.Pending.IsCompleted)
            {
                continue;
            }
            var aspired = selection.Select(ready).Select(v => new AspiredVersion(v.Version, v.Path, v.Fingerprint)).ToArray();
            tracking.Pending = SendAsync(name, aspired, cancellationToken);
        }
        foreach (var gone in _models.Keys.Where(n => !listed.Contains(n)).ToList())
        {
            // A model directory removed from the repository: unload all of its versions.
            Log.ModelRemoved(logger, gone);
            _models.Remove(gone);
            _ = SendAsync(gone, [], cancellationToken);
        }
        return Task.CompletedTask;
    }

    private async Task SendAsync(string model, AspiredVersion[] aspired, CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IModelGrain>(model).SetAspiredVersionsAsync(aspired, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.UpdateFailed(logger, e, model);
        }
    }

    private IEnumerable<(string Name, string BasePath)> ListModels()
    {
        var o = options.Value;
        foreach (var (name, path) in o.Models)
        {
            yield return (name, path);
        }
        if (o.RepositoryRoot is { } root && Directory.Exists(root))
        {
            foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (!name.StartsWith('.'))
                {
                    yield return (name, dir);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Information, "Model {Model}: ignoring '{Entry}' under {BasePath}: not a version directory (a version is a decimal integer name)")]
        public static partial void IgnoredEntry(ILogger logger, string model, string entry, string basePath);

        [LoggerMessage(1202, LogLevel.Warning, "No versions of servable {Model} found under base path {BasePath}")]
        public static partial void NoVersions(ILogger logger, string model, string basePath);

        [LoggerMessage(1204, LogLevel.Warning, "Model {Model} is no longer in the repository; unloading all of its versions")]
        public static partial void ModelRemoved(ILogger logger, string model);

        [LoggerMessage(1203, LogLevel.Error, "Model {Model}: updating the aspired versions failed; retrying at the next poll")]
        public static partial void UpdateFailed(ILogger logger, Exception exception, string model);
    }
}
