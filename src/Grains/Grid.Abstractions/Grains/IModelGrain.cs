using Grid.Models;

namespace Grid.Grains;

/// <summary>
/// The manager of one model (key: the model name), TF Serving's AspiredVersionsManager as a
/// virtual actor. It owns the model's version set, its replicas and their placement, and
/// drives them through their lifecycle with an availability-preserving transition policy.
/// Its state is persisted, so it survives the loss of the silo it runs on.
/// </summary>
[Alias("grid.IModelGrain")]
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>
    /// Replaces the complete aspired version set: a version left out is unloaded. Idempotent.
    /// <paramref name="configured"/> is the deployment the model's configuration asks for
    /// (null keeps the previous one). Completes when the transitions this set implies have
    /// been carried out.
    /// </summary>
    [Alias("SetAspiredVersions")]
    Task SetAspiredVersionsAsync(AspiredVersion[] versions, ModelDeployment? configured = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets (or, with null, clears) a runtime deployment override that wins over the model's
    /// configuration; persisted. Returns once replicas have been added or removed to match.
    /// </summary>
    [Alias("SetDeploymentOverride")]
    Task<ModelStatus> SetDeploymentOverrideAsync(ModelDeployment? deployment, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts an experiment on this model. Throws INVALID_ARGUMENT for an unknown or unavailable
    /// version, a weight of zero or less, or a bad id; FAILED_PRECONDITION when another
    /// experiment is active; ALREADY_EXISTS for a reused id.
    /// </summary>
    [Alias("CreateExperiment")]
    Task<Grid.Experiments.ExperimentStatus> CreateExperimentAsync(Grid.Experiments.ExperimentSpec spec);

    /// <summary>Changes the weights of the named arms of an active experiment.</summary>
    [Alias("SetExperimentWeights")]
    Task<Grid.Experiments.ExperimentStatus> SetExperimentWeightsAsync(string id, Dictionary<string, int> weights);

    /// <summary>Ends the experiment and pins the arm's version as the model's default.</summary>
    [Alias("PromoteExperiment")]
    Task<Grid.Experiments.ExperimentStatus> PromoteExperimentAsync(string id, string arm);

    /// <summary>Ends the experiment and restores the default the model had before it.</summary>
    [Alias("StopExperiment")]
    Task<Grid.Experiments.ExperimentStatus> StopExperimentAsync(string id);

    /// <summary>Every experiment, newest last, with its merged measurements.</summary>
    [Alias("GetExperiments"), Orleans.Concurrency.AlwaysInterleave]
    Task<Grid.Experiments.ExperimentStatus[]> GetExperimentsAsync();

    /// <summary>Adds one gateway's measurements since its last report (per arm name).</summary>
    [Alias("AddExperimentStats")]
    Task AddExperimentStatsAsync(string id, Dictionary<string, Grid.Experiments.ArmStats> deltas);

    /// <summary>A snapshot of every version's and replica's state. Never blocks on a load in progress.</summary>
    [Alias("GetStatus"), Orleans.Concurrency.AlwaysInterleave]
    Task<ModelStatus> GetStatusAsync();
}
