using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Grid.Inference;

/// <summary>
/// A loaded model-version replica as seen from its own process: the same Predict that the
/// <c>ModelVersionGrain</c> serves, callable without an Orleans message.
/// </summary>
public interface ILocalReplica
{
    /// <summary>
    /// Runs one Predict. Throws <see cref="Grid.Serving.ServingException"/> with kind
    /// VersionNotLoaded once the replica has begun unloading, so callers retry elsewhere.
    /// </summary>
    Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// The replicas whose grain activations live in this process, by <c>model/version/replica</c>
/// key. A version grain adds its replica once loaded and removes it before it drains, so an
/// entry always names a replica that accepts work or answers VersionNotLoaded. The gateway
/// uses it to call a co-located replica directly, skipping the grain message; any replica
/// not listed (another silo, or a gateway-only process) is called through its grain.
/// Thread-safe.
/// </summary>
public sealed class LocalReplicaDirectory
{
    private readonly ConcurrentDictionary<string, ILocalReplica> _replicas = new(StringComparer.Ordinal);

    public int Count => _replicas.Count;

    public void Add(string key, ILocalReplica replica) => _replicas[key] = replica;

    /// <summary>Removes <paramref name="replica"/> only if it is still the one registered under <paramref name="key"/>.</summary>
    public void Remove(string key, ILocalReplica replica) => _replicas.TryRemove(new KeyValuePair<string, ILocalReplica>(key, replica));

    public bool TryGet(string key, [NotNullWhen(true)] out ILocalReplica? replica) => _replicas.TryGetValue(key, out replica);
}
