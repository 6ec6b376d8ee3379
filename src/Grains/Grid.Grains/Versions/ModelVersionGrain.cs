using Grid.Devices;
using Grid.Grains.Hosting;
using Grid.Grains.Placement;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Batching;
using Grid.Serving.Inference;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Grid.Grains.Versions;

/// <summary>
/// One replica of one model version: owns its <see cref="Servable"/> (session and batch
/// queue). Reentrant so concurrent Predicts overlap and can share a batch; inference never
/// runs on the Orleans scheduler. Pinned in memory while loaded, because idle collection would
/// throw away an expensive session; once unloaded it is left to ordinary idle collection
/// rather than deactivated at once, so requests already addressed to it get a retryable
/// VersionNotLoaded answer instead of an Orleans forwarding failure.
/// </summary>
/// <remarks>
/// While loaded, the replica is also listed in the process's <see cref="LocalReplicaDirectory"/>,
/// so a gateway in the same process can call it without a grain message. Unload removes the
/// listing first, then waits for every admitted request (from either path) before freeing the
/// session. Fields are touched only on the grain's scheduler.
/// Each device requirement has its own sealed subclass below, carrying the placement filter
/// that keeps its activations on silos offering that device.
/// <para>The version it serves is persisted, so an activation that Orleans re-creates (its silo
/// died, or the grain directory lost track of it) loads that version before taking its first
/// message instead of answering VersionNotLoaded: like any virtual actor, the replica exists
/// until it is unloaded.</para>
/// </remarks>
[Reentrant]
public abstract partial class ModelVersionGrain(
    IPersistentState<ReplicaAssignment> assignment,
    IModelEngine engine, DeviceBinder devices, BatchQueueFactory batching, LocalReplicaDirectory localReplicas, ILocalSiloDetails silo, ILogger<ModelVersionGrain> logger)
    : Grain, IModelVersionGrain
{
    private string _key = "";
    private string _model = "";
    private long _version;
    private int _replica;
    private Servable? _servable;
    private DeviceLease? _lease;
    private string? _fingerprint;
    private Task<ModelSignature[]>? _loading;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        (_model, _version, _replica) = ModelVersionKey.Parse(_key);
        if (assignment.State.Source is { } source)
        {
            Log.Resuming(logger, _model, _version, _replica, SiloName);
            try
            {
                await LoadCoreAsync(source);
            }
            catch (ServingException)
            {
                // Logged by the load; the manager's next check sees an unloaded replica.
            }
        }
    }

    /// <summary>What this replica needs from its silo; fixed by the subclass.</summary>
    protected abstract DeviceRequirement Device { get; }

    private string SiloName => silo.SiloAddress.ToString();

    public async Task<ReplicaLoaded> LoadAsync(AspiredVersion version, CancellationToken cancellationToken = default)
    {
        if (_servable is not null && _fingerprint == version.Fingerprint)
        {
            return new ReplicaLoaded(_servable.Signatures, SiloName) { Device = RunsOn };
        }
        if (_loading is not null)
        {
            return new ReplicaLoaded(await _loading, SiloName) { Device = RunsOn };
        }
        _loading = LoadCoreAsync(version);
        try
        {
            var signatures = await _loading;
            if (assignment.State.Source != version)
            {
                assignment.State.Source = version;
                await assignment.WriteStateAsync();
            }
            return new ReplicaLoaded(signatures, SiloName) { Device = RunsOn };
        }
        finally
        {
            _loading = null;
        }
    }

    /// <summary>The device the loaded replica is bound to: <c>cpu</c> or <c>gpu:N</c>; empty when unloaded.</summary>
    private string RunsOn => _lease?.Device.Name ?? "";

    public Task<ReplicaReport> GetReportAsync() => Task.FromResult(_servable is { } s
        ? new ReplicaReport(true, SiloName, s.InFlight, s.BatchStats?.QueuedRequests ?? 0, _fingerprint) { Served = s.Served, Device = RunsOn }
        : new ReplicaReport(false, SiloName, 0, 0, null));

    public async Task RetireAsync(CancellationToken cancellationToken = default)
    {
        await UnloadAsync(cancellationToken);
        DeactivateOnIdle();
    }

    private async Task<ModelSignature[]> LoadCoreAsync(AspiredVersion version)
    {
        await CloseServableAsync();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        DeviceLease? lease = null;
        try
        {
            var chosen = engine.Resolve(version.Path);
            lease = devices.Bind(Device, chosen, chosen.EstimateDeviceBytes(version.Path), $"model {_model} version {_version} replica {_replica}");
            Log.Loading(logger, _model, _version, _replica, chosen.Name, lease.Device.ToString(), SiloName, version.Path);
            var bound = lease.Device;
            var session = await Task.Run(() => chosen.Load(version.Path, bound));
            BatchQueue? queue;
            try
            {
                queue = batching.Create(
                    $"model {_model} version {_version} replica {_replica}",
                    version.Path,
                    (key, inputs) => session.Run(key.Signature, inputs, key.OutputAliases));
            }
            catch
            {
                session.Dispose();
                throw;
            }
            if (queue is not null)
            {
                var b = queue.Parameters;
                Log.Batching(logger, _model, _version, _replica, b.MaxBatchSize, b.BatchTimeoutMicros, b.MaxEnqueuedBatches,
                    b.AllowedBatchSizes is { Count: > 0 } sizes ? string.Join(",", sizes) : "any", b.EnableLargeBatchSplitting, b.PadVariableLengthInputs);
            }
            _servable = new Servable(_model, _version, session, queue);
            _lease = lease;
            lease = null;
            _fingerprint = version.Fingerprint;
            localReplicas.Add(_key, _servable);
            DelayDeactivation(Timeout.InfiniteTimeSpan);
            Log.Loaded(logger, _model, _version, _replica, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return _servable.Signatures;
        }
        catch (Exception e)
        {
            lease?.Dispose();
            Log.LoadFailed(logger, e, _model, _version, _replica, e.Message);
            if (e is ServingException)
            {
                throw;
            }
            throw new ServingException(ServingStatusCode.Internal, $"Failed to load version {_version} of model {_model}: {e.Message}");
        }
    }

    public async Task UnloadAsync(CancellationToken cancellationToken = default)
    {
        if (_loading is not null)
        {
            try
            {
                await _loading;
            }
            catch (ServingException)
            {
                // A failed load leaves nothing to unload.
            }
        }
        if (_servable is not null)
        {
            await CloseServableAsync();
            Log.Unloaded(logger, _model, _version, _replica);
        }
        if (assignment.State.Source is not null)
        {
            await assignment.ClearStateAsync();
        }
        DelayDeactivation(TimeSpan.Zero);
    }

    public Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken = default)
        => _servable is { } servable
            ? servable.PredictAsync(request, runOnCaller: false, cancellationToken)
            : Task.FromException<InferenceResult>(ServingException.VersionNotLoaded(_model, _version));

    /// <summary>Unlists the replica, then waits for its admitted requests and frees it.</summary>
    private async Task CloseServableAsync()
    {
        if (_servable is not { } servable)
        {
            return;
        }
        localReplicas.Remove(_key, servable);
        await servable.CloseAsync();
        if (_servable == servable)
        {
            _servable = null;
            _fingerprint = null;
            // The session is disposed: its device memory is back, so the budget is too.
            _lease?.Dispose();
            _lease = null;
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => CloseServableAsync();

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Information, "Loading model {Model} version {Version} replica {Replica} with {Engine} on {Device} on silo {Silo} from {Path}")]
        public static partial void Loading(ILogger logger, string model, long version, int replica, string engine, string device, string silo, string path);

        [LoggerMessage(1102, LogLevel.Information, "Loaded model {Model} version {Version} replica {Replica} in {ElapsedMs:F0} ms")]
        public static partial void Loaded(ILogger logger, string model, long version, int replica, double elapsedMs);

        [LoggerMessage(1103, LogLevel.Error, "Failed to load model {Model} version {Version} replica {Replica}: {Reason}")]
        public static partial void LoadFailed(ILogger logger, Exception exception, string model, long version, int replica, string reason);

        [LoggerMessage(1105, LogLevel.Information, "Batching model {Model} version {Version} replica {Replica}: max_batch_size {MaxBatchSize}, batch_timeout_micros {TimeoutMicros}, max_enqueued_batches {MaxEnqueuedBatches}, allowed_batch_sizes {AllowedBatchSizes}, splitting {Splitting}, pad_variable_length_inputs {Pad}")]
        public static partial void Batching(ILogger logger, string model, long version, int replica, int maxBatchSize, long timeoutMicros, int maxEnqueuedBatches, string allowedBatchSizes, bool splitting, bool pad);

        [LoggerMessage(1106, LogLevel.Information, "Re-activated model {Model} version {Version} replica {Replica} on silo {Silo}; loading its persisted version")]
        public static partial void Resuming(ILogger logger, string model, long version, int replica, string silo);

        [LoggerMessage(1104, LogLevel.Information, "Unloaded model {Model} version {Version} replica {Replica}")]
        public static partial void Unloaded(ILogger logger, string model, long version, int replica);
    }
}

/// <summary>A replica that may run on any silo: a usable GPU's engine where offered, the CPU otherwise.</summary>
[DeviceFilter(DeviceRequirement.Any), ReplicaPlacementAttribute]
public sealed class AnyModelVersionGrain(
    [PersistentState("replica", GridStorage.Name)] IPersistentState<ReplicaAssignment> assignment,
    IModelEngine engine, DeviceBinder devices, BatchQueueFactory batching, LocalReplicaDirectory localReplicas, ILocalSiloDetails silo, ILogger<ModelVersionGrain> logger)
    : ModelVersionGrain(assignment, engine, devices, batching, localReplicas, silo, logger)
{
    protected override DeviceRequirement Device => DeviceRequirement.Any;
}

/// <summary>A replica that must run on a silo offering the CPU.</summary>
[DeviceFilter(DeviceRequirement.Cpu), ReplicaPlacementAttribute]
public sealed class CpuModelVersionGrain(
    [PersistentState("replica", GridStorage.Name)] IPersistentState<ReplicaAssignment> assignment,
    IModelEngine engine, DeviceBinder devices, BatchQueueFactory batching, LocalReplicaDirectory localReplicas, ILocalSiloDetails silo, ILogger<ModelVersionGrain> logger)
    : ModelVersionGrain(assignment, engine, devices, batching, localReplicas, silo, logger)
{
    protected override DeviceRequirement Device => DeviceRequirement.Cpu;
}

/// <summary>A replica that must run on a silo offering a usable GPU; never falls back to the CPU.</summary>
[DeviceFilter(DeviceRequirement.Gpu), ReplicaPlacementAttribute]
public sealed class GpuModelVersionGrain(
    [PersistentState("replica", GridStorage.Name)] IPersistentState<ReplicaAssignment> assignment,
    IModelEngine engine, DeviceBinder devices, BatchQueueFactory batching, LocalReplicaDirectory localReplicas, ILocalSiloDetails silo, ILogger<ModelVersionGrain> logger)
    : ModelVersionGrain(assignment, engine, devices, batching, localReplicas, silo, logger)
{
    protected override DeviceRequirement Device => DeviceRequirement.Gpu;
}

/// <summary>The version a replica serves, persisted so a re-created activation loads it again.</summary>
[GenerateSerializer, Alias("grid.ReplicaAssignment")]
public sealed class ReplicaAssignment
{
    [Id(0)] public AspiredVersion? Source { get; set; }
}
