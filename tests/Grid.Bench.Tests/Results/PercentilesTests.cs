using Grid.Bench.Results;

namespace Grid.Bench.Tests.Results;

public sealed class PercentilesTests
{
    [Fact]
    public void NearestRank_HundredValues_ReturnsTheValueAtThatRank()
    {
        // Arrange
        var sorted = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();

        // Act
        var p50 = Percentiles.NearestRank(sorted, 50);
        var p90 = Percentiles.NearestRank(sorted, 90);
        var p99 = Percentiles.NearestRank(sorted, 99);
        var p100 = Percentiles.NearestRank(sorted, 100);

        // Assert
        Assert.Equal(50, p50);
        Assert.Equal(90, p90);
        Assert.Equal(99, p99);
        Assert.Equal(100, p100);
    }

    [Fact]
    public void NearestRank_FewValues_RoundsTheRankUp()
    {
        // Arrange: ranks ceil(0.5·4)=2, ceil(0.9·4)=4, ceil(0.01·4)=1
        double[] sorted = [1, 2, 3, 4];

        // Act / Assert
        Assert.Equal(2, Percentiles.NearestRank(sorted, 50));
        Assert.Equal(4, Percentiles.NearestRank(sorted, 90));
        Assert.Equal(1, Percentiles.NearestRank(sorted, 1));
    }

    [Fact]
    public void NearestRank_OneValue_IsThatValueForEveryPercentile()
    {
        double[] sorted = [7.5];

        Assert.Equal(7.5, Percentiles.NearestRank(sorted, 0.1));
        Assert.Equal(7.5, Percentiles.NearestRank(sorted, 99.9));
    }

    [Fact]
    public void NearestRank_Empty_IsNull()
    {
        Assert.Null(Percentiles.NearestRank([], 50));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100.5)]
    [InlineData(double.NaN)]
    public void NearestRank_OutOfRange_Throws(double p)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1.0], p));
    }

    [Fact]
    public void FromUnsorted_ShuffledValues_SortsAndSummarises()
    {
        // Arrange
        var values = Enumerable.Range(1, 1000).Select(i => (double)i).Reverse().ToArray();

        // Act
        var summary = LatencySummary.FromUnsorted(values);

        // Assert
        Assert.Equal(500, summary.P50Ms);
        Assert.Equal(900, summary.P90Ms);
        Assert.Equal(990, summary.P99Ms);
        Assert.Equal(1000, summary.MaxMs);
    }

    [Fact]
    public void FromUnsorted_Empty_HasNoPercentiles()
    {
        var summary = LatencySummary.FromUnsorted([]);

        Assert.Null(summary.P50Ms);
        Assert.Null(summary.MaxMs);
    }
}
