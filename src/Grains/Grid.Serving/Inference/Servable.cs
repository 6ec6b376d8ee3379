using Grid.Inference;
using Grid.Models;
using Grid.Serving.Batching;
using Grid.Tensors;

namespace Grid.Serving.Inference;

/// <summary>
/// One loaded replica of a model version: its session, its batch queue (when batching is on)
/// and its in-flight count. The version grain creates and closes it; Predict may be called
/// from any thread, through the grain or directly from a co-located gateway.
/// </summary>
/// <remarks>
/// Guarantees: after <see cref="CloseAsync"/> begins, new requests get VersionNotLoaded (which
/// the gateway retries); CloseAsync completes only when every admitted request has finished,
/// and only then closes the queue and disposes the session, so a session is never disposed
/// under a running request.
/// </remarks>
public sealed class Servable : ILocalReplica
{
    private readonly IModelSession _session;
    private readonly BatchQueue? _queue;
    private readonly ModelSignature[] _signatures;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private long _served;
    private volatile bool _closing;
    private Task? _closed;

    public Servable(string model, long version, IModelSession session, BatchQueue? queue)
    {
        Model = model;
        Version = version;
        _session = session;
        _queue = queue;
        _signatures = [.. session.Signatures];
    }

    public string Model { get; }

    public long Version { get; }

    public ModelSignature[] Signatures => _signatures;

    /// <summary>Requests admitted and not yet answered (queued or running).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests answered successfully since the replica was loaded.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Batch counters; null without batching.</summary>
    public BatchQueueStats? BatchStats => _queue?.Stats;

    /// <summary>Predict from a thread that may block: an unbatched run executes on the caller's thread.</summary>
    public Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken)
        => PredictAsync(request, runOnCaller: true, cancellationToken);

    /// <summary>
    /// Validates and runs one request. With <paramref name="runOnCaller"/> false an unbatched run
    /// goes to the thread pool, for callers (grain turns) that must not block.
    /// </summary>
    public async Task<InferenceResult> PredictAsync(InferenceRequest request, bool runOnCaller, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (_closing)
            {
                throw ServingException.VersionNotLoaded(Model, Version);
            }
            var signature = SignatureValidator.ResolveSignature(_signatures, request.SignatureName);
            var prepared = SignatureValidator.Prepare(signature, request);
            cancellationToken.ThrowIfCancellationRequested();
            NamedTensor[] tensors;
            if (_queue is not null)
            {
                tensors = await RunBatchedAsync(_queue, signature, prepared, cancellationToken);
            }
            else if (runOnCaller)
            {
                tensors = _session.Run(signature, prepared.Inputs, prepared.OutputAliases);
            }
            else
            {
                tensors = await Task.Run(() => _session.Run(signature, prepared.Inputs, prepared.OutputAliases), cancellationToken);
            }
            if (prepared.RestoredUnitDimension)
            {
                tensors = Array.ConvertAll(tensors, SignatureValidator.DropTrailingUnitDimension);
            }
            Interlocked.Increment(ref _served);
            return new InferenceResult(Version, signature.Key, tensors);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && _closing)
            {
                _drained.TrySetResult();
            }
        }
    }

    private Task<NamedTensor[]> RunBatchedAsync(BatchQueue queue, ModelSignature signature, PreparedRequest prepared, CancellationToken cancellationToken)
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
            return Task.Run(() => _session.Run(signature, inputs, prepared.OutputAliases), cancellationToken);
        }
        var key = BatchKey.For(signature, inputs, prepared.OutputAliases, queue.Parameters.PadVariableLengthInputs);
        return queue.EnqueueAsync(key, inputs, rows, cancellationToken);
    }

    /// <summary>Refuses new work, waits for admitted requests, then frees the queue and session. Idempotent.</summary>
    public Task CloseAsync()
    {
        lock (_drained)
        {
            return _closed ??= CloseCoreAsync();
        }
    }

    private async Task CloseCoreAsync()
    {
        _closing = true;
        // A full fence between publishing _closing and reading the count: PredictAsync does the
        // mirror image (increment, then read _closing), so one of the two always sees the other.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }
        await _drained.Task;
        _queue?.Dispose();
        _session.Dispose();
    }
}
