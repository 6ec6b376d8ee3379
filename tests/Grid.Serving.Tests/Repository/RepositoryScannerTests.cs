using Grid.Serving.Repository;
using Grid.Testing;

namespace Grid.Serving.Tests.Repository;

public sealed class RepositoryScannerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private void CreateVersion(string name, bool withModel = true)
    {
        _temp.CreateDirectory(name);
        if (withModel)
        {
            _temp.WriteFile(Path.Combine(name, Grid.Serving.Inference.ModelFormats.Onnx.ModelFile), [1, 2, 3]);
        }
    }

    [Fact]
    public void Scan_SeveralVersionDirectories_ReturnsThemSortedByVersion()
    {
        // Arrange
        CreateVersion("10");
        CreateVersion("2");
        CreateVersion("0003");

        // Act
        var result = RepositoryScanner.Scan(_temp.Path);

        // Assert
        Assert.True(result.BasePathExists);
        Assert.Equal(_temp.Path, result.BasePath);
        Assert.Equal([2L, 3L, 10L], result.Versions.Select(v => v.Version));
        Assert.Equal(Path.Combine(_temp.Path, "0003"), result.Versions[1].Path);
        Assert.Empty(result.Ignored);
    }

    [Fact]
    public void Scan_NonNumericDirectoryNames_ListsThemAsIgnored()
    {
        // Arrange
        CreateVersion("1");
        CreateVersion("124.tmp");
        CreateVersion("v2");

        // Act
        var result = RepositoryScanner.Scan(_temp.Path);

        // Assert
        Assert.Equal([1L], result.Versions.Select(v => v.Version));
        Assert.Equal(["124.tmp", "v2"], result.Ignored);
    }

    [Fact]
    public void Scan_FileWithNumericName_IsIgnoredNotAVersion()
    {
        // Arrange
        CreateVersion("1");
        _temp.WriteFile("2", [42]);

        // Act
        var result = RepositoryScanner.Scan(_temp.Path);

        // Assert
        Assert.Equal([1L], result.Versions.Select(v => v.Version));
        Assert.Equal(["2"], result.Ignored);
    }

    [Fact]
    public void Scan_VersionWithModelFile_ReportsHasModelFile()
    {
        // Arrange
        CreateVersion("1");

        // Act
        var result = RepositoryScanner.Scan(_temp.Path);

        // Assert
        var version = Assert.Single(result.Versions);
        Assert.True(version.HasModelFile);
        Assert.Equal(16, version.Fingerprint.Length);
    }

    [Fact]
    public void Scan_VersionWithoutModelFile_ReportsNoModelFile()
    {
        // Arrange
        CreateVersion("1", withModel: false);
        _temp.WriteFile(Path.Combine("1", "other.bin"), [1]);

        // Act
        var result = RepositoryScanner.Scan(_temp.Path);

        // Assert
        var version = Assert.Single(result.Versions);
        Assert.Equal(1L, version.Version);
        Assert.False(version.HasModelFile);
    }

    [Fact]
    public void Scan_ModelFileOnlyInSubdirectory_ReportsNoModelFile()
    {
        // Arrange
        CreateVersion("1", withModel: false);
        _temp.WriteFile(Path.Combine("1", "nested", Grid.Serving.Inference.ModelFormats.Onnx.ModelFile), [1]);

        // Act
        var result = RepositoryScanner.Scan(_temp.Path);

        // Assert
        Assert.False(Assert.Single(result.Versions).HasModelFile);
    }

    [Fact]
    public void Scan_MissingBasePath_ReportsBasePathDoesNotExist()
    {
        // Arrange
        var missing = Path.Combine(_temp.Path, "does-not-exist");

        // Act
        var result = RepositoryScanner.Scan(missing);

        // Assert
        Assert.False(result.BasePathExists);
        Assert.Equal(missing, result.BasePath);
        Assert.Empty(result.Versions);
        Assert.Empty(result.Ignored);
    }

    [Fact]
    public void Fingerprint_UnchangedDirectory_IsStable()
    {
        // Arrange
        CreateVersion("1");
        var dir = Path.Combine(_temp.Path, "1");

        // Act
        var first = RepositoryScanner.Fingerprint(dir, out var firstHasModel);
        var second = RepositoryScanner.Fingerprint(dir, out var secondHasModel);

        // Assert
        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.True(firstHasModel);
        Assert.True(secondHasModel);
    }

    [Fact]
    public void Fingerprint_FileSizeChanges_ChangesFingerprint()
    {
        // Arrange
        CreateVersion("1");
        var dir = Path.Combine(_temp.Path, "1");
        var file = Path.Combine(dir, Grid.Serving.Inference.ModelFormats.Onnx.ModelFile);
        var writeTime = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(file, writeTime);
        var before = RepositoryScanner.Fingerprint(dir, out _);

        // Act: grow the file but keep its modification time, so only the size differs
        File.WriteAllBytes(file, [1, 2, 3, 4, 5, 6]);
        File.SetLastWriteTimeUtc(file, writeTime);
        var after = RepositoryScanner.Fingerprint(dir, out _);

        // Assert
        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Fingerprint_NewFileAdded_ChangesFingerprint()
    {
        // Arrange
        CreateVersion("1");
        var dir = Path.Combine(_temp.Path, "1");
        var before = RepositoryScanner.Fingerprint(dir, out _);

        // Act
        _temp.WriteFile(Path.Combine("1", "vocab.txt"), [7]);
        var after = RepositoryScanner.Fingerprint(dir, out _);

        // Assert
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Fingerprint_MissingDirectory_ReturnsNull()
    {
        // Act
        var fingerprint = RepositoryScanner.Fingerprint(Path.Combine(_temp.Path, "gone"), out var hasModel);

        // Assert
        Assert.Null(fingerprint);
        Assert.False(hasModel);
    }
}
