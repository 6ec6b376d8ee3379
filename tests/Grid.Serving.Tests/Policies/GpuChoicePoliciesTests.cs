using Grid.Serving.Policies;

namespace Grid.Serving.Tests.Policies;

public class GpuChoicePoliciesTests
{
    private readonly FewestReplicasGpuChoice _policy = new();

    [Fact]
    public void Choose_NoGpus_ReturnsNull()
    {
        // Act
        var ordinal = _policy.Choose([], neededBytes: 10, limitBytes: null);

        // Assert
        Assert.Null(ordinal);
    }

    [Fact]
    public void Choose_UnevenReplicas_PicksTheGpuWithFewest()
    {
        // Arrange
        GpuUse[] gpus = [new(0, Replicas: 2, ReservedBytes: 10), new(1, Replicas: 1, ReservedBytes: 500), new(2, Replicas: 3, ReservedBytes: 0)];

        // Act
        var ordinal = _policy.Choose(gpus, neededBytes: 10, limitBytes: null);

        // Assert
        Assert.Equal(1, ordinal);
    }

    [Fact]
    public void Choose_EqualReplicas_PicksLeastReservedThenLowestOrdinal()
    {
        // Arrange
        GpuUse[] lessReserved = [new(0, 1, 300), new(1, 1, 200)];
        GpuUse[] tied = [new(1, 1, 200), new(0, 1, 200)];

        // Act
        var first = _policy.Choose(lessReserved, 10, null);
        var second = _policy.Choose(tied, 10, null);

        // Assert
        Assert.Equal(1, first);
        Assert.Equal(0, second);
    }

    [Fact]
    public void Choose_EmptiestGpuLacksRoom_SkipsIt()
    {
        // Arrange: gpu:0 has fewer replicas but only 50 bytes left under the limit
        GpuUse[] gpus = [new(0, 0, 950), new(1, 2, 100)];

        // Act
        var ordinal = _policy.Choose(gpus, neededBytes: 100, limitBytes: 1000);

        // Assert
        Assert.Equal(1, ordinal);
    }

    [Fact]
    public void Choose_NothingFitsUnderTheLimit_ReturnsNull()
    {
        // Arrange
        GpuUse[] gpus = [new(0, 0, 0), new(1, 0, 0)];

        // Act
        var ordinal = _policy.Choose(gpus, neededBytes: 1001, limitBytes: 1000);

        // Assert
        Assert.Null(ordinal);
    }

    [Fact]
    public void Choose_ExactlyFillsTheLimit_Fits()
    {
        // Act
        var ordinal = _policy.Choose([new(0, 1, 600)], neededBytes: 400, limitBytes: 1000);

        // Assert
        Assert.Equal(0, ordinal);
    }
}
