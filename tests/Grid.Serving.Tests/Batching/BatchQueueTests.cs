using System.Collections.Concurrent;
using Grid.Models;
using Grid.Serving.Batching;
using Grid.Tensors;
using Grid.Testing;

namespace Grid.Serving.Tests.Batching;

/// <summary>
/// The queue and the shared scheduler with a deterministic runner: y = 2x + 1 per element and
/// a "batch" output that reports the rows the runner saw. Ordering comes from full batches,
/// long timeouts and a gate the runner blocks on, never from sleeping.
/// </summary>
public sealed class BatchQueueTests : IDisposable
{
    private static readonly ModelSignature Signature = new("serving_default", ModelSignature.PredictMethodName,
        [new TensorSpec("x", "x", TensorDType.Float, [-1, -1])],
        [new TensorSpec("y", "y", TensorDType.Float, [-1, -1]), new TensorSpec("batch", "batch", TensorDType.Float, [-1, 1])]);

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private readonly SharedBatchScheduler _scheduler = new(threads: 1);
    private readonly ConcurrentQueue<int> _batchRows = new();
    private readonly ManualResetEventSlim _gate = new(initialState: true);
    private readonly SemaphoreSlim _entered = new(0);

    public void Dispose()
    {
        _gate.Set();
        _scheduler.Dispose();
    }

    private NamedTensor[] Run(BatchKey key, NamedTensor[] inputs)
    {
        _entered.Release();
        _gate.Wait(TaskTimeoutExtensions.Timeout);
        var x = inputs[0].Tensor;
        var rows = (int)x.Shape[0];
        _batchRows.Enqueue(rows);
        var y = x.AsSpan<float>().ToArray().Select(v => 2 * v + 1).ToArray();
        var all = new[]
        {
            new NamedTensor("y", TensorData.FromFloats(x.Shape, y)),
            new NamedTensor("batch", TensorData.FromFloats([rows, 1], Enumerable.Repeat((float)rows, rows).ToArray())),
        };
        return key.OutputAliases.Select(a => all.First(t => t.Name == a)).ToArray();
    }

    private BatchQueue Queue(BatchingParameters parameters) => _scheduler.CreateQueue("test", parameters, Run);

    private static NamedTensor[] Input(int rows, int width = 2, float start = 0)
        => [new NamedTensor("x", TensorData.FromFloats([rows, width], Enumerable.Range(0, rows * width).Select(i => start + i).ToArray()))];

    private static Task<NamedTensor[]> Enqueue(BatchQueue queue, NamedTensor[] inputs, string[]? outputs = null, CancellationToken cancellationToken = default)
    {
        var key = BatchKey.For(Signature, inputs, outputs ?? ["y", "batch"], queue.Parameters.PadVariableLengthInputs);
        return queue.EnqueueAsync(key, inputs, (int)inputs[0].Tensor.Shape[0], cancellationToken);
    }

    private static float[] Expected(NamedTensor[] inputs) => inputs[0].Tensor.AsSpan<float>().ToArray().Select(v => 2 * v + 1).ToArray();

    [Fact]
    public async Task EnqueueAsync_RequestsFillABatch_RunsOneMergedBatchAndReturnsEachOwnRows()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 6, BatchTimeoutMicros: (long)Long.TotalMicroseconds));
        var inputs = new[] { Input(1, start: 0), Input(2, start: 100), Input(3, start: 200) };

        var results = await Task.WhenAll(inputs.Select(i => Enqueue(queue, i))).DefaultTimeout();

        Assert.Equal([6], _batchRows);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(inputs[i][0].Tensor.Shape, results[i][0].Tensor.Shape);
            Assert.Equal(Expected(inputs[i]), results[i][0].Tensor.AsSpan<float>().ToArray());
            Assert.All(results[i][1].Tensor.AsSpan<float>().ToArray(), b => Assert.Equal(6f, b));
        }
        Assert.Equal(new BatchQueueStats(1, 6, 0, 0), queue.Stats);
    }

    [Fact]
    public async Task EnqueueAsync_AllowedBatchSizes_PadsButNeverReturnsPaddingRows()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 8, AllowedBatchSizes: [4, 8]));
        var input = Input(3, start: 7);

        var result = await Enqueue(queue, input).DefaultTimeout();

        Assert.Equal([4], _batchRows);
        Assert.Equal([3L, 2], result[0].Tensor.Shape);
        Assert.Equal(Expected(input), result[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal([4f, 4f, 4f], result[1].Tensor.AsSpan<float>().ToArray());
        Assert.Equal(1, queue.Stats.PaddingRows);
    }

    [Fact]
    public async Task EnqueueAsync_DifferentKeys_AreNeverMixed()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 2, BatchTimeoutMicros: (long)Long.TotalMicroseconds));

        // Width 2, width 3 and a different output filter each open their own batch; each fills with its twin.
        var tasks = new[]
        {
            Enqueue(queue, Input(1, width: 2)), Enqueue(queue, Input(1, width: 3)), Enqueue(queue, Input(1, width: 2), ["y"]),
            Enqueue(queue, Input(1, width: 2)), Enqueue(queue, Input(1, width: 3)), Enqueue(queue, Input(1, width: 2), ["y"]),
        };
        var results = await Task.WhenAll(tasks).DefaultTimeout();

        Assert.Equal([2, 2, 2], _batchRows);
        Assert.Equal([1L, 3], results[1][0].Tensor.Shape);
        Assert.Single(results[2]);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFull_FailsAtOnceWithUnavailable()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 2, BatchTimeoutMicros: (long)Long.TotalMicroseconds, MaxEnqueuedBatches: 1));
        _gate.Reset();
        var running = Enqueue(queue, Input(2));
        await _entered.WaitAsync(TaskTimeoutExtensions.Timeout);
        var waiting = Enqueue(queue, Input(1));

        var e = await Assert.ThrowsAsync<ServingException>(() => Enqueue(queue, Input(2))).DefaultTimeout();

        Assert.Equal(ServingStatusCode.Unavailable, e.Code);
        Assert.Contains("max_enqueued_batches", e.Message);
        _gate.Set();
        var filler = Enqueue(queue, Input(1));
        await Task.WhenAll(running, waiting, filler).DefaultTimeout();
        Assert.Equal([2, 2], _batchRows);
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileWaiting_LeavesTheBatch()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 2, BatchTimeoutMicros: (long)Long.TotalMicroseconds));
        using var cts = new CancellationTokenSource();
        var cancelled = Enqueue(queue, Input(1, start: 1000), cancellationToken: cts.Token);

        await cts.CancelAsync();
        var e = await Assert.ThrowsAsync<ServingException>(() => cancelled).DefaultTimeout();
        Assert.Equal(ServingStatusCode.Cancelled, e.Code);
        Assert.Equal(0, queue.Stats.QueuedRequests);

        var a = Input(1, start: 1);
        var b = Input(1, start: 2);
        var results = await Task.WhenAll(Enqueue(queue, a), Enqueue(queue, b)).DefaultTimeout();
        Assert.Equal([2], _batchRows);
        Assert.Equal(Expected(a), results[0][0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal(Expected(b), results[1][0].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public async Task EnqueueAsync_LargerThanMaxBatchSize_ThrowsInvalidArgument()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 4));

        var e = await Assert.ThrowsAsync<ServingException>(() => Enqueue(queue, Input(5))).DefaultTimeout();

        Assert.Equal(ServingStatusCode.InvalidArgument, e.Code);
        Assert.Equal("Task size 5 is larger than maximum input batch size 4", e.Message);
    }

    [Fact]
    public async Task EnqueueAsync_LargeBatchSplitting_SplitsAcrossBatchesAndJoinsExactly()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 10, EnableLargeBatchSplitting: true, MaxExecutionBatchSize: 4));
        var input = Input(10, start: 3);

        var result = await Enqueue(queue, input).DefaultTimeout();

        Assert.Equal([4, 4, 2], _batchRows);
        Assert.Equal([10L, 2], result[0].Tensor.Shape);
        Assert.Equal(Expected(input), result[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal([4f, 4, 4, 4, 4, 4, 4, 4, 2, 2], result[1].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public async Task EnqueueAsync_SplittingOn_FillsTheOpenBatchFirst()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 4, BatchTimeoutMicros: (long)Long.TotalMicroseconds, EnableLargeBatchSplitting: true));
        var first = Enqueue(queue, Input(3, start: 0));
        var second = Input(3, start: 50);

        var secondTask = Enqueue(queue, second);
        await first.DefaultTimeout();

        // One row of the second request completed the first batch; its other two rows wait.
        Assert.Equal([4], _batchRows);
        Assert.False(secondTask.IsCompleted);
        var third = await Enqueue(queue, Input(2, start: 90)).DefaultTimeout();
        var secondResult = await secondTask.DefaultTimeout();
        Assert.Equal([4, 4], _batchRows);
        Assert.Equal(Expected(second), secondResult[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal([2L, 2], third[0].Tensor.Shape);
    }

    [Fact]
    public async Task EnqueueAsync_SplittingOffAndNoRoom_ClosesTheOpenBatch()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 4, BatchTimeoutMicros: (long)Long.TotalMicroseconds));
        var first = Enqueue(queue, Input(3));

        var second = Enqueue(queue, Input(3));
        await first.DefaultTimeout();

        Assert.Equal([3], _batchRows);
        Assert.False(second.IsCompleted);
        await Task.WhenAll(second, Enqueue(queue, Input(1))).DefaultTimeout();
        Assert.Equal([3, 4], _batchRows);
    }

    [Fact]
    public async Task EnqueueAsync_ShortTimeout_RunsAnUnderFullBatch()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 64, BatchTimeoutMicros: 1000));

        var result = await Enqueue(queue, Input(1, start: 4)).DefaultTimeout();

        Assert.Equal([1], _batchRows);
        Assert.Equal([9f, 11f], result[0].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public async Task EnqueueAsync_PadVariableLengthInputs_PadsInnerDimensionsWithFirstElement()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 2, BatchTimeoutMicros: (long)Long.TotalMicroseconds, PadVariableLengthInputs: true));
        var shortRow = new[] { new NamedTensor("x", TensorData.FromFloats([1, 2], [5, 6])) };
        var longRow = new[] { new NamedTensor("x", TensorData.FromFloats([1, 3], [1, 2, 3])) };

        var results = await Task.WhenAll(Enqueue(queue, shortRow), Enqueue(queue, longRow)).DefaultTimeout();

        Assert.Equal([2], _batchRows);
        Assert.Equal([1L, 3], results[0][0].Tensor.Shape);
        Assert.Equal([11f, 13f, 11f], results[0][0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal([3f, 5f, 7f], results[1][0].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public async Task EnqueueAsync_RunnerThrows_FailsEveryRequestInTheBatchAndKeepsServing()
    {
        var failing = true;
        var queue = _scheduler.CreateQueue("flaky", new BatchingParameters(MaxBatchSize: 2, BatchTimeoutMicros: (long)Long.TotalMicroseconds), (key, inputs) =>
        {
            if (failing)
            {
                throw new InvalidOperationException("engine exploded");
            }
            return Run(key, inputs);
        });

        var failures = new[] { Enqueue(queue, Input(1)), Enqueue(queue, Input(1)) };
        foreach (var f in failures)
        {
            var e = await Assert.ThrowsAsync<ServingException>(() => f).DefaultTimeout();
            Assert.Equal(ServingStatusCode.Internal, e.Code);
            Assert.Contains("engine exploded", e.Message);
        }
        failing = false;
        await Task.WhenAll(Enqueue(queue, Input(1)), Enqueue(queue, Input(1))).DefaultTimeout();
        Assert.Equal([2], _batchRows);
    }

    [Fact]
    public async Task Dispose_WaitingRequests_FailWithUnavailable()
    {
        var queue = Queue(new BatchingParameters(MaxBatchSize: 2, BatchTimeoutMicros: (long)Long.TotalMicroseconds));
        var waiting = Enqueue(queue, Input(1));

        queue.Dispose();

        var e = await Assert.ThrowsAsync<ServingException>(() => waiting).DefaultTimeout();
        Assert.Equal(ServingStatusCode.Unavailable, e.Code);
        var after = await Assert.ThrowsAsync<ServingException>(() => Enqueue(queue, Input(1))).DefaultTimeout();
        Assert.Equal(ServingStatusCode.Unavailable, after.Code);
    }

    [Fact]
    public async Task Scheduler_TwoQueuesReady_TakesThemRoundRobin()
    {
        var order = new ConcurrentQueue<string>();
        _gate.Reset();
        BatchRunner Named(string name) => (key, inputs) => { order.Enqueue(name); return Run(key, inputs); };
        var parameters = new BatchingParameters(MaxBatchSize: 1);
        var a = _scheduler.CreateQueue("a", parameters, Named("a"));
        var b = _scheduler.CreateQueue("b", parameters, Named("b"));

        // While the only thread is blocked, queue a1, a2, a3 and b1, b2: service must alternate.
        var blocker = Enqueue(a, Input(1));
        await _entered.WaitAsync(TaskTimeoutExtensions.Timeout);
        var a2 = Enqueue(a, Input(1));
        var a3 = Enqueue(a, Input(1));
        var b1 = Enqueue(b, Input(1));
        var b2 = Enqueue(b, Input(1));
        _gate.Set();
        await Task.WhenAll(blocker, a2, a3, b1, b2).DefaultTimeout();

        Assert.Equal(["a", "b", "a", "b", "a"], order);
    }
}
