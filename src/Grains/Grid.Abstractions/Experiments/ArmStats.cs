namespace Grid.Experiments;

/// <summary>
/// What one arm measured: requests, errors, a latency histogram and an output summary. Counts
/// from several gateways merge by addition, so a manager can sum the deltas each gateway sends.
/// </summary>
/// <param name="LatencyBuckets">Counts per <see cref="LatencyHistogram"/> bucket.</param>
/// <param name="Classes">For a classifier output: predicted class index → count.</param>
/// <param name="OutputSum">For other outputs: the sum of each response's first output value.</param>
[GenerateSerializer, Immutable, Alias("grid.ArmStats")]
public sealed record ArmStats(
    [property: Id(0)] long Requests,
    [property: Id(1)] long Errors,
    [property: Id(2)] long[] LatencyBuckets,
    [property: Id(3)] Dictionary<string, long> Classes,
    [property: Id(4)] double OutputSum,
    [property: Id(5)] long OutputCount)
{
    public static ArmStats Empty => new(0, 0, new long[LatencyHistogram.BucketCount], [], 0, 0);

    public ArmStats Add(ArmStats other)
    {
        var buckets = new long[LatencyHistogram.BucketCount];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = LatencyBuckets.ElementAtOrDefault(i) + other.LatencyBuckets.ElementAtOrDefault(i);
        }
        var classes = new Dictionary<string, long>(Classes, StringComparer.Ordinal);
        foreach (var (k, v) in other.Classes)
        {
            classes[k] = classes.GetValueOrDefault(k) + v;
        }
        return new ArmStats(Requests + other.Requests, Errors + other.Errors, buckets, classes, OutputSum + other.OutputSum, OutputCount + other.OutputCount);
    }

    public double? LatencyPercentileMs(double quantile) => LatencyHistogram.Percentile(LatencyBuckets, quantile);
}

/// <summary>
/// Fixed log-spaced latency buckets, shared by every gateway so histograms add up: bucket i
/// holds latencies up to 0.05 ms × 1.2^i; 80 buckets reach about 95 s. A percentile is read
/// as the upper bound of the bucket it falls in, so it overstates by at most 20 %.
/// </summary>
public static class LatencyHistogram
{
    public const int BucketCount = 80;
    private const double FirstBoundMs = 0.05;
    private const double Growth = 1.2;

    public static double UpperBoundMs(int bucket) => FirstBoundMs * Math.Pow(Growth, bucket);

    public static int Bucket(double latencyMs)
    {
        if (latencyMs <= FirstBoundMs)
        {
            return 0;
        }
        var i = (int)Math.Ceiling(Math.Log(latencyMs / FirstBoundMs) / Math.Log(Growth) - 1e-9);
        return Math.Clamp(i, 0, BucketCount - 1);
    }

    /// <summary>The latency under which <paramref name="quantile"/> of the samples fall; null without samples.</summary>
    public static double? Percentile(long[] buckets, double quantile)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return null;
        }
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            seen += buckets[i];
            if (seen >= Math.Max(1, rank))
            {
                return UpperBoundMs(i);
            }
        }
        return UpperBoundMs(buckets.Length - 1);
    }
}
