using Grid.Devices;
using Grid.Experiments;
using Grid.Grains.Hosting;
using Grid.Grains.Placement;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Policies;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime.Placement;

namespace Grid.Grains.Models;

/// <summary>
/// The manager of one model: TF Serving's AspiredVersionsManager as a virtual actor, plus the
/// replicas of every version and where they run.
/// </summary>
/// <remarks>
/// <para>Reentrant so status reads never wait behind a load. Every change is made by one
/// reconcile loop at a time: it asks the <see cref="IVersionTransitionPolicy"/> for one version
/// action at a time until it has none, then checks the replicas. Callers that change the wanted
/// state set a flag the running loop re-reads, so when their call returns the model reflects
/// what they sent.</para>
/// <para>Replicas: each Available version keeps <see cref="ModelDeployment.Replicas"/> replicas
/// of the deployment's device class. A new replica goes where the
/// <see cref="IReplicaPlacementPolicy"/> says, passed to Orleans as a placement hint; the
/// grain class's device filter guarantees the device even when an activation is created some
/// other way. Every <see cref="ReplicaManagementOptions.CheckInterval"/> each replica is asked
/// for its load; one whose silo left or that no longer holds its session is re-placed. Missing
/// replicas are added before extra ones are retired, and at most one replica of a version moves
/// at a time (<see cref="IReplicaRebalancePolicy"/>), so a version that has a replica keeps
/// serving throughout.</para>
/// <para>The state is persisted after every change; a manager re-activated elsewhere resumes
/// from it and verifies every replica at once.</para>
/// </remarks>
[Reentrant]
public sealed partial class ModelGrain(
    [PersistentState("model", GridStorage.Name)] IPersistentState<ModelGrainState> state,
    IVersionTransitionPolicy policy,
    IReplicaPlacementPolicy placement,
    IReplicaRebalancePolicy rebalance,
    IClusterView cluster,
    IOptions<ReplicaManagementOptions> options,
    TimeProvider time,
    ILogger<ModelGrain> logger) : Grain, IModelGrain
{
    private Task? _reconciling;
    private bool _rerun;
    private bool _checkNow;
    private bool _dirty;
    private bool _started;
    private long _lastCheck;
    private long _membershipSeen = -1;
    private Task _saveChain = Task.CompletedTask;

    private string Model => this.GetPrimaryKeyString();

    private List<VersionRecord> Versions => state.State.Versions;

    private ModelDeployment Deployment => state.State.Override ?? state.State.Configured ?? ModelDeployment.Default;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var v in Versions)
        {
            // A load or unload that was under way when the previous activation was lost is redone.
            if (v.State == ModelVersionState.Loading)
            {
                v.State = ModelVersionState.Start;
            }
            else if (v.State == ModelVersionState.Unloading)
            {
                v.State = ModelVersionState.Available;
            }
        }
        if (Versions.Count > 0)
        {
            Start();
            Log.Resumed(logger, Model, Versions.Count);
            _checkNow = true;
            _ = ReconcileAsync();
        }
        return Task.CompletedTask;
    }

    /// <summary>Pins the activation (its versions own sessions) and starts the replica checks.</summary>
    private void Start()
    {
        if (_started)
        {
            return;
        }
        _started = true;
        DelayDeactivation(Timeout.InfiniteTimeSpan);
        var interval = options.Value.CheckInterval;
        this.RegisterGrainTimer(_ => ReconcileAsync(), new GrainTimerCreationOptions(interval, interval) { Interleave = true, KeepAlive = true });
    }

    public async Task SetAspiredVersionsAsync(AspiredVersion[] versions, ModelDeployment? configured = null, CancellationToken cancellationToken = default)
    {
        var aspired = versions.ToDictionary(v => v.Version);
        foreach (var entry in Versions)
        {
            if (entry.IsAspired != aspired.ContainsKey(entry.Version))
            {
                entry.IsAspired = !entry.IsAspired;
                _dirty = true;
            }
        }
        foreach (var v in versions)
        {
            var entry = Versions.Find(e => e.Version == v.Version);
            if (entry is null)
            {
                Versions.Add(new VersionRecord { Source = v, IsAspired = true });
                Versions.Sort((a, b) => a.Version.CompareTo(b.Version));
                Log.VersionAspired(logger, Model, v.Version, v.Path);
                _dirty = true;
                continue;
            }
            // An ended version that is wanted again starts over; a failed one only when its
            // files changed, so a broken copy is not retried on every poll.
            if (entry.State == ModelVersionState.End
                && (entry.ErrorCode == ServingStatusCode.Ok || entry.Source.Fingerprint != v.Fingerprint))
            {
                entry.Reset(v);
                _dirty = true;
            }
        }
        if (configured is not null && configured != state.State.Configured)
        {
            state.State.Configured = configured;
            _dirty = true;
            _checkNow = true;
        }
        if (Versions.Count > 0)
        {
            Start();
        }
        if (!state.State.Registered && Versions.Count > 0)
        {
            await GrainFactory.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).RegisterAsync(Model);
            state.State.Registered = true;
            _dirty = true;
        }
        await ReconcileAsync();
    }

    public async Task<ModelStatus> SetDeploymentOverrideAsync(ModelDeployment? deployment, CancellationToken cancellationToken = default)
    {
        if (deployment is not null && (deployment.Replicas < 1 || deployment.Replicas > Serving.Configuration.ModelConfig.MaxReplicas))
        {
            throw ServingException.InvalidArgument($"replicas must be between 1 and {Serving.Configuration.ModelConfig.MaxReplicas}, got {deployment.Replicas}");
        }
        state.State.Override = deployment is null ? null : deployment with { Source = "admin" };
        _dirty = true;
        _checkNow = true;
        Log.DeploymentOverride(logger, Model, deployment is null ? "cleared" : $"{deployment.Replicas} replicas, device {deployment.Device.ToText()}");
        await ReconcileAsync();
        return Snapshot();
    }

    public Task<ModelStatus> GetStatusAsync() => Task.FromResult(Snapshot());

    private ModelStatus Snapshot() => new(
        Model,
        Versions
            .Select(e => new VersionStatus(e.Version, e.State, e.ErrorCode, e.ErrorMessage, e.State == ModelVersionState.Available ? e.Signatures : [])
            {
                Replicas = e.Replicas.Select(r => r.ToStatus()).ToArray(),
                Unplaced = e.Unplaced,
            })
            .ToArray())
    {
        Deployment = Deployment,
        ActiveExperiment = state.State.Experiments.LastOrDefault(e => e.State == ExperimentState.Active)?.Spec,
        DefaultVersion = state.State.DefaultVersion,
    };

    public async Task<ExperimentStatus> CreateExperimentAsync(ExperimentSpec spec)
    {
        ExperimentValidation.ValidateId(spec.Id);
        if (state.State.Experiments.Any(e => e.Spec.Id == spec.Id))
        {
            throw new ServingException(ServingStatusCode.AlreadyExists, $"Model {Model} already has an experiment with id '{spec.Id}'");
        }
        if (state.State.Experiments.FirstOrDefault(e => e.State == ExperimentState.Active) is { } active)
        {
            throw ServingException.FailedPrecondition($"Model {Model} already has an active experiment '{active.Spec.Id}'; stop or promote it first");
        }
        ExperimentValidation.ValidateSpec(spec, Model, Versions.Where(v => v.State == ModelVersionState.Available).Select(v => v.Version).ToHashSet());
        var experiment = new ExperimentStatus(Model, spec, ExperimentState.Active, state.State.DefaultVersion, null, DateTime.UtcNow, null, []);
        state.State.Experiments.Add(experiment);
        _dirty = true;
        await SaveAsync();
        Log.ExperimentStarted(logger, Model, spec.Id, string.Join(", ", spec.Arms.Select(a => $"{a.Name}=v{a.Version}:{a.Weight}")));
        return experiment;
    }

    public async Task<ExperimentStatus> SetExperimentWeightsAsync(string id, Dictionary<string, int> weights)
    {
        var (index, experiment) = ActiveExperiment(id);
        var arms = experiment.Spec.Arms.ToArray();
        foreach (var (name, weight) in weights)
        {
            var i = Array.FindIndex(arms, a => a.Name == name);
            if (i < 0)
            {
                throw ServingException.InvalidArgument($"Experiment '{id}' has no arm named '{name}'; its arms are {string.Join(", ", arms.Select(a => a.Name))}");
            }
            arms[i] = arms[i] with { Weight = weight };
        }
        var spec = experiment.Spec with { Arms = arms };
        ExperimentValidation.ValidateSpec(spec, Model, null);
        var updated = experiment with { Spec = spec };
        state.State.Experiments[index] = updated;
        _dirty = true;
        await SaveAsync();
        Log.ExperimentWeights(logger, Model, id, string.Join(", ", arms.Select(a => $"{a.Name}:{a.Weight}")));
        return updated;
    }

    public async Task<ExperimentStatus> PromoteExperimentAsync(string id, string arm)
    {
        var (index, experiment) = ActiveExperiment(id);
        var chosen = experiment.Spec.Arms.FirstOrDefault(a => a.Name == arm)
            ?? throw ServingException.InvalidArgument($"Experiment '{id}' has no arm named '{arm}'; its arms are {string.Join(", ", experiment.Spec.Arms.Select(a => a.Name))}");
        var updated = experiment with { State = ExperimentState.Promoted, PromotedArm = chosen.Name, EndedUtc = DateTime.UtcNow };
        state.State.Experiments[index] = updated;
        state.State.DefaultVersion = chosen.Version;
        _dirty = true;
        await SaveAsync();
        Log.ExperimentPromoted(logger, Model, id, chosen.Name, chosen.Version);
        return updated;
    }

    public async Task<ExperimentStatus> StopExperimentAsync(string id)
    {
        var (index, experiment) = ActiveExperiment(id);
        var updated = experiment with { State = ExperimentState.Stopped, EndedUtc = DateTime.UtcNow };
        state.State.Experiments[index] = updated;
        state.State.DefaultVersion = experiment.PreviousDefault;
        _dirty = true;
        await SaveAsync();
        Log.ExperimentStopped(logger, Model, id, experiment.PreviousDefault?.ToString() ?? "the latest version");
        return updated;
    }

    public Task<ExperimentStatus[]> GetExperimentsAsync() => Task.FromResult(state.State.Experiments.ToArray());

    public async Task AddExperimentStatsAsync(string id, Dictionary<string, ArmStats> deltas)
    {
        var index = state.State.Experiments.FindIndex(e => e.Spec.Id == id);
        if (index < 0)
        {
            return;
        }
        var experiment = state.State.Experiments[index];
        var stats = new Dictionary<string, ArmStats>(experiment.Stats, StringComparer.Ordinal);
        foreach (var (arm, delta) in deltas)
        {
            stats[arm] = (stats.GetValueOrDefault(arm) ?? ArmStats.Empty).Add(delta);
        }
        state.State.Experiments[index] = experiment with { Stats = stats };
        _dirty = true;
        await SaveAsync();
    }

    private (int Index, ExperimentStatus Experiment) ActiveExperiment(string id)
    {
        var index = state.State.Experiments.FindIndex(e => e.Spec.Id == id);
        if (index < 0)
        {
            throw ServingException.NotFound($"Model {Model} has no experiment '{id}'");
        }
        var experiment = state.State.Experiments[index];
        if (experiment.State != ExperimentState.Active)
        {
            throw ServingException.FailedPrecondition($"Experiment '{id}' of model {Model} has ended ({experiment.State.ToString().ToUpperInvariant()})");
        }
        return (index, experiment);
    }

    private Task ReconcileAsync()
    {
        _rerun = true;
        if (_reconciling is { IsCompleted: false })
        {
            return _reconciling;
        }
        return _reconciling = RunReconcileLoopAsync();
    }

    private async Task RunReconcileLoopAsync()
    {
        while (_rerun)
        {
            _rerun = false;
            try
            {
                while (policy.NextAction(Versions.Select(e => new VersionSnapshot(e.Version, e.State, e.IsAspired)).ToList()) is { } action)
                {
                    var entry = Versions.Find(e => e.Version == action.Version)!;
                    if (action.Kind == VersionActionKind.Load)
                    {
                        await LoadVersionAsync(entry);
                    }
                    else
                    {
                        await UnloadVersionAsync(entry);
                    }
                    await SaveAsync();
                }
                await CheckReplicasAsync();
            }
            catch (Exception e)
            {
                Log.ReconcileFailed(logger, e, Model);
            }
            await SaveAsync();
        }
    }

    /// <summary>
    /// Writes the state if anything changed. Writes are chained one after another: grain storage
    /// rejects a second write that starts before the first has returned its new ETag, and this
    /// grain is reentrant.
    /// </summary>
    private Task SaveAsync() => _saveChain = WriteAfterAsync(_saveChain);

    private async Task WriteAfterAsync(Task previous)
    {
        await previous;
        await WriteIfDirtyAsync();
    }

    private async Task WriteIfDirtyAsync()
    {
        if (!_dirty)
        {
            return;
        }
        try
        {
            _dirty = false;
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            // Kept in memory and written again after the next change or check.
            _dirty = true;
            Log.SaveFailed(logger, e, Model);
        }
    }

    private async Task LoadVersionAsync(VersionRecord entry)
    {
        entry.State = ModelVersionState.Loading;
        entry.Unplaced = false;
        _dirty = true;
        var deployment = Deployment;
        foreach (var r in entry.Replicas)
        {
            r.State = ReplicaState.Lost;
        }
        for (var i = entry.Replicas.Count; i < deployment.Replicas; i++)
        {
            entry.Replicas.Add(new ReplicaRecord { Index = i, Device = deployment.Device, State = ReplicaState.Lost });
        }
        var wanted = entry.Replicas.Where(r => r.Index < deployment.Replicas && r.Device == deployment.Device).ToList();
        var failure = await LoadReplicasAsync(entry, wanted);
        if (entry.Replicas.Any(r => r.State == ReplicaState.Available))
        {
            entry.State = ModelVersionState.Available;
            entry.ErrorCode = ServingStatusCode.Ok;
            entry.ErrorMessage = "";
            Log.VersionAvailable(logger, Model, entry.Version, entry.Replicas.Count(r => r.State == ReplicaState.Available), deployment.Replicas);
            return;
        }
        entry.State = ModelVersionState.End;
        entry.Unplaced = wanted.All(r => r.State == ReplicaState.Unplaced);
        entry.ErrorCode = entry.Unplaced ? ServingStatusCode.Unavailable : failure?.Code ?? ServingStatusCode.Internal;
        entry.ErrorMessage = entry.Unplaced
            ? $"Model {Model} version {entry.Version} cannot be placed. {wanted[0].Error}"
            : failure?.Message ?? "Failed to load";
        entry.Signatures = [];
        entry.Replicas.Clear();
        Log.VersionFailed(logger, Model, entry.Version, entry.ErrorMessage);
    }

    /// <summary>
    /// Places and loads <paramref name="targets"/> concurrently; placement is decided one replica
    /// at a time first, so replicas of the same version spread. Returns the first load failure.
    /// </summary>
    private async Task<ServingException?> LoadReplicasAsync(VersionRecord entry, IReadOnlyList<ReplicaRecord> targets)
    {
        if (targets.Count == 0)
        {
            return null;
        }
        var device = targets[0].Device;
        var active = cluster.ActiveSilos();
        IReadOnlyList<SiloCandidate> silos = active.Any(s => s.Devices.Satisfies(device)) ? await cluster.WithLoadAsync(active) : active;
        var hosted = silos.ToDictionary(s => s.Address, s => s.HostedReplicas, StringComparer.Ordinal);
        var siblings = entry.Replicas
            .Where(r => r.State is ReplicaState.Available or ReplicaState.Loading && r.Silo.Length > 0 && !targets.Contains(r))
            .Select(r => r.Silo)
            .ToList();
        var loads = new List<Task<ServingException?>>();
        foreach (var target in targets)
        {
            var current = silos.Select(s => s with { HostedReplicas = hosted[s.Address] }).ToList();
            var decision = placement.Place(device, current, siblings);
            if (decision.Silo is not { } silo)
            {
                target.State = ReplicaState.Unplaced;
                target.Silo = "";
                target.Error = decision.Refusal!;
                Log.ReplicaUnplaced(logger, Model, entry.Version, target.Index, decision.Refusal!);
                continue;
            }
            siblings.Add(silo);
            hosted[silo]++;
            target.State = ReplicaState.Loading;
            target.Silo = silo;
            target.Error = "";
            loads.Add(LoadReplicaAsync(entry, target, silo));
        }
        _dirty = true;
        var failures = await Task.WhenAll(loads);
        return failures.FirstOrDefault(f => f is not null);
    }

    private async Task<ServingException?> LoadReplicaAsync(VersionRecord entry, ReplicaRecord target, string silo)
    {
        var grain = GrainFactory.Replica(Model, entry.Version, target.Index, target.Device);
        Task<ReplicaLoaded> call;
        if (cluster.Find(silo) is { } hint)
        {
            // The hint applies only if this call creates the activation; an existing one loads where it is.
            RequestContext.Set(IPlacementDirector.PlacementHintKey, hint);
            try
            {
                call = grain.LoadAsync(entry.Source);
            }
            finally
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
        }
        else
        {
            call = grain.LoadAsync(entry.Source);
        }
        try
        {
            var loaded = await call;
            target.State = ReplicaState.Available;
            target.Silo = loaded.Silo;
            target.RunsOn = loaded.Device;
            target.Error = "";
            entry.Signatures = loaded.Signatures;
            Log.ReplicaLoaded(logger, Model, entry.Version, target.Index, target.Device.ToText(), loaded.Silo);
            return null;
        }
        catch (Exception e)
        {
            target.State = ReplicaState.Failed;
            target.Error = e.Message;
            target.RetryAfter = time.GetTimestamp() + (long)(options.Value.FailedRetryInterval.TotalSeconds * time.TimestampFrequency);
            Log.ReplicaFailed(logger, Model, entry.Version, target.Index, e.Message);
            return e as ServingException ?? new ServingException(ServingStatusCode.Internal, e.Message);
        }
    }

    private async Task UnloadVersionAsync(VersionRecord entry)
    {
        entry.State = ModelVersionState.Unloading;
        _dirty = true;
        var errors = await Task.WhenAll(entry.Replicas.Where(r => r.State != ReplicaState.Unplaced && r.Silo.Length > 0).Select(async r =>
        {
            try
            {
                await GrainFactory.Replica(Model, entry.Version, r.Index, r.Device).UnloadAsync();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }));
        var error = errors.FirstOrDefault(e => e is not null);
        entry.ErrorCode = error is null ? ServingStatusCode.Ok : error is ServingException se ? se.Code : ServingStatusCode.Internal;
        entry.ErrorMessage = error?.Message ?? "";
        entry.State = ModelVersionState.End;
        entry.Signatures = [];
        entry.Replicas.Clear();
        Log.VersionUnloaded(logger, Model, entry.Version);
    }

    /// <summary>
    /// Verifies every replica of every Available version, re-places lost ones, adds or retires
    /// replicas to match the deployment, and makes at most one rebalancing move per version.
    /// Runs at most once per check interval unless something changed.
    /// </summary>
    private async Task CheckReplicasAsync()
    {
        var now = time.GetTimestamp();
        var membership = cluster.MembershipVersion;
        var membershipChanged = membership != _membershipSeen;
        if (!_checkNow && !membershipChanged && time.GetElapsedTime(_lastCheck, now) < options.Value.CheckInterval)
        {
            return;
        }
        _checkNow = false;
        _lastCheck = now;
        _membershipSeen = membership;
        var deployment = Deployment;

        foreach (var entry in Versions.Where(e => e.State == ModelVersionState.End && e.Unplaced && e.IsAspired).ToList())
        {
            if (membershipChanged && cluster.ActiveSilos().Any(s => s.Devices.Satisfies(deployment.Device)))
            {
                // A silo that offers the device joined: try the version again.
                entry.Reset(entry.Source);
                _dirty = true;
                _rerun = true;
            }
        }

        foreach (var entry in Versions.Where(e => e.State == ModelVersionState.Available).ToList())
        {
            await Task.WhenAll(entry.Replicas.Where(r => r.State == ReplicaState.Available).Select(r => VerifyAsync(entry, r)));

            var wanted = new List<ReplicaRecord>();
            for (var i = 0; i < deployment.Replicas; i++)
            {
                var record = entry.Replicas.Find(r => r.Index == i && r.Device == deployment.Device);
                if (record is null)
                {
                    record = new ReplicaRecord { Index = i, Device = deployment.Device, State = ReplicaState.Lost };
                    entry.Replicas.Add(record);
                    _dirty = true;
                }
                wanted.Add(record);
            }
            var toLoad = wanted.Where(r => r.State switch
            {
                ReplicaState.Lost => true,
                ReplicaState.Unplaced => membershipChanged,
                ReplicaState.Failed => now >= r.RetryAfter,
                _ => false,
            }).ToList();
            if (toLoad.Count > 0)
            {
                await LoadReplicasAsync(entry, toLoad);
            }

            if (wanted.All(r => r.State == ReplicaState.Available))
            {
                // Only once every wanted replica serves are the others retired.
                foreach (var extra in entry.Replicas.Where(r => !wanted.Contains(r)).ToList())
                {
                    await RetireAsync(entry, extra);
                    entry.Replicas.Remove(extra);
                    _dirty = true;
                }
                var placed = wanted.Select(r => (r.Index, r.Silo)).ToList();
                if (placed.Count > 1 && rebalance.NextMove(deployment.Device, cluster.ActiveSilos(), placed) is { } move)
                {
                    await MoveAsync(entry, wanted.Single(r => r.Index == move.Replica), move);
                }
            }
        }
    }

    private async Task VerifyAsync(VersionRecord entry, ReplicaRecord replica)
    {
        if (!cluster.IsActive(replica.Silo))
        {
            MarkLost(entry, replica, $"silo {replica.Silo} is no longer an active member of the cluster");
            return;
        }
        try
        {
            var report = await GrainFactory.Replica(Model, entry.Version, replica.Index, replica.Device)
                .GetReportAsync().WaitAsync(options.Value.CheckTimeout);
            if (!report.Loaded || report.Fingerprint != entry.Source.Fingerprint)
            {
                MarkLost(entry, replica, $"the replica on silo {report.Silo} no longer holds the version's session");
                return;
            }
            replica.Outstanding = report.Outstanding;
            replica.Queued = report.Queued;
            replica.Served = report.Served;
            replica.RunsOn = report.Device;
            if (report.Silo != replica.Silo)
            {
                replica.Silo = report.Silo;
                _dirty = true;
            }
        }
        catch (Exception e)
        {
            MarkLost(entry, replica, $"the replica on silo {replica.Silo} did not answer its load check: {e.Message}");
        }
    }

    private void MarkLost(VersionRecord entry, ReplicaRecord replica, string reason)
    {
        replica.State = ReplicaState.Lost;
        replica.Error = reason;
        replica.Outstanding = 0;
        replica.Queued = 0;
        _dirty = true;
        Log.ReplicaLost(logger, Model, entry.Version, replica.Index, reason);
    }

    private async Task RetireAsync(VersionRecord entry, ReplicaRecord replica)
    {
        if (replica.State == ReplicaState.Unplaced || replica.Silo.Length == 0)
        {
            // Never placed: there is no activation to free, and calling one would try to place it.
            return;
        }
        replica.State = ReplicaState.Unloading;
        try
        {
            await GrainFactory.Replica(Model, entry.Version, replica.Index, replica.Device).RetireAsync();
            Log.ReplicaRetired(logger, Model, entry.Version, replica.Index, replica.Silo);
        }
        catch (Exception e)
        {
            // Its silo is gone or going; nothing is left to free.
            Log.ReplicaFailed(logger, Model, entry.Version, replica.Index, e.Message);
        }
    }

    private async Task MoveAsync(VersionRecord entry, ReplicaRecord replica, ReplicaMove move)
    {
        Log.ReplicaMoving(logger, Model, entry.Version, replica.Index, move.From, move.To);
        await RetireAsync(entry, replica);
        replica.State = ReplicaState.Loading;
        replica.Silo = move.To;
        _dirty = true;
        await LoadReplicaAsync(entry, replica, move.To);
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Information, "Model {Model} version {Version} is aspired ({Path})")]
        public static partial void VersionAspired(ILogger logger, string model, long version, string path);

        [LoggerMessage(1002, LogLevel.Information, "Model {Model} version {Version} is AVAILABLE ({Available} of {Wanted} replicas)")]
        public static partial void VersionAvailable(ILogger logger, string model, long version, int available, int wanted);

        [LoggerMessage(1003, LogLevel.Error, "Model {Model} version {Version} failed to load and is END: {Reason}")]
        public static partial void VersionFailed(ILogger logger, string model, long version, string reason);

        [LoggerMessage(1004, LogLevel.Information, "Model {Model} version {Version} is unloaded (END)")]
        public static partial void VersionUnloaded(ILogger logger, string model, long version);

        [LoggerMessage(1005, LogLevel.Information, "Model {Model} replica {Replica} of version {Version} ({Device}) is loaded on silo {Silo}")]
        public static partial void ReplicaLoaded(ILogger logger, string model, long version, int replica, string device, string silo);

        [LoggerMessage(1006, LogLevel.Warning, "Model {Model} replica {Replica} of version {Version} failed: {Reason}")]
        public static partial void ReplicaFailed(ILogger logger, string model, long version, int replica, string reason);

        [LoggerMessage(1007, LogLevel.Warning, "Model {Model} replica {Replica} of version {Version} is lost and will be re-placed: {Reason}")]
        public static partial void ReplicaLost(ILogger logger, string model, long version, int replica, string reason);

        [LoggerMessage(1008, LogLevel.Warning, "Model {Model} replica {Replica} of version {Version} cannot be placed: {Reason}")]
        public static partial void ReplicaUnplaced(ILogger logger, string model, long version, int replica, string reason);

        [LoggerMessage(1009, LogLevel.Information, "Model {Model} replica {Replica} of version {Version} moves from silo {From} to silo {To} (spreading replicas)")]
        public static partial void ReplicaMoving(ILogger logger, string model, long version, int replica, string from, string to);

        [LoggerMessage(1010, LogLevel.Information, "Model {Model} replica {Replica} of version {Version} on silo {Silo} is retired")]
        public static partial void ReplicaRetired(ILogger logger, string model, long version, int replica, string silo);

        [LoggerMessage(1011, LogLevel.Information, "Model {Model} deployment override: {Deployment}")]
        public static partial void DeploymentOverride(ILogger logger, string model, string deployment);

        [LoggerMessage(1012, LogLevel.Information, "Model {Model} manager resumed with {Versions} versions from its persisted state")]
        public static partial void Resumed(ILogger logger, string model, int versions);

        [LoggerMessage(1013, LogLevel.Error, "Model {Model}: reconciling failed; retrying at the next check")]
        public static partial void ReconcileFailed(ILogger logger, Exception exception, string model);

        [LoggerMessage(1015, LogLevel.Information, "Model {Model} experiment {Experiment} started: {Arms}")]
        public static partial void ExperimentStarted(ILogger logger, string model, string experiment, string arms);

        [LoggerMessage(1016, LogLevel.Information, "Model {Model} experiment {Experiment} weights: {Weights}")]
        public static partial void ExperimentWeights(ILogger logger, string model, string experiment, string weights);

        [LoggerMessage(1017, LogLevel.Information, "Model {Model} experiment {Experiment} promoted arm {Arm}: version {Version} is the default")]
        public static partial void ExperimentPromoted(ILogger logger, string model, string experiment, string arm, long version);

        [LoggerMessage(1018, LogLevel.Information, "Model {Model} experiment {Experiment} stopped; the default is {Default} again")]
        public static partial void ExperimentStopped(ILogger logger, string model, string experiment, string @default);

        [LoggerMessage(1014, LogLevel.Warning, "Model {Model}: persisting its state failed; it is kept in memory and written again at the next change")]
        public static partial void SaveFailed(ILogger logger, Exception exception, string model);
    }
}
