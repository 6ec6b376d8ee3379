using System.Security.Cryptography;
using System.Text;

namespace Grid.Serving.Repository;

/// <summary>A version directory found by one scan.</summary>
/// <param name="HasModelFile">True when the directory holds the engine's model file.</param>
/// <param name="Fingerprint">Hash of every file's relative path, size and modification time.</param>
public sealed record ScannedVersion(long Version, string Path, bool HasModelFile, string Fingerprint);

/// <summary>The result of scanning one model base path.</summary>
/// <param name="Ignored">Entries that are not version directories.</param>
public sealed record ScanResult(string BasePath, bool BasePathExists, IReadOnlyList<ScannedVersion> Versions, IReadOnlyList<string> Ignored);

/// <summary>
/// Lists the version directories under a model base path. Pure file-system reads; never throws
/// for a missing or unreadable path (it reports what it could see).
/// </summary>
public static class RepositoryScanner
{
    /// <summary>The files that make a directory a loadable version, one per format (<see cref="Inference.ModelFormats"/>).</summary>
    public static IReadOnlySet<string> ModelFileNames => Inference.ModelFormats.ModelFiles;

    public static ScanResult Scan(string basePath)
    {
        if (!Directory.Exists(basePath))
        {
            return new ScanResult(basePath, false, [], []);
        }
        var versions = new List<ScannedVersion>();
        var ignored = new List<string>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(basePath).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ScanResult(basePath, false, [], []);
        }
        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            if (!Directory.Exists(entry) || !VersionDirectoryParser.TryParse(name, out var version))
            {
                ignored.Add(name);
                continue;
            }
            var fingerprint = Fingerprint(entry, out var hasModel);
            if (fingerprint is null)
            {
                continue;   // vanished or unreadable mid-scan: not a version this time
            }
            versions.Add(new ScannedVersion(version, entry, hasModel, fingerprint));
        }
        versions.Sort((a, b) => a.Version.CompareTo(b.Version));
        ignored.Sort(StringComparer.Ordinal);
        return new ScanResult(basePath, true, versions, ignored);
    }

    /// <summary>Fingerprint of a version directory, or null when it cannot be read.</summary>
    public static string? Fingerprint(string versionDir, out bool hasModelFile)
    {
        hasModelFile = false;
        try
        {
            var files = new DirectoryInfo(versionDir).EnumerateFiles("*", SearchOption.AllDirectories)
                .Select(f => (Rel: Path.GetRelativePath(versionDir, f.FullName), f.Length, Ticks: f.LastWriteTimeUtc.Ticks))
                .OrderBy(f => f.Rel, StringComparer.Ordinal)
                .ToList();
            var text = new StringBuilder();
            foreach (var f in files)
            {
                hasModelFile |= ModelFileNames.Contains(f.Rel);
                text.Append(f.Rel).Append('\0').Append(f.Length).Append('\0').Append(f.Ticks).Append('\n');
            }
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
