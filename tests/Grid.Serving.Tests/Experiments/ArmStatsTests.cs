using Grid.Experiments;

namespace Grid.Serving.Tests.Experiments;

public sealed class ArmStatsTests
{
    private static long[] Buckets(params (int Bucket, long Count)[] entries)
    {
        var buckets = new long[LatencyHistogram.BucketCount];
        foreach (var (bucket, count) in entries)
        {
            buckets[bucket] = count;
        }
        return buckets;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(0.05)]
    public void Bucket_AtOrBelowFirstBound_ReturnsZero(double latencyMs)
    {
        Assert.Equal(0, LatencyHistogram.Bucket(latencyMs));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    public void Bucket_ValueEqualToUpperBound_ReturnsThatBucket(int bucket)
    {
        Assert.Equal(bucket, LatencyHistogram.Bucket(LatencyHistogram.UpperBoundMs(bucket)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(30)]
    public void Bucket_ValueJustAboveUpperBound_ReturnsNextBucket(int bucket)
    {
        var justAbove = LatencyHistogram.UpperBoundMs(bucket) * 1.0001;

        Assert.Equal(bucket + 1, LatencyHistogram.Bucket(justAbove));
    }

    [Theory]
    [InlineData(1e6)]
    [InlineData(1e12)]
    [InlineData(double.MaxValue)]
    public void Bucket_HugeValue_ClampsToLastBucket(double latencyMs)
    {
        Assert.Equal(LatencyHistogram.BucketCount - 1, LatencyHistogram.Bucket(latencyMs));
    }

    [Fact]
    public void Percentile_EmptyHistogram_ReturnsNull()
    {
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.BucketCount], 0.5));
    }

    [Theory]
    [InlineData(0.5, 5)]
    [InlineData(0.99, 5)]
    [InlineData(1.0, 40)]
    public void Percentile_99InBucket5And1InBucket40_ReturnsUpperBoundOfRankBucket(double quantile, int expectedBucket)
    {
        var buckets = Buckets((5, 99), (40, 1));

        Assert.Equal(LatencyHistogram.UpperBoundMs(expectedBucket), LatencyHistogram.Percentile(buckets, quantile));
    }

    [Fact]
    public void Empty_Always_HasZeroCountsAndBucketCountBuckets()
    {
        var empty = ArmStats.Empty;

        Assert.Equal(0, empty.Requests);
        Assert.Equal(0, empty.Errors);
        Assert.Equal(LatencyHistogram.BucketCount, empty.LatencyBuckets.Length);
        Assert.All(empty.LatencyBuckets, b => Assert.Equal(0, b));
        Assert.Empty(empty.Classes);
        Assert.Equal(0.0, empty.OutputSum);
        Assert.Equal(0, empty.OutputCount);
        Assert.Null(empty.LatencyPercentileMs(0.5));
    }

    [Fact]
    public void Add_TwoStats_SumsCountsBucketsAndOutputsAndUnionsClasses()
    {
        var left = new ArmStats(10, 1, Buckets((0, 3), (5, 7)), new Dictionary<string, long> { ["0"] = 4, ["1"] = 6 }, 2.5, 10);
        var right = new ArmStats(5, 2, Buckets((5, 1), (79, 4)), new Dictionary<string, long> { ["1"] = 3, ["2"] = 2 }, 1.25, 5);

        var sum = left.Add(right);

        Assert.Equal(15, sum.Requests);
        Assert.Equal(3, sum.Errors);
        Assert.Equal(Buckets((0, 3), (5, 8), (79, 4)), sum.LatencyBuckets);
        Assert.Equal(new Dictionary<string, long> { ["0"] = 4, ["1"] = 9, ["2"] = 2 }, sum.Classes);
        Assert.Equal(3.75, sum.OutputSum);
        Assert.Equal(15, sum.OutputCount);
    }

    [Fact]
    public void Add_TwoStats_DoesNotMutateOperands()
    {
        var leftBuckets = Buckets((0, 3), (5, 7));
        var rightBuckets = Buckets((5, 1));
        var leftClasses = new Dictionary<string, long> { ["0"] = 4 };
        var rightClasses = new Dictionary<string, long> { ["0"] = 1, ["1"] = 3 };
        var left = new ArmStats(10, 1, leftBuckets, leftClasses, 2.5, 10);
        var right = new ArmStats(5, 2, rightBuckets, rightClasses, 1.25, 5);

        var sum = left.Add(right);
        sum.LatencyBuckets[0] = 999;
        sum.Classes["0"] = 999;

        Assert.Equal(Buckets((0, 3), (5, 7)), left.LatencyBuckets);
        Assert.Equal(Buckets((5, 1)), right.LatencyBuckets);
        Assert.Equal(new Dictionary<string, long> { ["0"] = 4 }, left.Classes);
        Assert.Equal(new Dictionary<string, long> { ["0"] = 1, ["1"] = 3 }, right.Classes);
        Assert.Equal(10, left.Requests);
        Assert.Equal(5, right.Requests);
        Assert.NotSame(left.LatencyBuckets, sum.LatencyBuckets);
        Assert.NotSame(left.Classes, sum.Classes);
    }

    [Fact]
    public void Add_EmptyAndStats_EqualsStatsValues()
    {
        var stats = new ArmStats(3, 1, Buckets((2, 3)), new Dictionary<string, long> { ["a"] = 3 }, 0.5, 3);

        var sum = ArmStats.Empty.Add(stats);

        Assert.Equal(stats.Requests, sum.Requests);
        Assert.Equal(stats.Errors, sum.Errors);
        Assert.Equal(stats.LatencyBuckets, sum.LatencyBuckets);
        Assert.Equal(stats.Classes, sum.Classes);
        Assert.Equal(stats.OutputSum, sum.OutputSum);
        Assert.Equal(stats.OutputCount, sum.OutputCount);
    }

    [Fact]
    public void Add_ShorterBucketArray_TreatsMissingBucketsAsZero()
    {
        var shortStats = new ArmStats(1, 0, [0, 0, 2], [], 0, 0);

        var sum = shortStats.Add(new ArmStats(1, 0, Buckets((2, 1), (50, 1)), [], 0, 0));

        Assert.Equal(LatencyHistogram.BucketCount, sum.LatencyBuckets.Length);
        Assert.Equal(Buckets((2, 3), (50, 1)), sum.LatencyBuckets);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.99)]
    [InlineData(1.0)]
    public void LatencyPercentileMs_AnyQuantile_DelegatesToHistogram(double quantile)
    {
        var buckets = Buckets((5, 99), (40, 1));
        var stats = new ArmStats(100, 0, buckets, [], 0, 0);

        Assert.Equal(LatencyHistogram.Percentile(buckets, quantile), stats.LatencyPercentileMs(quantile));
    }
}
