namespace Grid.Gateway.Routing;

/// <summary>A replica's load as the gateway last saw it: admitted requests not yet answered, and those still queued for a batch.</summary>
public readonly record struct ReplicaLoad(int Replica, int Outstanding, int Queued)
{
    /// <summary>What the selection compares: all work the replica still owes.</summary>
    public int Work => Outstanding + Queued;
}

/// <summary>Chooses the replica of a version that serves one request. Pure and thread-safe.</summary>
public interface IReplicaSelectionPolicy
{
    /// <summary>Index into <paramref name="replicas"/> (non-empty) of the replica to call.</summary>
    int Choose(IReadOnlyList<ReplicaLoad> replicas);
}

/// <summary>
/// Power of two choices (Mitzenmacher): sample two distinct replicas at random and take the
/// one with less work, the first sampled on a tie. Unlike least-loaded, stale load reports do
/// not send every gateway to the same replica at once; unlike random, a slow replica is avoided.
/// The randomness is injected so tests are deterministic.
/// </summary>
public sealed class PowerOfTwoChoicesPolicy(Func<int, int> nextIndex) : IReplicaSelectionPolicy
{
    /// <summary>Uses <see cref="Random.Shared"/>.</summary>
    public PowerOfTwoChoicesPolicy() : this(Random.Shared.Next)
    {
    }

    public int Choose(IReadOnlyList<ReplicaLoad> replicas)
    {
        ArgumentOutOfRangeException.ThrowIfZero(replicas.Count);
        if (replicas.Count == 1)
        {
            return 0;
        }
        var first = nextIndex(replicas.Count);
        // Draw the second from the other n-1 replicas, so the two are always distinct.
        var second = nextIndex(replicas.Count - 1);
        if (second >= first)
        {
            second++;
        }
        return replicas[second].Work < replicas[first].Work ? second : first;
    }
}
