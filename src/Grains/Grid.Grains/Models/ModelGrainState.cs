using Grid.Devices;
using Grid.Models;
using Grid.Serving;

namespace Grid.Grains.Models;

/// <summary>
/// A model's manager state, persisted in grain storage (Redis in cluster mode) after every
/// change, so a manager re-activated on another silo resumes with the same versions, replicas
/// and runtime decisions instead of rebuilding them from the next repository scan.
/// </summary>
[GenerateSerializer, Alias("grid.ModelGrainState")]
public sealed class ModelGrainState
{
    [Id(0)] public List<VersionRecord> Versions { get; set; } = [];

    /// <summary>What the repository source last sent (config.pbtxt or the silo's flags).</summary>
    [Id(1)] public ModelDeployment? Configured { get; set; }

    /// <summary>Set through the admin API; wins over <see cref="Configured"/> until cleared.</summary>
    [Id(2)] public ModelDeployment? Override { get; set; }

    /// <summary>True once the model is listed in the <see cref="IModelRegistryGrain"/>.</summary>
    [Id(3)] public bool Registered { get; set; }

    /// <summary>Every experiment the model has had, the active one (at most one) included.</summary>
    [Id(4)] public List<Grid.Experiments.ExperimentStatus> Experiments { get; set; } = [];

    /// <summary>The version unversioned requests get when no experiment is active; null: the latest available.</summary>
    [Id(5)] public long? DefaultVersion { get; set; }
}

[GenerateSerializer, Alias("grid.VersionRecord")]
public sealed class VersionRecord
{
    [Id(0)] public AspiredVersion Source { get; set; } = null!;
    [Id(1)] public bool IsAspired { get; set; }
    [Id(2)] public ModelVersionState State { get; set; } = ModelVersionState.Start;
    [Id(3)] public ServingStatusCode ErrorCode { get; set; }
    [Id(4)] public string ErrorMessage { get; set; } = "";
    [Id(5)] public ModelSignature[] Signatures { get; set; } = [];
    [Id(6)] public List<ReplicaRecord> Replicas { get; set; } = [];

    /// <summary>The last load found no silo offering the needed device; retried when membership changes.</summary>
    [Id(7)] public bool Unplaced { get; set; }

    public long Version => Source.Version;

    public void Reset(AspiredVersion source)
    {
        Source = source;
        State = ModelVersionState.Start;
        ErrorCode = ServingStatusCode.Ok;
        ErrorMessage = "";
        Unplaced = false;
    }
}

[GenerateSerializer, Alias("grid.ReplicaRecord")]
public sealed class ReplicaRecord
{
    [Id(0)] public int Index { get; set; }
    [Id(1)] public DeviceRequirement Device { get; set; }
    [Id(2)] public ReplicaState State { get; set; }
    [Id(3)] public string Silo { get; set; } = "";
    [Id(4)] public string Error { get; set; } = "";

    /// <summary>The device the loaded replica is bound to (<c>cpu</c>, <c>gpu:N</c>).</summary>
    [Id(5)] public string RunsOn { get; set; } = "";

    // Not persisted: the last load check, and when a failed load may be retried.
    [NonSerialized] public int Outstanding;
    [NonSerialized] public int Queued;
    [NonSerialized] public long Served;
    [NonSerialized] public long RetryAfter;

    public ReplicaStatus ToStatus() => new(Index, Device, State, Silo, Error, Outstanding, Queued) { Served = Served, RunsOn = State == ReplicaState.Available ? RunsOn : "" };
}
