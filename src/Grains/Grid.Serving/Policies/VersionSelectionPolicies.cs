using Grid.Serving.Repository;

namespace Grid.Serving.Policies;

/// <summary>
/// TF Serving's ServableVersionPolicy: picks the aspired versions from the ready ones.
/// Pure: same input, same output.
/// </summary>
public interface IVersionSelectionPolicy
{
    string Name { get; }

    IReadOnlyList<ScannedVersion> Select(IReadOnlyList<ScannedVersion> ready);
}

/// <summary>The policy names a config may use.</summary>
public static class VersionSelectionPolicies
{
    public const string Latest = nameof(Latest);
    public const string All = nameof(All);
    public const string Specific = nameof(Specific);
}

/// <summary>Serves the <c>num_versions</c> highest versions (TF Serving's default, with 1).</summary>
public sealed class LatestVersionSelectionPolicy : IVersionSelectionPolicy
{
    public LatestVersionSelectionPolicy(int numVersions = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numVersions, 1);
        NumVersions = numVersions;
    }

    public int NumVersions { get; }

    public string Name => VersionSelectionPolicies.Latest;

    public IReadOnlyList<ScannedVersion> Select(IReadOnlyList<ScannedVersion> ready)
        => ready.OrderByDescending(v => v.Version).Take(NumVersions).OrderBy(v => v.Version).ToList();
}

/// <summary>Serves every version found.</summary>
public sealed class AllVersionSelectionPolicy : IVersionSelectionPolicy
{
    public string Name => VersionSelectionPolicies.All;

    public IReadOnlyList<ScannedVersion> Select(IReadOnlyList<ScannedVersion> ready) => ready.OrderBy(v => v.Version).ToList();
}

/// <summary>Serves exactly the listed versions that exist.</summary>
public sealed class SpecificVersionSelectionPolicy(IReadOnlyCollection<long> versions) : IVersionSelectionPolicy
{
    private readonly HashSet<long> _versions = [.. versions];

    public string Name => VersionSelectionPolicies.Specific;

    public IReadOnlyList<ScannedVersion> Select(IReadOnlyList<ScannedVersion> ready)
        => ready.Where(v => _versions.Contains(v.Version)).OrderBy(v => v.Version).ToList();
}
