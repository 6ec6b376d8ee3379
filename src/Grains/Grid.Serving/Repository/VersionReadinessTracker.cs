namespace Grid.Serving.Repository;

/// <summary>
/// Decides when a version directory is complete enough to load: the rule that keeps
/// half-copied versions out.
/// </summary>
/// <remarks>
/// A version becomes ready when it contains <c>model.onnx</c> and its fingerprint (every
/// file's relative path, size and modification time) is identical in two consecutive scans.
/// A copy still in progress changes sizes or times between scans, so it waits. Writers that
/// want an atomic hand-off copy into a name that is not a number (<c>124.tmp</c>) and rename it.
/// Once ready, a version stays ready while its directory exists, reported with its last
/// stable fingerprint: touching a serving version's files never makes it disappear, and a
/// version that failed to load is retried only after its files settle in a new state.
/// Not thread-safe: one tracker belongs to one polling loop.
/// </remarks>
public sealed class VersionReadinessTracker
{
    private Dictionary<string, (string Last, string? Stable)> _seen = new(StringComparer.Ordinal);

    /// <summary>Feeds one scan and returns the ready versions, in version order, with their stable fingerprints.</summary>
    public IReadOnlyList<ScannedVersion> Observe(ScanResult scan)
    {
        var current = new Dictionary<string, (string Last, string? Stable)>(StringComparer.Ordinal);
        var ready = new List<ScannedVersion>();
        foreach (var v in scan.Versions)
        {
            string? stable = null;
            if (_seen.TryGetValue(v.Path, out var before))
            {
                stable = before.Stable;
                if (before.Last == v.Fingerprint && v.HasModelFile)
                {
                    stable = v.Fingerprint;
                }
            }
            current[v.Path] = (v.Fingerprint, stable);
            if (stable is not null)
            {
                ready.Add(v with { Fingerprint = stable, HasModelFile = true });
            }
        }
        _seen = current;
        return ready;
    }
}
