using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Batching;
using Grid.Serving.Inference;
using Grid.Tensors;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Grid.Grains.Versions;

/// <summary>
/// One replica of one model version: owns its inference session. Reentrant so concurrent
/// Predicts overlap; the engine runs on the thread pool, never on the Orleans scheduler.
/// Pinned in memory while loaded, because idle collection would throw away an expensive
/// session; once unloaded it is left to ordinary idle collection rather than deactivated at
/// once, so requests already addressed to it get a retryable VersionNotLoaded answer instead
/// of an Orleans forwarding failure.
/// </summary>
/// <remarks>
/// All fields are touched only on the grain's scheduler. Unload refuses new work, waits
/// until every in-flight run has returned (queued requests included), then closes the batch
/// queue and disposes the session, so a session is never disposed under a running request.
/// With batching on, requests go through the version's <see cref="BatchQueue"/> and are
/// merged with concurrent ones on a shared batch thread; otherwise each runs alone.
/// </remarks>
[Reentrant]
public sealed partial class ModelVersionGrain(IModelEngine engine, BatchQueueFactory batching, ILogger<ModelVersionGrain> logger) : Grain, IModelVersionGrain
{
    private string _model = "";
    private long _version;
    private int _replica;
    private IModelSession? _session;
    private BatchQueue? _batchQueue;
    private ModelSignature[] _signatures = [];
    private string? _fingerprint;
    private Task<ModelSignature[]>? _loading;
    private int _inFlight;
    private TaskCompletionSource? _drained;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_model, _version, _replica) = ModelVersionKey.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task<ModelSignature[]> LoadAsync(AspiredVersion version, CancellationToken cancellationToken = default)
    {
        if (_session is not null && _fingerprint == version.Fingerprint)
        {
            return _signatures;
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
        if (_session is not null)
        {
            await DrainAndDisposeAsync();
        }
        Log.Loading(logger, _model, _version, _replica, version.Path);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var session = await Task.Run(() => engine.Load(version.Path));
            try
            {
                _batchQueue = batching.Create(
                    $"model {_model} version {_version} replica {_replica}",
                    version.Path,
                    (key, inputs) => session.Run(key.Signature, inputs, key.OutputAliases));
            }
            catch
            {
                session.Dispose();
                throw;
            }
            _session = session;
            _signatures = [.. session.Signatures];
            _fingerprint = version.Fingerprint;
            DelayDeactivation(Timeout.InfiniteTimeSpan);
            Log.Loaded(logger, _model, _version, _replica, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return _signatures;
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
        if (_session is not null)
        {
            await DrainAndDisposeAsync();
            Log.Unloaded(logger, _model, _version, _replica);
        }
        DelayDeactivation(TimeSpan.Zero);
    }

    public async Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        var session = _session;
        if (session is null || _drained is not null)
        {
            throw ServingException.VersionNotLoaded(_model, _version);
        }
        var signature = SignatureValidator.ResolveSignature(_signatures, request.SignatureName);
        var prepared = SignatureValidator.Prepare(signature, request);
        cancellationToken.ThrowIfCancellationRequested();
        _inFlight++;
        try
        {
            var tensors = _batchQueue is { } queue
                ? await RunBatchedAsync(queue, session, signature, prepared, cancellationToken)
                : await Task.Run(() => session.Run(signature, prepared.Inputs, prepared.OutputAliases), cancellationToken);
            if (prepared.RestoredUnitDimension)
            {
                tensors = Array.ConvertAll(tensors, SignatureValidator.DropTrailingUnitDimension);
            }
            return new InferenceResult(_version, signature.Key, tensors);
        }
        finally
        {
            if (--_inFlight == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    private static Task<NamedTensor[]> RunBatchedAsync(
        BatchQueue queue, IModelSession session, ModelSignature signature, PreparedRequest prepared, CancellationToken cancellationToken)
    {
        var inputs = new NamedTensor[signature.Inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            var alias = signature.Inputs[i].Alias;
            foreach (var input in prepared.Inputs)
            {
                if (input.Name == alias)
                {
                    inputs[i] = input;
                    break;
                }
            }
        }
        var rows = BatchAssembler.RowCount(inputs);
        if (rows == 0)
        {
            // Nothing to merge: an empty request runs alone.
            return Task.Run(() => session.Run(signature, inputs, prepared.OutputAliases), cancellationToken);
        }
        var key = BatchKey.For(signature, inputs, prepared.OutputAliases, queue.Parameters.PadVariableLengthInputs);
        return queue.EnqueueAsync(key, inputs, rows, cancellationToken);
    }

    private async Task DrainAndDisposeAsync()
    {
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_inFlight == 0)
        {
            _drained.TrySetResult();
        }
        await _drained.Task;
        _batchQueue?.Dispose();
        _batchQueue = null;
        _session?.Dispose();
        _session = null;
        _signatures = [];
        _fingerprint = null;
        _drained = null;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            await DrainAndDisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Information, "Loading model {Model} version {Version} replica {Replica} from {Path}")]
        public static partial void Loading(ILogger logger, string model, long version, int replica, string path);

        [LoggerMessage(1102, LogLevel.Information, "Loaded model {Model} version {Version} replica {Replica} in {ElapsedMs:F0} ms")]
        public static partial void Loaded(ILogger logger, string model, long version, int replica, double elapsedMs);

        [LoggerMessage(1103, LogLevel.Error, "Failed to load model {Model} version {Version} replica {Replica}: {Reason}")]
        public static partial void LoadFailed(ILogger logger, Exception exception, string model, long version, int replica, string reason);

        [LoggerMessage(1104, LogLevel.Information, "Unloaded model {Model} version {Version} replica {Replica}")]
        public static partial void Unloaded(ILogger logger, string model, long version, int replica);
    }
}
