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
/// </remarks>
[Reentrant]
public sealed partial class ModelVersionGrain(
    IModelEngine engine, BatchQueueFactory batching, LocalReplicaDirectory localReplicas, ILogger<ModelVersionGrain> logger)
    : Grain, IModelVersionGrain
{
    private string _key = "";
    private string _model = "";
    private long _version;
    private int _replica;
    private Servable? _servable;
    private string? _fingerprint;
    private Task<ModelSignature[]>? _loading;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        (_model, _version, _replica) = ModelVersionKey.Parse(_key);
        return Task.CompletedTask;
    }

    public async Task<ModelSignature[]> LoadAsync(AspiredVersion version, CancellationToken cancellationToken = default)
    {
        if (_servable is not null && _fingerprint == version.Fingerprint)
        {
            return _servable.Signatures;
        }
        if (_loading is not null)
        {
            return await _loading;
        }
        _loading = LoadCoreAsync(version);
        try
        {
            return await _loading;
        }
        finally
        {
            _loading = null;
        }
    }

    private async Task<ModelSignature[]> LoadCoreAsync(AspiredVersion version)
    {
        await CloseServableAsync();
        Log.Loading(logger, _model, _version, _replica, version.Path);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var session = await Task.Run(() => engine.Load(version.Path));
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
            _fingerprint = version.Fingerprint;
            localReplicas.Add(_key, _servable);
            DelayDeactivation(Timeout.InfiniteTimeSpan);
            Log.Loaded(logger, _model, _version, _replica, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return _servable.Signatures;
        }
        catch (Exception e)
        {
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
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => CloseServableAsync();

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Information, "Loading model {Model} version {Version} replica {Replica} from {Path}")]
        public static partial void Loading(ILogger logger, string model, long version, int replica, string path);

        [LoggerMessage(1102, LogLevel.Information, "Loaded model {Model} version {Version} replica {Replica} in {ElapsedMs:F0} ms")]
        public static partial void Loaded(ILogger logger, string model, long version, int replica, double elapsedMs);

        [LoggerMessage(1103, LogLevel.Error, "Failed to load model {Model} version {Version} replica {Replica}: {Reason}")]
        public static partial void LoadFailed(ILogger logger, Exception exception, string model, long version, int replica, string reason);

        [LoggerMessage(1105, LogLevel.Information, "Batching model {Model} version {Version} replica {Replica}: max_batch_size {MaxBatchSize}, batch_timeout_micros {TimeoutMicros}, max_enqueued_batches {MaxEnqueuedBatches}, allowed_batch_sizes {AllowedBatchSizes}, splitting {Splitting}, pad_variable_length_inputs {Pad}")]
        public static partial void Batching(ILogger logger, string model, long version, int replica, int maxBatchSize, long timeoutMicros, int maxEnqueuedBatches, string allowedBatchSizes, bool splitting, bool pad);

        [LoggerMessage(1104, LogLevel.Information, "Unloaded model {Model} version {Version} replica {Replica}")]
        public static partial void Unloaded(ILogger logger, string model, long version, int replica);
    }
}
