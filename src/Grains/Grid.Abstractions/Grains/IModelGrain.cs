using Grid.Models;

namespace Grid.Grains;

/// <summary>
/// The manager of one model (key: the model name), TF Serving's AspiredVersionsManager as a
/// virtual actor. It owns the model's version set and status and drives version replicas
/// through their lifecycle with an availability-preserving transition policy.
/// </summary>
[Alias("grid.IModelGrain")]
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>
    /// Replaces the complete aspired version set: a version left out is unloaded. Idempotent.
    /// Completes when the transitions this set implies have been carried out.
    /// </summary>
    [Alias("SetAspiredVersions")]
    Task SetAspiredVersionsAsync(AspiredVersion[] versions, CancellationToken cancellationToken = default);

    /// <summary>A snapshot of every version's state. Never blocks on a load in progress.</summary>
    [Alias("GetStatus"), Orleans.Concurrency.AlwaysInterleave]
    Task<ModelStatus> GetStatusAsync();
}
