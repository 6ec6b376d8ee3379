namespace Grid.Bench.Load;

/// <summary>
/// When each request of an open-loop point is due: request <c>i</c> at <c>i / rate</c> seconds
/// after the start, whatever the earlier requests are doing. Requests due before
/// <see cref="WarmupSeconds"/> warm the server up; the next <see cref="MeasuredCount"/> are
/// measured. Latency is taken from the due time, not from when the request was actually sent,
/// so a slow server or a late sender is charged to latency (no coordinated omission). Pure.
/// </summary>
public sealed class OpenLoopSchedule
{
    public OpenLoopSchedule(double rate, double warmupSeconds, double durationSeconds)
    {
        if (!(rate > 0) || double.IsInfinity(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The rate must be a positive number of requests per second.");
        }
        if (!(warmupSeconds >= 0) || !(durationSeconds > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(durationSeconds), "Warm-up must be ≥ 0 and the duration > 0 seconds.");
        }
        Rate = rate;
        WarmupSeconds = warmupSeconds;
        DurationSeconds = durationSeconds;
        WarmupCount = (long)Math.Ceiling(warmupSeconds * rate);
        MeasuredCount = Math.Max(1, (long)Math.Round(durationSeconds * rate));
    }

    public double Rate { get; }
    public double WarmupSeconds { get; }
    public double DurationSeconds { get; }

    /// <summary>Requests due during the warm-up.</summary>
    public long WarmupCount { get; }

    /// <summary>Requests due in the measured window.</summary>
    public long MeasuredCount { get; }

    /// <summary>All requests of the point.</summary>
    public long TotalCount => WarmupCount + MeasuredCount;

    /// <summary>Seconds after the start at which request <paramref name="index"/> is due.</summary>
    public double DueSeconds(long index) => index / Rate;

    /// <summary>How many requests are due at or before <paramref name="elapsedSeconds"/> (capped at the total).</summary>
    public long DueBy(double elapsedSeconds)
    {
        if (elapsedSeconds < 0)
        {
            return 0;
        }
        return Math.Min(TotalCount, (long)Math.Floor(elapsedSeconds * Rate + 1e-9) + 1);
    }

    public bool IsMeasured(long index) => index >= WarmupCount && index < TotalCount;
}
