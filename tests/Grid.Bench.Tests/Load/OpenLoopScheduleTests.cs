using Grid.Bench.Load;

namespace Grid.Bench.Tests.Load;

public sealed class OpenLoopScheduleTests
{
    [Fact]
    public void DueSeconds_FixedRate_SpacesRequestsEvenly()
    {
        // Arrange
        var schedule = new OpenLoopSchedule(rate: 200, warmupSeconds: 0, durationSeconds: 1);

        // Act / Assert: request i is due at i / rate, whatever happened before it
        Assert.Equal(0, schedule.DueSeconds(0));
        Assert.Equal(0.005, schedule.DueSeconds(1), 9);
        Assert.Equal(0.5, schedule.DueSeconds(100), 9);
        for (var i = 1; i < 200; i++)
        {
            Assert.Equal(0.005, schedule.DueSeconds(i) - schedule.DueSeconds(i - 1), 9);
        }
    }

    [Fact]
    public void Counts_WarmupAndDuration_SplitTheScheduleAtTheRate()
    {
        // Arrange / Act
        var schedule = new OpenLoopSchedule(rate: 500, warmupSeconds: 0.25, durationSeconds: 2);

        // Assert
        Assert.Equal(125, schedule.WarmupCount);
        Assert.Equal(1000, schedule.MeasuredCount);
        Assert.Equal(1125, schedule.TotalCount);
    }

    [Fact]
    public void IsMeasured_IndexAroundTheWindow_OnlyTheMeasuredRequestsCount()
    {
        var schedule = new OpenLoopSchedule(rate: 100, warmupSeconds: 0.5, durationSeconds: 1);

        Assert.False(schedule.IsMeasured(0));
        Assert.False(schedule.IsMeasured(49));
        Assert.True(schedule.IsMeasured(50));
        Assert.True(schedule.IsMeasured(149));
        Assert.False(schedule.IsMeasured(150));
    }

    [Fact]
    public void DueBy_ElapsedTime_CountsRequestsDueSoFarAndStopsAtTheTotal()
    {
        var schedule = new OpenLoopSchedule(rate: 10, warmupSeconds: 0, durationSeconds: 1);

        Assert.Equal(0, schedule.DueBy(-0.1));
        Assert.Equal(1, schedule.DueBy(0));          // request 0 is due at once
        Assert.Equal(1, schedule.DueBy(0.099));
        Assert.Equal(2, schedule.DueBy(0.1));
        Assert.Equal(10, schedule.DueBy(0.95));
        Assert.Equal(10, schedule.DueBy(60));        // never more than the schedule holds
    }

    [Fact]
    public void Constructor_LowRateShortDuration_MeasuresAtLeastOneRequest()
    {
        var schedule = new OpenLoopSchedule(rate: 1, warmupSeconds: 0, durationSeconds: 0.1);

        Assert.Equal(1, schedule.MeasuredCount);
    }

    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(-5, 0, 1)]
    [InlineData(double.NaN, 0, 1)]
    [InlineData(double.PositiveInfinity, 0, 1)]
    [InlineData(10, -1, 1)]
    [InlineData(10, 0, 0)]
    public void Constructor_BadArguments_Throws(double rate, double warmup, double duration)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OpenLoopSchedule(rate, warmup, duration));
    }
}
