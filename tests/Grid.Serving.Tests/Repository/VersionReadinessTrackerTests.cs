using Grid.Serving.Repository;

namespace Grid.Serving.Tests.Repository;

public class VersionReadinessTrackerTests
{
    private const string BasePath = "/models/m";

    private static ScannedVersion Version(long version, string fingerprint, bool hasModel = true)
        => new(version, $"{BasePath}/{version}", hasModel, fingerprint);

    private static ScanResult Scan(params ScannedVersion[] versions) => new(BasePath, true, versions, []);

    [Fact]
    public void Observe_FirstScan_ReturnsNoReadyVersion()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();

        // Act
        var ready = tracker.Observe(Scan(Version(1, "aaaa")));

        // Assert
        Assert.Empty(ready);
    }

    [Fact]
    public void Observe_TwoIdenticalScans_ReturnsVersionAsReady()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "aaaa")));

        // Act
        var ready = tracker.Observe(Scan(Version(1, "aaaa")));

        // Assert
        var version = Assert.Single(ready);
        Assert.Equal(1L, version.Version);
        Assert.Equal("aaaa", version.Fingerprint);
        Assert.Equal($"{BasePath}/1", version.Path);
        Assert.True(version.HasModelFile);
    }

    [Fact]
    public void Observe_FingerprintChangesEveryScan_StaysNotReady()
    {
        // Arrange: a version still being copied
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "part1")));
        var afterSecond = tracker.Observe(Scan(Version(1, "part2")));

        // Act
        var afterThird = tracker.Observe(Scan(Version(1, "part3")));

        // Assert
        Assert.Empty(afterSecond);
        Assert.Empty(afterThird);
    }

    [Fact]
    public void Observe_FingerprintSettlesAfterCopy_BecomesReadyWithSettledFingerprint()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "part1")));
        tracker.Observe(Scan(Version(1, "done")));

        // Act
        var ready = tracker.Observe(Scan(Version(1, "done")));

        // Assert
        Assert.Equal("done", Assert.Single(ready).Fingerprint);
    }

    [Fact]
    public void Observe_FilesChangeAfterReady_StaysReadyWithStableFingerprint()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "stable")));
        tracker.Observe(Scan(Version(1, "stable")));

        // Act
        var whileChanging = tracker.Observe(Scan(Version(1, "touched1")));
        var stillChanging = tracker.Observe(Scan(Version(1, "touched2")));

        // Assert
        Assert.Equal("stable", Assert.Single(whileChanging).Fingerprint);
        Assert.Equal("stable", Assert.Single(stillChanging).Fingerprint);
    }

    [Fact]
    public void Observe_ChangedFilesSettleAfterReady_ReportsNewStableFingerprint()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "old")));
        tracker.Observe(Scan(Version(1, "old")));
        tracker.Observe(Scan(Version(1, "new")));

        // Act
        var ready = tracker.Observe(Scan(Version(1, "new")));

        // Assert
        Assert.Equal("new", Assert.Single(ready).Fingerprint);
    }

    [Fact]
    public void Observe_VersionRemoved_DisappearsFromReady()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "a"), Version(2, "b")));
        var bothReady = tracker.Observe(Scan(Version(1, "a"), Version(2, "b")));

        // Act
        var afterRemoval = tracker.Observe(Scan(Version(2, "b")));

        // Assert
        Assert.Equal([1L, 2L], bothReady.Select(v => v.Version));
        Assert.Equal([2L], afterRemoval.Select(v => v.Version));
    }

    [Fact]
    public void Observe_RemovedVersionReappears_MustSettleAgain()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        tracker.Observe(Scan(Version(1, "a")));
        tracker.Observe(Scan(Version(1, "a")));
        tracker.Observe(Scan());

        // Act
        var ready = tracker.Observe(Scan(Version(1, "a")));

        // Assert
        Assert.Empty(ready);
    }

    [Fact]
    public void Observe_NoModelFile_NeverReady()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        var results = new List<IReadOnlyList<ScannedVersion>>();

        // Act
        for (var i = 0; i < 4; i++)
        {
            results.Add(tracker.Observe(Scan(Version(1, "same", hasModel: false))));
        }

        // Assert
        Assert.All(results, Assert.Empty);
    }

    [Fact]
    public void Observe_SeveralReadyVersions_ReturnsThemInVersionOrder()
    {
        // Arrange
        var tracker = new VersionReadinessTracker();
        var scan = Scan(Version(1, "a"), Version(5, "e"), Version(12, "l"));
        tracker.Observe(scan);

        // Act
        var ready = tracker.Observe(scan);

        // Assert
        Assert.Equal([1L, 5L, 12L], ready.Select(v => v.Version));
    }
}
