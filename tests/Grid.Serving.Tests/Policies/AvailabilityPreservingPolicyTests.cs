using Grid.Models;
using Grid.Serving.Policies;

namespace Grid.Serving.Tests.Policies;

public class AvailabilityPreservingPolicyTests
{
    private readonly AvailabilityPreservingPolicy _policy = new();

    private static VersionSnapshot Aspired(long version, ModelVersionState state) => new(version, state, true);

    private static VersionSnapshot NotAspired(long version, ModelVersionState state) => new(version, state, false);

    [Fact]
    public void NextAction_SeveralNewAspiredVersions_LoadsHighestFirst()
    {
        // Arrange
        VersionSnapshot[] versions = [Aspired(1, ModelVersionState.Start), Aspired(3, ModelVersionState.Start), Aspired(2, ModelVersionState.Start)];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Equal(new VersionAction(VersionActionKind.Load, 3), action);
    }

    [Fact]
    public void NextAction_HighestAlreadyLoading_LoadsNextNewAspiredVersion()
    {
        // Arrange
        VersionSnapshot[] versions = [Aspired(3, ModelVersionState.Loading), Aspired(2, ModelVersionState.Start)];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Equal(new VersionAction(VersionActionKind.Load, 2), action);
    }

    [Fact]
    public void NextAction_NewAspiredWhileOldServes_LoadsNewBeforeUnloadingOld()
    {
        // Arrange
        VersionSnapshot[] versions = [NotAspired(1, ModelVersionState.Available), Aspired(2, ModelVersionState.Start)];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Equal(new VersionAction(VersionActionKind.Load, 2), action);
    }

    [Theory]
    [InlineData(ModelVersionState.Loading)]
    [InlineData(ModelVersionState.End)]
    public void NextAction_AspiredNotYetAvailable_KeepsLastAvailableVersion(ModelVersionState aspiredState)
    {
        // Arrange: the aspired version is loading, or its load failed (End)
        VersionSnapshot[] versions = [NotAspired(1, ModelVersionState.Available), Aspired(2, aspiredState)];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Null(action);
    }

    [Fact]
    public void NextAction_AspiredVersionAvailable_UnloadsUnaspiredVersion()
    {
        // Arrange
        VersionSnapshot[] versions = [NotAspired(1, ModelVersionState.Available), Aspired(2, ModelVersionState.Available)];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Equal(new VersionAction(VersionActionKind.Unload, 1), action);
    }

    [Fact]
    public void NextAction_NothingAspired_UnloadsLowestAvailable()
    {
        // Arrange
        VersionSnapshot[] versions = [NotAspired(4, ModelVersionState.Available), NotAspired(2, ModelVersionState.Available)];

        // Act
        var first = _policy.NextAction(versions);
        var second = _policy.NextAction([NotAspired(4, ModelVersionState.Available), NotAspired(2, ModelVersionState.End)]);

        // Assert
        Assert.Equal(new VersionAction(VersionActionKind.Unload, 2), first);
        Assert.Equal(new VersionAction(VersionActionKind.Unload, 4), second);
    }

    [Fact]
    public void NextAction_TwoUnaspiredAvailableWhileAspiredLoads_UnloadsLowerUnaspired()
    {
        // Arrange
        VersionSnapshot[] versions =
        [
            NotAspired(2, ModelVersionState.Available),
            NotAspired(1, ModelVersionState.Available),
            Aspired(3, ModelVersionState.Loading),
        ];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Equal(new VersionAction(VersionActionKind.Unload, 1), action);
    }

    [Fact]
    public void NextAction_SteadyState_ReturnsNull()
    {
        // Arrange
        VersionSnapshot[] versions =
        [
            Aspired(2, ModelVersionState.Available),
            NotAspired(1, ModelVersionState.End),
        ];

        // Act
        var action = _policy.NextAction(versions);

        // Assert
        Assert.Null(action);
    }

    [Fact]
    public void NextAction_NoVersions_ReturnsNull()
    {
        // Act
        var action = _policy.NextAction([]);

        // Assert
        Assert.Null(action);
    }

    [Fact]
    public void NextAction_SameSnapshotsTwice_ReturnsSameAction()
    {
        // Arrange
        VersionSnapshot[] versions = [NotAspired(1, ModelVersionState.Available), Aspired(2, ModelVersionState.Available)];

        // Act
        var first = _policy.NextAction(versions);
        var second = _policy.NextAction(versions);

        // Assert
        Assert.Equal(first, second);
    }

    [Fact]
    public void Name_Always_IsAvailabilityPreserving()
    {
        // Act
        var name = _policy.Name;

        // Assert
        Assert.Equal("AvailabilityPreserving", name);
    }
}
