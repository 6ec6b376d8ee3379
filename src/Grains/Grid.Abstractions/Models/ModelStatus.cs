using Grid.Serving;

namespace Grid.Models;

/// <summary>The state of one version as the model's manager last saw it.</summary>
/// <param name="Signatures">The loaded version's signatures; empty unless Available.</param>
[GenerateSerializer, Immutable, Alias("grid.VersionStatus")]
public sealed record VersionStatus(
    [property: Id(0)] long Version,
    [property: Id(1)] ModelVersionState State,
    [property: Id(2)] ServingStatusCode ErrorCode,
    [property: Id(3)] string ErrorMessage,
    [property: Id(4)] ModelSignature[] Signatures)
{
    /// <summary>The version's replicas; empty while it is not loaded.</summary>
    [Id(5)] public ReplicaStatus[] Replicas { get; init; } = [];

    /// <summary>True when the version could not be placed because no active silo offers the device it needs.</summary>
    [Id(6)] public bool Unplaced { get; init; }
}

/// <summary>A consistent snapshot of every version a model has seen.</summary>
[GenerateSerializer, Immutable, Alias("grid.ModelStatus")]
public sealed record ModelStatus(
    [property: Id(0)] string ModelName,
    [property: Id(1)] VersionStatus[] Versions)
{
    /// <summary>The deployment in force (replicas per version, device).</summary>
    [Id(2)] public ModelDeployment Deployment { get; init; } = ModelDeployment.Default;

    /// <summary>The experiment that routes this model's unversioned requests, if any.</summary>
    [Id(3)] public Grid.Experiments.ExperimentSpec? ActiveExperiment { get; init; }

    /// <summary>A default version pinned by promoting an experiment arm; null: the latest available.</summary>
    [Id(4)] public long? DefaultVersion { get; init; }

    /// <summary>What an unversioned request without an experiment is served by: the pinned default when it is available, else the latest.</summary>
    public VersionStatus? DefaultTarget()
        => DefaultVersion is { } pinned && Find(pinned) is { State: ModelVersionState.Available } v ? v : LatestAvailable();

    /// <summary>True when the model has ever been registered by a repository source.</summary>
    public bool Exists => Versions.Length > 0;

    /// <summary>The highest Available version: what an unversioned request is served by.</summary>
    public VersionStatus? LatestAvailable()
    {
        VersionStatus? best = null;
        foreach (var v in Versions)
        {
            if (v.State == ModelVersionState.Available && (best is null || v.Version > best.Version))
            {
                best = v;
            }
        }
        return best;
    }

    public VersionStatus? Find(long version) => Array.Find(Versions, v => v.Version == version);
}

/// <summary>One version the repository source wants served.</summary>
/// <param name="Path">The version directory.</param>
/// <param name="Fingerprint">Changes whenever any file in the directory changes.</param>
[GenerateSerializer, Immutable, Alias("grid.AspiredVersion")]
public sealed record AspiredVersion(
    [property: Id(0)] long Version,
    [property: Id(1)] string Path,
    [property: Id(2)] string Fingerprint);
