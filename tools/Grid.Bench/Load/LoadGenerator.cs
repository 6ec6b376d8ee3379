using System.Diagnostics;
using System.Runtime.InteropServices;
using Grid.Bench.Results;
using Grpc.Core;

namespace Grid.Bench.Load;

/// <summary>What one load point measured.</summary>
public sealed record LoadResult(
    double MeasuredSeconds,
    long Successes,
    long Errors,
    long Dropped,
    string? FirstError,
    LatencySummary Latency,
    double? SendLagP99Ms = null)
{
    public double ThroughputRps => MeasuredSeconds > 0 ? Successes / MeasuredSeconds : 0;
}

/// <summary>A counter of answers that a progress display can read while a point runs.</summary>
public sealed class LiveCounter
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}

/// <summary>
/// Closed- and open-loop load against one <see cref="IPredictClient"/>. A point first warms up,
/// then measures; successes count only inside the measured window, errors count whenever they
/// happen (warm-up included), so nothing is hidden.
/// </summary>
public static class LoadGenerator
{
    /// <summary>How long requests still in flight at the end of a point may take before they are cancelled.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <paramref name="concurrency"/> clients, each sending its next request as soon as the
    /// previous one is answered.
    /// </summary>
    public static async Task<LoadResult> RunClosedAsync(
        IPredictClient client, int concurrency, double warmupSeconds, double durationSeconds,
        LiveCounter live, CancellationToken cancellationToken)
    {
        var f = Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmupSeconds * f);
        var measureEnd = measureStart + (long)(durationSeconds * f);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(warmupSeconds + durationSeconds) + Grace);
        var recorders = Enumerable.Range(0, concurrency).Select(_ => new LatencyRecorder()).ToArray();

        async Task WorkerAsync(int worker)
        {
            var recorder = recorders[worker];
            while (Stopwatch.GetTimestamp() < measureEnd)
            {
                var sent = Stopwatch.GetTimestamp();
                string? error = null;
                try
                {
                    await client.PredictAsync(worker, stop.Token);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    return;   // cut off at the end of the point (or by Ctrl+C): not an answer
                }
                catch (Exception e)
                {
                    error = Describe(e);
                }
                var answered = Stopwatch.GetTimestamp();
                if (error is not null)
                {
                    recorder.Error(error);
                }
                else if (answered >= measureStart && answered < measureEnd)
                {
                    recorder.Success(Stopwatch.GetElapsedTime(sent, answered).TotalMilliseconds);
                    live.Increment();
                }
            }
        }

        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(() => WorkerAsync(w), CancellationToken.None)).ToArray();
        await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();
        var (latencies, errors, firstError) = LatencyRecorder.Merge(recorders);
        return new LoadResult(durationSeconds, latencies.Length, errors, 0, firstError, LatencySummary.FromUnsorted(latencies));
    }

    /// <summary>
    /// Requests sent on <paramref name="schedule"/> from a dedicated thread, whatever the server
    /// does; latency runs from each request's due time. At most <paramref name="maxOutstanding"/>
    /// requests are in flight: a request due while that many are outstanding is dropped and
    /// counted. Measured requests still unanswered <see cref="Grace"/> after the schedule ends
    /// (or <paramref name="grace"/>) are cancelled and counted as errors.
    /// </summary>
    public static async Task<LoadResult> RunOpenAsync(
        IPredictClient client, OpenLoopSchedule schedule, int maxOutstanding,
        LiveCounter live, CancellationToken cancellationToken, TimeSpan? grace = null)
    {
        var cutoff = grace ?? Grace;
        var recorder = new LatencyRecorder();
        var gate = new object();
        long outstanding = 0;
        long dropped = 0;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var issuingDone = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var f = Stopwatch.Frequency;

        void Finish()
        {
            if (Interlocked.Decrement(ref outstanding) == 0 && Volatile.Read(ref issuingDone) == 1)
            {
                drained.TrySetResult();
            }
        }

        void IssuingDone()
        {
            Volatile.Write(ref issuingDone, 1);
            if (Interlocked.Read(ref outstanding) == 0)
            {
                drained.TrySetResult();
            }
        }

        async Task SendAsync(long index, long due)
        {
            var measured = schedule.IsMeasured(index);
            try
            {
                await client.PredictAsync((int)(index % int.MaxValue), stop.Token);
                if (measured)
                {
                    var latency = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                    lock (gate)
                    {
                        recorder.Success(latency);
                    }
                    live.Increment();
                }
            }
            catch (Exception e)
            {
                var message = stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                    ? $"no answer within {cutoff.TotalSeconds:0.#} s after the schedule ended"
                    : Describe(e);
                if (!cancellationToken.IsCancellationRequested)
                {
                    lock (gate)
                    {
                        recorder.Error(message);
                    }
                }
            }
            finally
            {
                Finish();
            }
        }

        var start = 0L;
        var lags = new List<double>();   // how late each measured request left: written by the issuer only
        void Issue()
        {
            start = Stopwatch.GetTimestamp();
            for (long i = 0; i < schedule.TotalCount && !stop.IsCancellationRequested; i++)
            {
                var due = start + (long)(schedule.DueSeconds(i) * f);
                SleepUntil(due);
                if (schedule.IsMeasured(i))
                {
                    lags.Add(Stopwatch.GetElapsedTime(due).TotalMilliseconds);
                }
                if (Interlocked.Read(ref outstanding) >= maxOutstanding)
                {
                    if (schedule.IsMeasured(i))
                    {
                        dropped++;
                    }
                    continue;
                }
                Interlocked.Increment(ref outstanding);
                _ = SendAsync(i, due);
            }
        }

        // One dedicated thread keeps the schedule; sends start on it and complete on the pool.
        var issuer = new Thread(Issue) { IsBackground = true, Name = "open-loop schedule" };
        issuer.Start();
        await Task.Run(issuer.Join, CancellationToken.None);
        IssuingDone();
        stop.CancelAfter(cutoff);
        await drained.Task;
        cancellationToken.ThrowIfCancellationRequested();
        var (latencies, errors, firstError) = LatencyRecorder.Merge([recorder]);
        return new LoadResult(schedule.DurationSeconds, latencies.Length, errors, dropped, firstError, LatencySummary.FromUnsorted(latencies),
            LatencySummary.FromUnsorted(lags.ToArray()).P99Ms);
    }

    /// <summary>Sleeps the calling thread until <paramref name="timestamp"/>, to within about 0.1 ms on Linux.</summary>
    private static void SleepUntil(long timestamp)
    {
        while (true)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }
            if (OperatingSystem.IsLinux())
            {
                // Thread.Sleep has millisecond granularity; usleep keeps sub-millisecond schedules without spinning.
                Native.usleep((uint)Math.Max(1, remaining.TotalMicroseconds));
            }
            else
            {
                Thread.Sleep(remaining.TotalMilliseconds >= 1 ? remaining : TimeSpan.Zero);
            }
        }
    }

    /// <summary>A one-line description of a failed request.</summary>
    public static string Describe(Exception e) => e switch
    {
        RpcException r => $"gRPC {r.StatusCode}: {r.Status.Detail}",
        HttpRequestException h => h.InnerException is null ? h.Message : $"{h.Message} ({h.InnerException.Message})",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static class Native
    {
        [DllImport("libc", SetLastError = false)]
        internal static extern int usleep(uint microseconds);
    }
}
