namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>Static-shape arithmetic on partially known shapes (null: unknown rank; -1: unknown dimension).</summary>
internal static class StaticShapes
{
    /// <summary>The NumPy broadcast of two shapes, as far as it is statically known.</summary>
    public static IReadOnlyList<long>? Broadcast(IReadOnlyList<long>? a, IReadOnlyList<long>? b)
    {
        if (a is null || b is null)
        {
            return null;
        }

        var rank = Math.Max(a.Count, b.Count);
        var result = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var x = i < rank - a.Count ? 1 : a[i - (rank - a.Count)];
            var y = i < rank - b.Count ? 1 : b[i - (rank - b.Count)];
            result[i] = x == 1 ? y : y == 1 ? x : x == y ? x : x < 0 ? y : y < 0 ? x : throw new InvalidOperationException(
                $"shapes [{string.Join(",", a)}] and [{string.Join(",", b)}] do not broadcast");
        }

        return result;
    }

    /// <summary>The dimensions with <paramref name="axes"/> (already non-negative) removed or, with <paramref name="keep"/>, set to 1.</summary>
    public static IReadOnlyList<long>? Reduce(IReadOnlyList<long>? dims, IReadOnlyCollection<long> axes, bool keep)
    {
        if (dims is null)
        {
            return null;
        }

        var result = new List<long>();
        for (var i = 0; i < dims.Count; i++)
        {
            if (axes.Contains(i))
            {
                if (keep)
                {
                    result.Add(1);
                }
            }
            else
            {
                result.Add(dims[i]);
            }
        }

        return result;
    }

    /// <summary>An unknown shape of known rank, or null for an unknown rank.</summary>
    public static IReadOnlyList<long>? OfRank(int? rank) => rank is { } r ? Enumerable.Repeat(-1L, r).ToArray() : null;

    /// <summary><paramref name="axis"/> made non-negative for a tensor of <paramref name="rank"/>; throws when out of range.</summary>
    public static int Axis(long axis, int rank, string node)
    {
        var normalized = axis < 0 ? axis + rank : axis;
        return normalized >= 0 && normalized < rank
            ? (int)normalized
            : throw Grid.Serving.ServingException.InvalidArgument($"node {node}: axis {axis} is out of range for rank {rank}");
    }

    /// <summary>The dimensions permuted by <paramref name="perm"/>.</summary>
    public static IReadOnlyList<long>? Permute(IReadOnlyList<long>? dims, IReadOnlyList<long> perm)
        => dims is null || dims.Count != perm.Count ? null : perm.Select(p => dims[(int)p]).ToArray();
}
