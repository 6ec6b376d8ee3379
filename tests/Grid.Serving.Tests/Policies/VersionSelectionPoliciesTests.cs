using Grid.Serving.Policies;
using Grid.Serving.Repository;

namespace Grid.Serving.Tests.Policies;

public class VersionSelectionPoliciesTests
{
    private static readonly ScannedVersion[] Ready =
    [
        new(3, "/m/3", true, "c"),
        new(1, "/m/1", true, "a"),
        new(7, "/m/7", true, "g"),
        new(5, "/m/5", true, "e"),
    ];

    [Fact]
    public void LatestSelect_OneVersion_ReturnsHighestVersion()
    {
        // Arrange
        var policy = new LatestVersionSelectionPolicy(1);

        // Act
        var selected = policy.Select(Ready);

        // Assert
        var version = Assert.Single(selected);
        Assert.Equal(7L, version.Version);
        Assert.Equal("/m/7", version.Path);
    }

    [Fact]
    public void LatestSelect_DefaultConstructor_ServesOneVersion()
    {
        // Act
        var policy = new LatestVersionSelectionPolicy();

        // Assert
        Assert.Equal(1, policy.NumVersions);
        Assert.Equal([7L], policy.Select(Ready).Select(v => v.Version));
    }

    [Fact]
    public void LatestSelect_TwoVersions_ReturnsTwoHighestInAscendingOrder()
    {
        // Arrange
        var policy = new LatestVersionSelectionPolicy(2);

        // Act
        var selected = policy.Select(Ready);

        // Assert
        Assert.Equal([5L, 7L], selected.Select(v => v.Version));
    }

    [Fact]
    public void LatestSelect_MoreRequestedThanReady_ReturnsAllReady()
    {
        // Arrange
        var policy = new LatestVersionSelectionPolicy(10);

        // Act
        var selected = policy.Select(Ready);

        // Assert
        Assert.Equal([1L, 3L, 5L, 7L], selected.Select(v => v.Version));
    }

    [Fact]
    public void LatestSelect_NothingReady_ReturnsEmpty()
    {
        // Arrange
        var policy = new LatestVersionSelectionPolicy(1);

        // Act
        var selected = policy.Select([]);

        // Assert
        Assert.Empty(selected);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void LatestConstructor_FewerThanOneVersion_Throws(int numVersions)
    {
        // Act
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LatestVersionSelectionPolicy(numVersions));

        // Assert
        Assert.Equal("numVersions", error.ParamName);
    }

    [Fact]
    public void AllSelect_SeveralVersions_ReturnsEveryVersionInAscendingOrder()
    {
        // Arrange
        var policy = new AllVersionSelectionPolicy();

        // Act
        var selected = policy.Select(Ready);

        // Assert
        Assert.Equal([1L, 3L, 5L, 7L], selected.Select(v => v.Version));
    }

    [Fact]
    public void SpecificSelect_ListedVersions_ReturnsOnlyThoseThatExist()
    {
        // Arrange
        var policy = new SpecificVersionSelectionPolicy([7, 3, 42]);

        // Act
        var selected = policy.Select(Ready);

        // Assert
        Assert.Equal([3L, 7L], selected.Select(v => v.Version));
    }

    [Fact]
    public void SpecificSelect_NoListedVersionExists_ReturnsEmpty()
    {
        // Arrange
        var policy = new SpecificVersionSelectionPolicy([2, 4]);

        // Act
        var selected = policy.Select(Ready);

        // Assert
        Assert.Empty(selected);
    }

    [Fact]
    public void Name_EachPolicy_MatchesConfigName()
    {
        // Act
        var names = new[]
        {
            new LatestVersionSelectionPolicy().Name,
            new AllVersionSelectionPolicy().Name,
            new SpecificVersionSelectionPolicy([1]).Name,
        };

        // Assert
        Assert.Equal(["Latest", "All", "Specific"], names);
    }
}
