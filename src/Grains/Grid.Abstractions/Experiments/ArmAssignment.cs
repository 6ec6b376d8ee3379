namespace Grid.Experiments;

/// <summary>Chooses the arm of an experiment for one request. Pure.</summary>
public interface IArmAssignmentPolicy
{
    /// <param name="subject">The sticky key's value on this request; null when absent.</param>
    /// <param name="random">A uniform draw in [0, 1), used only when there is no subject.</param>
    int Assign(ExperimentSpec spec, string? subject, double random);
}

/// <summary>
/// Weighted assignment. With a subject the draw is a hash of (experiment id, subject) mapped to
/// [0, 1), so a subject always gets the same arm while the weights stay the same, and different
/// experiments split the same subjects independently. Without one the draw is random.
/// The arms own consecutive slices of [0, 1) in proportion to their weights.
/// </summary>
public sealed class WeightedArmAssignment : IArmAssignmentPolicy
{
    public int Assign(ExperimentSpec spec, string? subject, double random)
    {
        var draw = subject is null ? random : StableUnit(spec.Id, subject);
        long total = 0;
        foreach (var arm in spec.Arms)
        {
            total += arm.Weight;
        }
        var point = draw * total;
        long cumulative = 0;
        for (var i = 0; i < spec.Arms.Length; i++)
        {
            cumulative += spec.Arms[i].Weight;
            if (point < cumulative)
            {
                return i;
            }
        }
        return spec.Arms.Length - 1;
    }

    /// <summary>FNV-1a (64-bit) of the UTF-16 code units of id, a separator and subject, scaled to [0, 1).</summary>
    public static double StableUnit(string experimentId, string subject)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offset;
        foreach (var c in experimentId)
        {
            hash = (hash ^ c) * prime;
        }
        hash = (hash ^ 0xFFFF) * prime;
        foreach (var c in subject)
        {
            hash = (hash ^ c) * prime;
        }
        // Final avalanche so nearby subjects spread over the whole range.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
