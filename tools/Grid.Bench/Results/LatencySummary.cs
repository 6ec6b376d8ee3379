namespace Grid.Bench.Results;

/// <summary>Nearest-rank percentiles over a set of latencies. Pure.</summary>
public static class Percentiles
{
    /// <summary>
    /// The nearest-rank percentile <paramref name="p"/> (0 &lt; p ≤ 100) of an ascending array:
    /// the smallest value with at least p % of the values at or below it. Null when empty.
    /// </summary>
    public static double? NearestRank(ReadOnlySpan<double> sorted, double p)
    {
        if (p is <= 0 or > 100 || double.IsNaN(p))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A percentile is in (0, 100].");
        }
        if (sorted.IsEmpty)
        {
            return null;
        }
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}

/// <summary>p50/p90/p99/max of a sample, in milliseconds.</summary>
public readonly record struct LatencySummary(double? P50Ms, double? P90Ms, double? P99Ms, double? MaxMs)
{
    /// <summary>Sorts <paramref name="latenciesMs"/> in place and summarises it.</summary>
    public static LatencySummary FromUnsorted(double[] latenciesMs)
    {
        Array.Sort(latenciesMs);
        ReadOnlySpan<double> s = latenciesMs;
        return new LatencySummary(
            Percentiles.NearestRank(s, 50),
            Percentiles.NearestRank(s, 90),
            Percentiles.NearestRank(s, 99),
            s.IsEmpty ? null : s[^1]);
    }
}
