using Grid.Models;
using Grid.Serving;
using Grid.Serving.Policies;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Grid.Grains.Models;

/// <summary>
/// The manager of one model: TF Serving's AspiredVersionsManager as a virtual actor.
/// </summary>
/// <remarks>
/// Reentrant so status reads never wait behind a load. Transitions are serialised by a
/// single reconcile loop that asks the <see cref="IVersionTransitionPolicy"/> for one action
/// at a time until it has none; every caller of <see cref="SetAspiredVersionsAsync"/> awaits
/// that loop, so when the call returns the model reflects the set it sent.
/// The model repository on disk is the source of truth for what exists, so the version set
/// is rebuilt from the next scan if this activation is ever lost.
/// </remarks>
[Reentrant]
public sealed partial class ModelGrain(IVersionTransitionPolicy policy, ILogger<ModelGrain> logger) : Grain, IModelGrain
{
    private readonly SortedDictionary<long, Entry> _versions = [];
    private Task? _reconciling;
    private bool _pinned;

    private string Model => this.GetPrimaryKeyString();

    public Task SetAspiredVersionsAsync(AspiredVersion[] versions, CancellationToken cancellationToken = default)
    {
        var aspired = versions.ToDictionary(v => v.Version);
        foreach (var entry in _versions.Values)
        {
            entry.IsAspired = aspired.ContainsKey(entry.Version);
        }
        foreach (var v in versions)
        {
            if (!_versions.TryGetValue(v.Version, out var entry))
            {
                _versions[v.Version] = new Entry(v) { IsAspired = true };
                Log.VersionAspired(logger, Model, v.Version, v.Path);
                continue;
            }
            // An ended version that is wanted again starts over; a failed one only when its
            // files changed, so a broken copy is not retried on every poll.
            if (entry.State == ModelVersionState.End
                && (entry.ErrorCode == ServingStatusCode.Ok || entry.Source.Fingerprint != v.Fingerprint))
            {
                entry.Reset(v);
            }
        }
        if (!_pinned && _versions.Count > 0)
        {
            // A known model must not be collected while idle: its versions own sessions.
            DelayDeactivation(Timeout.InfiniteTimeSpan);
            _pinned = true;
        }
        return ReconcileAsync();
    }

    public Task<ModelStatus> GetStatusAsync() => Task.FromResult(Snapshot());

    private ModelStatus Snapshot() => new(
        Model,
        _versions.Values
            .Select(e => new VersionStatus(e.Version, e.State, e.ErrorCode, e.ErrorMessage, e.State == ModelVersionState.Available ? e.Signatures : []))
            .ToArray());

    private Task ReconcileAsync()
    {
        // One loop at a time; a loop already running re-reads the policy after every action,
        // so it also carries out the set that was just applied.
        if (_reconciling is { IsCompleted: false })
        {
            return _reconciling;
        }
        return _reconciling = RunReconcileLoopAsync();
    }

    private async Task RunReconcileLoopAsync()
    {
        while (policy.NextAction(_versions.Values.Select(e => new VersionSnapshot(e.Version, e.State, e.IsAspired)).ToList()) is { } action)
        {
            var entry = _versions[action.Version];
            if (action.Kind == VersionActionKind.Load)
            {
                await LoadAsync(entry);
            }
            else
            {
                await UnloadAsync(entry);
            }
        }
    }

    private async Task LoadAsync(Entry entry)
    {
        entry.State = ModelVersionState.Loading;
        var source = entry.Source;
        try
        {
            var signatures = await VersionGrain(entry.Version).LoadAsync(source);
            entry.Signatures = signatures;
            entry.State = ModelVersionState.Available;
            entry.ErrorCode = ServingStatusCode.Ok;
            entry.ErrorMessage = "";
            Log.VersionAvailable(logger, Model, entry.Version);
        }
        catch (Exception e)
        {
            entry.State = ModelVersionState.End;
            entry.ErrorCode = e is ServingException se ? se.Code : ServingStatusCode.Internal;
            entry.ErrorMessage = e.Message;
            entry.Signatures = [];
            Log.VersionFailed(logger, Model, entry.Version, e.Message);
        }
    }

    private async Task UnloadAsync(Entry entry)
    {
        entry.State = ModelVersionState.Unloading;
        try
        {
            await VersionGrain(entry.Version).UnloadAsync();
            entry.ErrorCode = ServingStatusCode.Ok;
            entry.ErrorMessage = "";
        }
        catch (Exception e)
        {
            entry.ErrorCode = e is ServingException se ? se.Code : ServingStatusCode.Internal;
            entry.ErrorMessage = e.Message;
        }
        entry.State = ModelVersionState.End;
        entry.Signatures = [];
        Log.VersionUnloaded(logger, Model, entry.Version);
    }

    private IModelVersionGrain VersionGrain(long version) => GrainFactory.GetGrain<IModelVersionGrain>(ModelVersionKey.Format(Model, version));

    private sealed class Entry(AspiredVersion source)
    {
        public long Version { get; } = source.Version;
        public AspiredVersion Source { get; set; } = source;
        public bool IsAspired { get; set; }
        public ModelVersionState State { get; set; } = ModelVersionState.Start;
        public ServingStatusCode ErrorCode { get; set; }
        public string ErrorMessage { get; set; } = "";
        public ModelSignature[] Signatures { get; set; } = [];

        public void Reset(AspiredVersion source)
        {
            Source = source;
            State = ModelVersionState.Start;
            ErrorCode = ServingStatusCode.Ok;
            ErrorMessage = "";
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Information, "Model {Model} version {Version} is aspired ({Path})")]
        public static partial void VersionAspired(ILogger logger, string model, long version, string path);

        [LoggerMessage(1002, LogLevel.Information, "Model {Model} version {Version} is AVAILABLE")]
        public static partial void VersionAvailable(ILogger logger, string model, long version);

        [LoggerMessage(1003, LogLevel.Error, "Model {Model} version {Version} failed to load and is END: {Reason}")]
        public static partial void VersionFailed(ILogger logger, string model, long version, string reason);

        [LoggerMessage(1004, LogLevel.Information, "Model {Model} version {Version} is unloaded (END)")]
        public static partial void VersionUnloaded(ILogger logger, string model, long version);
    }
}
