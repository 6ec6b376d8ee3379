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

    /// <summary>A snapshot of every version's and replica's state. Never blocks on a load in progress.</summary>
    [Alias("GetStatus"), Orleans.Concurrency.AlwaysInterleave]
    Task<ModelStatus> GetStatusAsync();
}
