namespace Grid.Experiments;

/// <summary>One arm of an experiment: a version of the model and its share of the traffic.</summary>
/// <param name="Weight">Relative share: the arm gets Weight / (sum of weights) of the requests.</param>
[GenerateSerializer, Immutable, Alias("grid.ExperimentArm")]
public sealed record ExperimentArm(
    [property: Id(0)] string Name,
    [property: Id(1)] long Version,
    [property: Id(2)] int Weight);

/// <summary>A version that receives a copy of <see cref="Percent"/> % of the requests; its answers are discarded.</summary>
[GenerateSerializer, Immutable, Alias("grid.ShadowArm")]
public sealed record ShadowArm(
    [property: Id(0)] long Version,
    [property: Id(1)] double Percent)
{
    public const string ArmName = "shadow";
}

/// <summary>What an experiment routes: its arms, the optional sticky key and shadow.</summary>
/// <param name="StickyKey">
/// A request header (REST) or metadata key (gRPC); requests that carry it are assigned by a hash
/// of (experiment id, its value), so a subject always lands on the same arm. Null: every request
/// is assigned by weighted random.
/// </param>
[GenerateSerializer, Immutable, Alias("grid.ExperimentSpec")]
public sealed record ExperimentSpec(
    [property: Id(0)] string Id,
    [property: Id(1)] ExperimentArm[] Arms,
    [property: Id(2)] string? StickyKey,
    [property: Id(3)] ShadowArm? Shadow);

[GenerateSerializer]
public enum ExperimentState
{
    Active = 0,

    /// <summary>Ended by promoting an arm: its version became the model's default.</summary>
    Promoted = 1,

    /// <summary>Ended by stopping: the model's default went back to what it was before.</summary>
    Stopped = 2,
}

/// <summary>An experiment as its model's manager keeps it: spec, lifecycle and per-arm measurements.</summary>
/// <param name="PreviousDefault">The model's pinned default version when the experiment began (null: the latest).</param>
/// <param name="Stats">Per arm name (and <see cref="ShadowArm.ArmName"/>), merged from every gateway.</param>
[GenerateSerializer, Immutable, Alias("grid.ExperimentStatus")]
public sealed record ExperimentStatus(
    [property: Id(0)] string Model,
    [property: Id(1)] ExperimentSpec Spec,
    [property: Id(2)] ExperimentState State,
    [property: Id(3)] long? PreviousDefault,
    [property: Id(4)] string? PromotedArm,
    [property: Id(5)] DateTime CreatedUtc,
    [property: Id(6)] DateTime? EndedUtc,
    [property: Id(7)] Dictionary<string, ArmStats> Stats);
