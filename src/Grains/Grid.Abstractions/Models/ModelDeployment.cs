using Grid.Devices;

namespace Grid.Models;

/// <summary>
/// How a model's versions are deployed: replicas per version and the device they need.
/// Comes from the model's <c>config.pbtxt</c> or the silo's flags, and can be overridden at
/// runtime through the admin API (the override is persisted with the model).
/// </summary>
/// <param name="Source">Where the values came from: <c>default</c>, <c>flags</c>, <c>config.pbtxt</c> or <c>admin</c>.</param>
[GenerateSerializer, Immutable, Alias("grid.ModelDeployment")]
public sealed record ModelDeployment(
    [property: Id(0)] int Replicas,
    [property: Id(1)] DeviceRequirement Device,
    [property: Id(2)] string Source)
{
    public static readonly ModelDeployment Default = new(1, DeviceRequirement.Any, "default");

    /// <summary>Same placement, wherever the values came from.</summary>
    public bool SamePlacement(ModelDeployment other) => Replicas == other.Replicas && Device == other.Device;
}

/// <summary>Where one replica of a version stands.</summary>
[GenerateSerializer]
public enum ReplicaState
{
    /// <summary>Being loaded on <see cref="ReplicaStatus.Silo"/>.</summary>
    Loading = 0,

    /// <summary>Loaded and taking requests.</summary>
    Available = 1,

    /// <summary>Its load failed; retried on the next replica check.</summary>
    Failed = 2,

    /// <summary>Its silo left or stopped answering; being re-placed.</summary>
    Lost = 3,

    /// <summary>No active silo offers the device it needs; placed as soon as one joins.</summary>
    Unplaced = 4,

    /// <summary>Being unloaded (scaled down, moved or retired).</summary>
    Unloading = 5,
}

/// <summary>One replica of a version as its model's manager last saw it.</summary>
/// <param name="Silo">The hosting silo's address, empty when not placed.</param>
/// <param name="Outstanding">Requests admitted and not yet answered, at the last check.</param>
/// <param name="Queued">Requests waiting for a batch, at the last check.</param>
[GenerateSerializer, Immutable, Alias("grid.ReplicaStatus")]
public sealed record ReplicaStatus(
    [property: Id(0)] int Replica,
    [property: Id(1)] DeviceRequirement Device,
    [property: Id(2)] ReplicaState State,
    [property: Id(3)] string Silo,
    [property: Id(4)] string Error,
    [property: Id(5)] int Outstanding,
    [property: Id(6)] int Queued)
{
    /// <summary>Requests the replica had answered successfully at the last check (since it was loaded).</summary>
    [Id(7)] public long Served { get; init; }

    /// <summary>The device the loaded replica is bound to (<c>cpu</c>, <c>gpu:N</c>); empty when not loaded.</summary>
    [Id(8)] public string RunsOn { get; init; } = "";
}

/// <summary>What a replica answers to a load check.</summary>
/// <param name="Loaded">False when this activation holds no session (fresh, or unloaded).</param>
[GenerateSerializer, Immutable, Alias("grid.ReplicaReport")]
public sealed record ReplicaReport(
    [property: Id(0)] bool Loaded,
    [property: Id(1)] string Silo,
    [property: Id(2)] int Outstanding,
    [property: Id(3)] int Queued,
    [property: Id(4)] string? Fingerprint)
{
    /// <summary>Requests answered successfully since the replica was loaded.</summary>
    [Id(5)] public long Served { get; init; }

    /// <summary>The device the replica is bound to (<c>cpu</c>, <c>gpu:N</c>); empty when not loaded.</summary>
    [Id(6)] public string Device { get; init; } = "";
}

/// <summary>What a successful load returns: the signatures and where the replica runs.</summary>
[GenerateSerializer, Immutable, Alias("grid.ReplicaLoaded")]
public sealed record ReplicaLoaded(
    [property: Id(0)] ModelSignature[] Signatures,
    [property: Id(1)] string Silo)
{
    /// <summary>The device the replica was bound to: <c>cpu</c> or <c>gpu:N</c>.</summary>
    [Id(2)] public string Device { get; init; } = "";
}
