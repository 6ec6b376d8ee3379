using System.Diagnostics;
using Grid.Tensors;

namespace Grid.Serving.Batching;

/// <summary>Runs one merged batch: inputs in signature order, outputs in <see cref="BatchKey.OutputAliases"/> order.</summary>
public delegate NamedTensor[] BatchRunner(BatchKey key, NamedTensor[] inputs);

/// <summary>Counters of what a queue has run; read without the lock, so only roughly consistent.</summary>
public sealed record BatchQueueStats(long Batches, long Rows, long PaddingRows, int QueuedRequests);

/// <summary>
/// One model version's batch queue, served by a <see cref="SharedBatchScheduler"/>.
/// Guarantees:
/// <list type="bullet">
/// <item>Only requests with equal <see cref="BatchKey"/>s share a batch; each gets back exactly its own rows.</item>
/// <item>A batch never exceeds the execution limit; padding rows (up to the next allowed size) are dropped.</item>
/// <item>A request that would need more than <c>max_enqueued_batches</c> batches fails at once with UNAVAILABLE.</item>
/// <item>A request cancelled while still waiting leaves its batch and fails with CANCELLED; once running it completes.</item>
/// </list>
/// </summary>
public sealed class BatchQueue : IDisposable
{
    private readonly SharedBatchScheduler _scheduler;
    private readonly BatchRunner _run;
    private readonly LinkedList<Batch> _batches = new();
    private readonly Dictionary<BatchKey, Batch> _open = [];
    private readonly long _timeoutTicks;
    private int _queuedRequests;
    private long _batchesRun;
    private long _rowsRun;
    private long _paddingRows;
    private bool _disposed;

    internal BatchQueue(SharedBatchScheduler scheduler, string name, BatchingParameters parameters, BatchRunner run)
    {
        _scheduler = scheduler;
        Name = name;
        Parameters = parameters;
        _run = run;
        _timeoutTicks = (long)(parameters.BatchTimeoutMicros * (Stopwatch.Frequency / 1_000_000.0));
    }

    public string Name { get; }

    public BatchingParameters Parameters { get; }

    public BatchQueueStats Stats => new(Volatile.Read(ref _batchesRun), Volatile.Read(ref _rowsRun), Volatile.Read(ref _paddingRows), Volatile.Read(ref _queuedRequests));

    /// <summary>
    /// Queues a validated request (inputs in signature order, all with <paramref name="rows"/>
    /// rows in dimension 0) and completes with its outputs.
    /// </summary>
    public Task<NamedTensor[]> EnqueueAsync(BatchKey key, NamedTensor[] inputs, int rows, CancellationToken cancellationToken = default)
    {
        if (rows <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "A batched request needs at least one row.");
        }
        if (rows > Parameters.MaxBatchSize)
        {
            return Task.FromException<NamedTensor[]>(ServingException.InvalidArgument(
                $"Task size {rows} is larger than maximum input batch size {Parameters.MaxBatchSize}"));
        }
        cancellationToken.ThrowIfCancellationRequested();
        var request = new Request();
        lock (_scheduler.SyncRoot)
        {
            if (_disposed)
            {
                return Task.FromException<NamedTensor[]>(new ServingException(ServingStatusCode.Unavailable, $"The batch queue of {Name} is closed"));
            }
            var failure = PlaceLocked(key, inputs, rows, request);
            if (failure is not null)
            {
                return Task.FromException<NamedTensor[]>(failure);
            }
            Interlocked.Increment(ref _queuedRequests);
        }
        if (cancellationToken.CanBeCanceled)
        {
            request.Queue = this;
            request.Registration = cancellationToken.Register(static state => ((Request)state!).Queue!.Cancel((Request)state!), request);
        }
        return request.Completion.Task;
    }

    /// <summary>Puts the request's rows into batches, splitting them when allowed; null on success.</summary>
    private ServingException? PlaceLocked(BatchKey key, NamedTensor[] inputs, int rows, Request request)
    {
        var limit = Parameters.ExecutionBatchLimit;
        _open.TryGetValue(key, out var open);
        var room = open is null ? 0 : limit - open.Size;
        if (!Parameters.EnableLargeBatchSplitting)
        {
            if (open is not null && rows <= room)
            {
                AddLocked(open, new Piece(request, 0, inputs, rows));
                return null;
            }
            if (_batches.Count >= Parameters.MaxEnqueuedBatches)
            {
                return QueueFull();
            }
            AddLocked(OpenLocked(key), new Piece(request, 0, inputs, rows));
            return null;
        }

        // Splitting: fill the open batch first, then as many execution-sized batches as needed.
        var firstRows = Math.Min(room, rows);
        var newBatches = (rows - firstRows + limit - 1) / limit;
        if (_batches.Count + newBatches > Parameters.MaxEnqueuedBatches)
        {
            return QueueFull();
        }
        var pieces = new List<(int Start, int Rows)>();
        if (firstRows > 0)
        {
            pieces.Add((0, firstRows));
        }
        for (var start = firstRows; start < rows; start += limit)
        {
            pieces.Add((start, Math.Min(limit, rows - start)));
        }
        request.SetPieceCount(pieces.Count);
        for (var i = 0; i < pieces.Count; i++)
        {
            var (start, count) = pieces[i];
            var pieceInputs = pieces.Count == 1 ? inputs : Array.ConvertAll(inputs, t => t with { Tensor = BatchAssembler.Slice(t.Tensor, start, count) });
            var target = i == 0 && firstRows > 0 ? open! : OpenLocked(key);
            AddLocked(target, new Piece(request, i, pieceInputs, count));
        }
        return null;
    }

    private ServingException QueueFull() => new(ServingStatusCode.Unavailable,
        $"The batch scheduling queue to which this task was submitted is full: {Name} already holds {Parameters.MaxEnqueuedBatches} batches (max_enqueued_batches); retry later");

    private Batch OpenLocked(BatchKey key)
    {
        if (_open.Remove(key, out var previous))
        {
            previous.Closed = true;
        }
        var batch = new Batch(key, Stopwatch.GetTimestamp());
        _batches.AddLast(batch);
        _open[key] = batch;
        return batch;
    }

    private void AddLocked(Batch batch, Piece piece)
    {
        batch.Pieces.Add(piece);
        batch.Size += piece.Rows;
        piece.Batch = batch;
        piece.Owner.Pieces.Add(piece);
        if (batch.Size >= Parameters.ExecutionBatchLimit)
        {
            batch.Closed = true;
            _open.Remove(batch.Key);
        }
        // Wake a thread: the batch may be ready now, or it starts a deadline to sleep towards.
        _scheduler.SignalLocked();
    }

    /// <summary>Takes the oldest ready batch, or lowers <paramref name="wake"/> to the next deadline.</summary>
    internal Batch? TryTakeLocked(long now, ref long wake)
    {
        for (var node = _batches.First; node is not null; node = node.Next)
        {
            var batch = node.Value;
            var deadline = batch.CreatedAt + _timeoutTicks;
            if (batch.Closed || _timeoutTicks == 0 || now >= deadline)
            {
                _batches.Remove(node);
                if (_open.TryGetValue(batch.Key, out var open) && open == batch)
                {
                    _open.Remove(batch.Key);
                }
                foreach (var piece in batch.Pieces)
                {
                    piece.Batch = null;
                }
                return batch;
            }
            wake = Math.Min(wake, deadline);
        }
        return null;
    }

    /// <summary>Runs a taken batch on the calling scheduler thread and completes its requests.</summary>
    internal void Execute(Batch batch)
    {
        var pieces = batch.Pieces;
        var rowCounts = new int[pieces.Count];
        for (var i = 0; i < pieces.Count; i++)
        {
            rowCounts[i] = pieces[i].Rows;
        }
        var padded = Parameters.PaddedSize(batch.Size);
        try
        {
            var inputs = Merge(pieces, padded);
            var outputs = _run(batch.Key, inputs);
            var split = new NamedTensor[pieces.Count][];
            for (var p = 0; p < pieces.Count; p++)
            {
                split[p] = new NamedTensor[outputs.Length];
            }
            for (var o = 0; o < outputs.Length; o++)
            {
                var parts = BatchAssembler.Split(outputs[o].Name, outputs[o].Tensor, rowCounts, padded);
                for (var p = 0; p < pieces.Count; p++)
                {
                    split[p][o] = new NamedTensor(outputs[o].Name, parts[p]);
                }
            }
            Interlocked.Increment(ref _batchesRun);
            Interlocked.Add(ref _rowsRun, batch.Size);
            Interlocked.Add(ref _paddingRows, padded - batch.Size);
            for (var p = 0; p < pieces.Count; p++)
            {
                pieces[p].Owner.Complete(pieces[p].Index, split[p]);
            }
        }
        catch (Exception e)
        {
            var failure = e as ServingException ?? new ServingException(ServingStatusCode.Internal, $"Batch of {batch.Size} rows failed: {e.Message}");
            foreach (var piece in pieces)
            {
                piece.Owner.Fail(failure);
            }
        }
        finally
        {
            foreach (var piece in pieces)
            {
                if (piece.Index == 0)
                {
                    Interlocked.Decrement(ref _queuedRequests);
                }
            }
        }
    }

    private NamedTensor[] Merge(List<Piece> pieces, int padded)
    {
        var first = pieces[0].Inputs;
        if (pieces.Count == 1 && padded == pieces[0].Rows)
        {
            return first;
        }
        var merged = new NamedTensor[first.Length];
        var parts = new TensorData[pieces.Count];
        for (var i = 0; i < first.Length; i++)
        {
            for (var p = 0; p < pieces.Count; p++)
            {
                parts[p] = pieces[p].Inputs[i].Tensor;
            }
            merged[i] = new NamedTensor(first[i].Name, BatchAssembler.Concatenate(parts, padded, Parameters.PadVariableLengthInputs));
        }
        return merged;
    }

    private void Cancel(Request request)
    {
        lock (_scheduler.SyncRoot)
        {
            if (request.Completion.Task.IsCompleted)
            {
                return;
            }
            var removedFirst = false;
            foreach (var piece in request.Pieces)
            {
                if (piece.Batch is not { } batch)
                {
                    continue;
                }
                batch.Pieces.Remove(piece);
                batch.Size -= piece.Rows;
                piece.Batch = null;
                removedFirst |= piece.Index == 0;
                if (batch.Pieces.Count == 0)
                {
                    _batches.Remove(batch);
                    if (_open.TryGetValue(batch.Key, out var open) && open == batch)
                    {
                        _open.Remove(batch.Key);
                    }
                }
            }
            // Count the request as gone once no piece of it will reach Execute's bookkeeping.
            if (removedFirst)
            {
                Interlocked.Decrement(ref _queuedRequests);
            }
        }
        request.Fail(new ServingException(ServingStatusCode.Cancelled, "Request was cancelled while waiting in the batch queue"));
    }

    /// <summary>Detaches from the scheduler; requests still waiting fail with UNAVAILABLE.</summary>
    public void Dispose()
    {
        List<Piece> orphans = [];
        lock (_scheduler.SyncRoot)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var batch in _batches)
            {
                orphans.AddRange(batch.Pieces);
            }
            _batches.Clear();
            _open.Clear();
        }
        _scheduler.Remove(this);
        foreach (var piece in orphans)
        {
            piece.Owner.Fail(new ServingException(ServingStatusCode.Unavailable, $"The batch queue of {Name} was closed"));
        }
    }

    internal sealed class Batch(BatchKey key, long createdAt)
    {
        public BatchKey Key { get; } = key;
        public long CreatedAt { get; } = createdAt;
        public List<Piece> Pieces { get; } = [];
        public int Size { get; set; }
        public bool Closed { get; set; }
    }

    internal sealed class Piece(Request owner, int index, NamedTensor[] inputs, int rows)
    {
        public Request Owner { get; } = owner;
        public int Index { get; } = index;
        public NamedTensor[] Inputs { get; } = inputs;
        public int Rows { get; } = rows;

        /// <summary>The batch it waits in; null once taken to run or removed.</summary>
        public Batch? Batch { get; set; }
    }

    /// <summary>One caller's request; split into pieces when splitting is on.</summary>
    internal sealed class Request
    {
        private NamedTensor[][] _results = new NamedTensor[1][];
        private int _remaining = 1;

        public List<Piece> Pieces { get; } = new(1);
        public TaskCompletionSource<NamedTensor[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
        public BatchQueue? Queue { get; set; }

        public void SetPieceCount(int count)
        {
            _results = new NamedTensor[count][];
            _remaining = count;
        }

        public void Complete(int index, NamedTensor[] outputs)
        {
            _results[index] = outputs;
            if (Interlocked.Decrement(ref _remaining) != 0)
            {
                return;
            }
            var joined = _results[0];
            if (_results.Length > 1)
            {
                joined = new NamedTensor[_results[0].Length];
                for (var o = 0; o < joined.Length; o++)
                {
                    joined[o] = new NamedTensor(_results[0][o].Name, BatchAssembler.Join(Array.ConvertAll(_results, r => r[o].Tensor)));
                }
            }
            if (Completion.TrySetResult(joined))
            {
                Registration.Dispose();
            }
        }

        public void Fail(Exception e)
        {
            if (Completion.TrySetException(e))
            {
                Registration.Dispose();
            }
        }
    }
}
