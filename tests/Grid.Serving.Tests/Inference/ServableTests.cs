using Grid.Inference;
using Grid.Models;
using Grid.Serving.Batching;
using Grid.Serving.Inference;
using Grid.Tensors;
using Grid.Testing;

namespace Grid.Serving.Tests.Inference;

public sealed class ServableTests
{
    private static readonly ModelSignature Signature = new(ModelSignature.DefaultKey, ModelSignature.PredictMethodName,
        [new TensorSpec("x", "x", TensorDType.Float, [-1, 1])], [new TensorSpec("y", "y", TensorDType.Float, [-1, 1])]);

    /// <summary>y = x + 1; blocks on a gate so a test can hold a request in flight.</summary>
    private sealed class GatedSession : IModelSession
    {
        public ManualResetEventSlim Gate { get; } = new(initialState: true);
        public SemaphoreSlim Entered { get; } = new(0);
        public int RunThread { get; private set; }
        public bool Disposed { get; private set; }

        public IReadOnlyList<ModelSignature> Signatures => [Signature];

        public NamedTensor[] Run(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases)
        {
            Assert.False(Disposed, "Run on a disposed session");
            RunThread = Environment.CurrentManagedThreadId;
            Entered.Release();
            Gate.Wait(TaskTimeoutExtensions.Timeout);
            var x = inputs[0].Tensor;
            return [new NamedTensor("y", TensorData.FromFloats(x.Shape, x.AsSpan<float>().ToArray().Select(v => v + 1).ToArray()))];
        }

        public void Dispose() => Disposed = true;
    }

    private static InferenceRequest Request(float x) => new(ModelSignature.DefaultKey, [new NamedTensor("x", TensorData.FromFloats([1, 1], [x]))], []);

    [Fact]
    public async Task PredictAsync_Unbatched_RunsOnTheCallersThread()
    {
        var session = new GatedSession();
        var servable = new Servable("m", 1, session, queue: null);

        var result = await servable.PredictAsync(Request(2), CancellationToken.None).DefaultTimeout();

        Assert.Equal(3f, result.Outputs[0].Tensor.AsSpan<float>()[0]);
        Assert.Equal(Environment.CurrentManagedThreadId, session.RunThread);
        Assert.Equal(1, result.Version);
    }

    [Fact]
    public async Task CloseAsync_RequestInFlight_WaitsThenDisposesSession()
    {
        var session = new GatedSession();
        session.Gate.Reset();
        var servable = new Servable("m", 1, session, queue: null);
        var running = servable.PredictAsync(Request(1), runOnCaller: false, CancellationToken.None);
        await session.Entered.WaitAsync(TaskTimeoutExtensions.Timeout);

        var closing = servable.CloseAsync();

        Assert.False(closing.IsCompleted);
        Assert.False(session.Disposed);
        Assert.Equal(1, servable.InFlight);
        session.Gate.Set();
        Assert.Equal(2f, (await running.DefaultTimeout()).Outputs[0].Tensor.AsSpan<float>()[0]);
        await closing.DefaultTimeout();
        Assert.True(session.Disposed);
    }

    [Fact]
    public async Task PredictAsync_AfterCloseBegins_ThrowsVersionNotLoaded()
    {
        var session = new GatedSession();
        var servable = new Servable("m", 7, session, queue: null);

        await servable.CloseAsync().DefaultTimeout();
        var e = await Assert.ThrowsAsync<ServingException>(() => servable.PredictAsync(Request(1), CancellationToken.None)).DefaultTimeout();

        Assert.Equal(ServingFailureKind.VersionNotLoaded, e.Kind);
        Assert.Equal("Servable {name: m version: 7} is not loaded", e.Message);
        Assert.Equal(0, servable.InFlight);
        await servable.CloseAsync().DefaultTimeout();
    }

    [Fact]
    public async Task PredictAsync_WithBatchQueue_RunsThroughTheQueueAndDropsRestoredDimension()
    {
        using var scheduler = new SharedBatchScheduler(1);
        var session = new GatedSession();
        var queue = scheduler.CreateQueue("m", new BatchingParameters(MaxBatchSize: 4), (key, inputs) => session.Run(key.Signature, inputs, key.OutputAliases));
        var servable = new Servable("m", 1, session, queue);

        // Shape [2] for a [-1,1] input: TF Serving accepts it and answers with shape [2].
        var request = new InferenceRequest(ModelSignature.DefaultKey, [new NamedTensor("x", TensorData.FromFloats([2], [1, 2]))], []);
        var result = await servable.PredictAsync(request, CancellationToken.None).DefaultTimeout();

        Assert.Equal([2L], result.Outputs[0].Tensor.Shape);
        Assert.Equal([2f, 3f], result.Outputs[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal(1, servable.BatchStats!.Batches);
        await servable.CloseAsync().DefaultTimeout();
        Assert.True(session.Disposed);
    }
}

public sealed class LocalReplicaDirectoryTests
{
    private sealed class Replica : ILocalReplica
    {
        public Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    [Fact]
    public void Remove_AnotherInstanceUnderTheKey_KeepsTheCurrentOne()
    {
        var directory = new LocalReplicaDirectory();
        var old = new Replica();
        var current = new Replica();
        directory.Add("m/1/0", old);
        directory.Add("m/1/0", current);

        directory.Remove("m/1/0", old);

        Assert.True(directory.TryGet("m/1/0", out var found));
        Assert.Same(current, found);
        directory.Remove("m/1/0", current);
        Assert.False(directory.TryGet("m/1/0", out _));
    }
}
