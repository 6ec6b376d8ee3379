using System.Diagnostics;

namespace Grid.Serving.Batching;

/// <summary>
/// TF Serving's shared batch scheduler: one pool of <c>num_batch_threads</c> dedicated threads
/// serves every model version's <see cref="BatchQueue"/>, taking ready batches round-robin
/// across queues so one busy model cannot starve another.
/// </summary>
/// <remarks>
/// All queue state is guarded by the scheduler's single lock; batches run outside it. A batch
/// is ready when it is full, when a newer batch for the same key has closed it, or when its
/// oldest request has waited <c>batch_timeout_micros</c>. An idle thread sleeps until the
/// earliest deadline (millisecond resolution) or until an enqueue signals it.
/// </remarks>
public sealed class SharedBatchScheduler : IDisposable
{
    // A plain object, not System.Threading.Lock: threads sleep on it with Monitor.Wait.
    private readonly object _lock = new();
    private readonly List<BatchQueue> _queues = [];
    private readonly Thread[] _threads;
    private int _next;
    private bool _stopping;

    public SharedBatchScheduler(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"grid-batch-{i}" };
            _threads[i].Start();
        }
    }

    internal object SyncRoot => _lock;

    /// <summary>Adds a queue; <paramref name="run"/> executes one merged batch synchronously.</summary>
    public BatchQueue CreateQueue(string name, BatchingParameters parameters, BatchRunner run)
    {
        var error = BatchingParametersValidator.Validate(parameters);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(parameters));
        }
        var queue = new BatchQueue(this, name, parameters, run);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _queues.Add(queue);
        }
        return queue;
    }

    internal void Remove(BatchQueue queue)
    {
        lock (_lock)
        {
            _queues.Remove(queue);
        }
    }

    /// <summary>Wakes one idle thread; call with the lock held.</summary>
    internal void SignalLocked() => Monitor.Pulse(_lock);

    private void Loop()
    {
        while (true)
        {
            BatchQueue queue;
            BatchQueue.Batch batch;
            lock (_lock)
            {
                while (true)
                {
                    if (_stopping)
                    {
                        return;
                    }
                    var now = Stopwatch.GetTimestamp();
                    var wake = long.MaxValue;
                    BatchQueue.Batch? found = null;
                    BatchQueue? owner = null;
                    var count = _queues.Count;
                    for (var i = 0; i < count; i++)
                    {
                        var candidate = _queues[(_next + i) % count];
                        if (candidate.TryTakeLocked(now, ref wake) is { } b)
                        {
                            found = b;
                            owner = candidate;
                            _next = (_next + i + 1) % count;
                            break;
                        }
                    }
                    if (found is not null)
                    {
                        batch = found;
                        queue = owner!;
                        break;
                    }
                    var timeout = wake == long.MaxValue
                        ? Timeout.Infinite
                        : (int)Math.Clamp(Math.Ceiling(Stopwatch.GetElapsedTime(now, wake).TotalMilliseconds), 1, int.MaxValue);
                    Monitor.Wait(_lock, timeout);
                }
            }
            queue.Execute(batch);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        foreach (var t in _threads)
        {
            t.Join();
        }
    }
}
