using Grid.Grains;
using Grid.Models;
using Grid.Serving.Policies;
using Grid.Serving.Configuration;
using Grid.Serving.Repository;
using Grid.Devices;
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

    /// <summary>The deployment of models whose base path has no config.pbtxt (from the silo's flags).</summary>
    public ModelDeployment DefaultDeployment { get; set; } = ModelDeployment.Default;
}

/// <summary>
/// TF Serving's file-system storage path source: scans every model's base path, keeps
/// half-copied versions out (<see cref="VersionReadinessTracker"/>), applies the version
/// policy and tells each <see cref="IModelGrain"/> its complete aspired version set, with the
/// deployment (replicas, device) its base path's <c>config.pbtxt</c> asks for.
/// </summary>
/// <remarks>
/// A model whose base path is missing keeps what it serves (TF Serving skips such a poll); an
/// existing but empty base path unloads everything. A model whose previous update is still
/// loading is skipped for this poll, so one slow load never stalls the others.
/// In a cluster every silo runs a source over the same repository; the managers treat the
/// repeated sets as the idempotent updates they are. An invalid config.pbtxt is reported once
/// and the last valid one stays in force.
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
        public int Scans { get; set; }
        public string? ConfigText { get; set; }
        public ModelDeployment? Deployment { get; set; }
        public IVersionSelectionPolicy? VersionPolicy { get; set; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        try
        {
            await PollOnceAsync(stoppingToken);
            await Task.Delay(o.StartupSettleDelay, stoppingToken);
            await PollOnceAsync(stoppingToken);
            await UnloadVanishedModelsAsync(stoppingToken);
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
            // Nothing is ready after a model's first scan, so sending then would tell the manager
            // to unload what other silos' sources (or this one before a restart) had loaded.
            if (!scan.BasePathExists || !tracking.Pending.IsCompleted || ++tracking.Scans < 2)
            {
                continue;
            }
            var deployment = ReadDeployment(name, basePath, tracking);
            var policy = tracking.VersionPolicy ?? selection;
            var aspired = policy.Select(ready).Select(v => new AspiredVersion(v.Version, v.Path, v.Fingerprint)).ToArray();
            tracking.Pending = SendAsync(name, aspired, deployment, cancellationToken);
        }
        foreach (var gone in _models.Keys.Where(n => !listed.Contains(n)).ToList())
        {
            // A model directory removed from the repository: unload all of its versions.
            Log.ModelRemoved(logger, gone);
            _models.Remove(gone);
            _ = SendAsync(gone, [], null, cancellationToken);
        }
        return Task.CompletedTask;
    }

    /// <summary>The deployment the base path's config.pbtxt asks for; the last valid one when it is invalid.</summary>
    private ModelDeployment? ReadDeployment(string model, string basePath, ModelTracking tracking)
    {
        var path = Path.Combine(basePath, ModelConfig.FileName);
        string? text;
        try
        {
            text = File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return tracking.Deployment;
        }
        if (text == tracking.ConfigText && tracking.Deployment is not null)
        {
            return tracking.Deployment;
        }
        tracking.ConfigText = text;
        var defaults = options.Value.DefaultDeployment;
        if (text is null)
        {
            tracking.VersionPolicy = null;
            return tracking.Deployment = defaults;
        }
        try
        {
            var config = ModelConfigParser.Parse(text);
            if (config.Name is { } declared && declared != model)
            {
                throw new FormatException($"name \"{declared}\" does not match the model's directory name \"{model}\"");
            }
            tracking.Deployment = new ModelDeployment(config.Replicas ?? defaults.Replicas, config.Device ?? defaults.Device, ModelConfig.FileName);
            tracking.VersionPolicy = config.VersionPolicy;
            Log.ConfigRead(logger, model, tracking.Deployment.Replicas, tracking.Deployment.Device.ToText());
        }
        catch (FormatException e)
        {
            Log.ConfigInvalid(logger, model, path, e.Message);
        }
        return tracking.Deployment;
    }

    /// <summary>
    /// Models the persisted registry knows but the repository no longer lists (removed while no
    /// source was watching) are told to unload everything, as a removal seen live would be.
    /// Only for a repository root (a directory of models), and skipped when it is missing, so an
    /// unmounted volume unloads nothing.
    /// </summary>
    private async Task UnloadVanishedModelsAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.RepositoryRoot is not { } root || !Directory.Exists(root))
        {
            return;
        }
        string[] registered;
        try
        {
            registered = await grains.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).ListAsync();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.UpdateFailed(logger, e, "(registry)");
            return;
        }
        foreach (var model in registered.Where(m => !_models.ContainsKey(m)))
        {
            Log.ModelRemoved(logger, model);
            await SendAsync(model, [], null, cancellationToken);
        }
    }

    private async Task SendAsync(string model, AspiredVersion[] aspired, ModelDeployment? deployment, CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IModelGrain>(model).SetAspiredVersionsAsync(aspired, deployment, cancellationToken);
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

        [LoggerMessage(1205, LogLevel.Information, "Model {Model}: config.pbtxt asks for {Replicas} replicas on device '{Device}'")]
        public static partial void ConfigRead(ILogger logger, string model, int replicas, string device);

        [LoggerMessage(1206, LogLevel.Error, "Model {Model}: {Path} is invalid and is ignored (the last valid configuration stays in force): {Reason}")]
        public static partial void ConfigInvalid(ILogger logger, string model, string path, string reason);

        [LoggerMessage(1203, LogLevel.Error, "Model {Model}: updating the aspired versions failed; retrying at the next poll")]
        public static partial void UpdateFailed(ILogger logger, Exception exception, string model);
    }
}
