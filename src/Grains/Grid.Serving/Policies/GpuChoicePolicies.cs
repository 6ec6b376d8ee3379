namespace Grid.Serving.Policies;

/// <summary>One GPU of this silo as a binding policy sees it.</summary>
/// <param name="Ordinal">The CUDA device ordinal.</param>
/// <param name="Replicas">Replicas bound to it now.</param>
/// <param name="ReservedBytes">Device memory those replicas were admitted with.</param>
public readonly record struct GpuUse(int Ordinal, int Replicas, long ReservedBytes);

/// <summary>Picks the GPU a loading replica is bound to.</summary>
public interface IGpuChoicePolicy
{
    /// <summary>
    /// The ordinal to bind, or null when no GPU has <paramref name="neededBytes"/> left under
    /// <paramref name="limitBytes"/> (null: no limit).
    /// </summary>
    int? Choose(IReadOnlyList<GpuUse> gpus, long neededBytes, long? limitBytes);
}

/// <summary>
/// Spreads replicas across a silo's GPUs: the GPU with the fewest bound replicas, then the least
/// reserved memory, then the lowest ordinal, among those the replica still fits on. Replicas of
/// one version thus land on different GPUs when the silo has several, and a full GPU is skipped
/// rather than overcommitted.
/// </summary>
public sealed class FewestReplicasGpuChoice : IGpuChoicePolicy
{
    public int? Choose(IReadOnlyList<GpuUse> gpus, long neededBytes, long? limitBytes)
    {
        GpuUse? best = null;
        foreach (var gpu in gpus)
        {
            if (limitBytes is { } limit && gpu.ReservedBytes + neededBytes > limit)
            {
                continue;
            }
            if (best is not { } b
                || gpu.Replicas < b.Replicas
                || (gpu.Replicas == b.Replicas && gpu.ReservedBytes < b.ReservedBytes)
                || (gpu.Replicas == b.Replicas && gpu.ReservedBytes == b.ReservedBytes && gpu.Ordinal < b.Ordinal))
            {
                best = gpu;
            }
        }
        return best?.Ordinal;
    }
}
