using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Grid.Grains.Placement;

/// <summary>
/// Placement of model-version replicas: the silo named by the placement hint of the call that
/// creates the activation, when it survived the device filter; otherwise a random compatible
/// silo. The model's manager decides the hint (spread, then least loaded) and repairs any
/// activation created without one at its next replica check.
/// </summary>
[GenerateSerializer, Immutable, Alias("grid.ReplicaPlacement")]
public sealed class ReplicaPlacement : PlacementStrategy
{
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ReplicaPlacementAttribute() : PlacementAttribute(new ReplicaPlacement());

public sealed class ReplicaPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (target.RequestContextData is { } data
            && data.TryGetValue(IPlacementDirector.PlacementHintKey, out var hint)
            && hint is SiloAddress wanted
            && Array.IndexOf(compatible, wanted) >= 0)
        {
            return Task.FromResult(wanted);
        }
        return Task.FromResult(compatible[Random.Shared.Next(compatible.Length)]);
    }
}
