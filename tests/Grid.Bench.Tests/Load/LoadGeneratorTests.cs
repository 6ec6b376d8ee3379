using Grid.Bench.Load;
using Grid.Testing;

namespace Grid.Bench.Tests.Load;

/// <summary>
/// The closed and open loops against in-memory clients: what they count, not how fast. Points
/// are half a second at most; the loops end on their own schedule.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class LoadGeneratorTests
{
    private sealed class AnsweringClient : IPredictClient
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async Task PredictAsync(int worker, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            await Task.Yield();
        }
    }

    private sealed class FailingClient : IPredictClient
    {
        public async Task PredictAsync(int worker, CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new InvalidOperationException("boom");
        }
    }

    /// <summary>Never answers: each call waits until the load generator cancels it.</summary>
    private sealed class SilentClient : IPredictClient
    {
        public Task PredictAsync(int worker, CancellationToken cancellationToken) =>
            Task.Delay(Timeout.Infinite, cancellationToken);
    }

    [Fact]
    public async Task RunClosedAsync_AnsweringClient_CountsSuccessesAndLatencies()
    {
        // Arrange
        var client = new AnsweringClient();
        var live = new LiveCounter();

        // Act
        var result = await LoadGenerator.RunClosedAsync(client, concurrency: 4, warmupSeconds: 0.05, durationSeconds: 0.5, live, CancellationToken.None).DefaultTimeout();

        // Assert
        Assert.True(result.Successes > 0);
        Assert.Equal(0, result.Errors);
        Assert.Null(result.FirstError);
        Assert.Equal(result.Successes / 0.5, result.ThroughputRps, 6);
        Assert.Equal(result.Successes, live.Value);
        Assert.True(client.Calls >= result.Successes);   // warm-up calls are sent but not counted
        Assert.NotNull(result.Latency.P50Ms);
        Assert.True(result.Latency.P50Ms <= result.Latency.P99Ms);
    }

    [Fact]
    public async Task RunClosedAsync_FailingClient_CountsEveryErrorAndKeepsTheFirstMessage()
    {
        // Act
        var result = await LoadGenerator.RunClosedAsync(new FailingClient(), concurrency: 2, warmupSeconds: 0, durationSeconds: 0.5, new LiveCounter(), CancellationToken.None).DefaultTimeout();

        // Assert
        Assert.Equal(0, result.Successes);
        Assert.True(result.Errors > 0);
        Assert.Equal("InvalidOperationException: boom", result.FirstError);
        Assert.Null(result.Latency.P50Ms);
        Assert.Equal(0, result.ThroughputRps);
    }

    [Fact]
    public async Task RunOpenAsync_AnsweringClient_AnswersEveryMeasuredRequest()
    {
        // Arrange: 0.05 s warm-up and 0.1 s measured at 1000 req/s
        var schedule = new OpenLoopSchedule(rate: 1000, warmupSeconds: 0.05, durationSeconds: 0.1);
        var client = new AnsweringClient();

        // Act
        var result = await LoadGenerator.RunOpenAsync(client, schedule, maxOutstanding: 1000, new LiveCounter(), CancellationToken.None).DefaultTimeout();

        // Assert
        Assert.Equal(schedule.TotalCount, client.Calls);
        Assert.Equal(100, result.Successes);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Dropped);
        Assert.Equal(1000, result.ThroughputRps, 6);
        Assert.True(result.SendLagP99Ms >= 0);
    }

    [Fact]
    public async Task RunOpenAsync_ServerNeverAnswers_DropsBeyondTheCapAndCountsTheUnansweredAsErrors()
    {
        // Arrange: 50 requests due, at most 3 in flight
        var schedule = new OpenLoopSchedule(rate: 1000, warmupSeconds: 0, durationSeconds: 0.05);

        // Act
        var result = await LoadGenerator.RunOpenAsync(new SilentClient(), schedule, maxOutstanding: 3, new LiveCounter(), CancellationToken.None,
            grace: TimeSpan.FromMilliseconds(100)).DefaultTimeout();

        // Assert: the schedule goes on regardless of answers; nothing is silently lost
        Assert.Equal(0, result.Successes);
        Assert.Equal(47, result.Dropped);
        Assert.Equal(3, result.Errors);
        Assert.StartsWith("no answer within", result.FirstError);
    }

    [Fact]
    public async Task RunClosedAsync_Cancelled_Throws()
    {
        // Arrange
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        // Act / Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            LoadGenerator.RunClosedAsync(new SilentClient(), 2, 0, 10, new LiveCounter(), cts.Token).DefaultTimeout());
    }
}
