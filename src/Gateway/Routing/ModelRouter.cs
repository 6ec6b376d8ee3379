using System.Collections.Concurrent;
using Grid.Gateway.Configuration;
using Grid.Grains;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Microsoft.Extensions.Options;

namespace Grid.Gateway.Routing;

/// <summary>
/// Resolves a model spec (name, optional version) to a serving version and calls its replica.
/// </summary>
/// <remarks>
/// A replica whose activation lives in this process (listed in the
/// <see cref="LocalReplicaDirectory"/>) is called directly, skipping the grain message and its
/// two scheduler hops; every other replica is called through its grain. Both paths run the
/// same validation and the same batch queue.
/// Each model's status is cached for <see cref="GatewayOptions.RoutingSnapshotTtl"/>, so a
/// Predict costs one grain call, not two. A cached snapshot can point at a version that was
/// unloaded a moment ago; the replica then answers VersionNotLoaded and the router refreshes
/// and retries, which is safe because Predict is idempotent. Thread-safe.
/// </remarks>
public sealed class ModelRouter(IGrainFactory grains, LocalReplicaDirectory localReplicas, IOptions<GatewayOptions> options, TimeProvider time)
{
    private const int MaxAttempts = 3;
    private readonly ConcurrentDictionary<string, Snapshot> _snapshots = new(StringComparer.Ordinal);

    private sealed record Snapshot(ModelStatus Status, long FetchedAt);

    /// <summary>Fresh status straight from the model's manager.</summary>
    public async Task<ModelStatus> GetStatusAsync(string model)
    {
        var status = await grains.GetGrain<IModelGrain>(model).GetStatusAsync();
        _snapshots[model] = new Snapshot(status, time.GetTimestamp());
        return status;
    }

    private async ValueTask<ModelStatus> GetCachedStatusAsync(string model)
    {
        if (_snapshots.TryGetValue(model, out var s) && time.GetElapsedTime(s.FetchedAt) < options.Value.RoutingSnapshotTtl)
        {
            return s.Status;
        }
        return await GetStatusAsync(model);
    }

    /// <summary>The version a request is served by; NOT_FOUND in TF Serving's words when none.</summary>
    public async ValueTask<VersionStatus> ResolveAsync(string model, long? version, bool fresh = false)
    {
        var status = fresh ? await GetStatusAsync(model) : await GetCachedStatusAsync(model);
        return Resolve(status, model, version);
    }

    public static VersionStatus Resolve(ModelStatus status, string model, long? version)
    {
        var target = version is { } v ? status.Find(v) : status.LatestAvailable();
        if (target is null || target.State != ModelVersionState.Available)
        {
            var request = version is { } rv ? $"Specific({model}, {rv})" : $"Latest({model})";
            throw ServingException.NotFound($"Servable not found for request: {request}");
        }
        return target;
    }

    /// <summary>
    /// Failures that say the addressed replica was not there to serve, never that the request
    /// was bad: the version was unloaded, or its activation was deactivating when the message
    /// arrived. Both are safe to retry because Predict has no side effects.
    /// </summary>
    private static bool IsRetryable(Exception e) => e switch
    {
        ServingException s => s.Kind == ServingFailureKind.VersionNotLoaded,
        Orleans.Runtime.OrleansMessageRejectionException => true,
        _ => false,
    };

    /// <summary>
    /// Runs a Predict. <paramref name="buildRequest"/> is given the resolved version (its
    /// signatures decide how REST JSON is decoded) and may be called again on a retry.
    /// </summary>
    public async Task<InferenceResult> PredictAsync(
        string model, long? version, Func<VersionStatus, InferenceRequest> buildRequest, CancellationToken cancellationToken)
    {
        var fresh = false;
        for (var attempt = 1; ; attempt++)
        {
            var target = await ResolveAsync(model, version, fresh);
            var request = buildRequest(target);
            try
            {
                var key = ModelVersionKey.Format(model, target.Version);
                if (localReplicas.TryGet(key, out var local))
                {
                    return await local.PredictAsync(request, cancellationToken);
                }
                return await grains.GetGrain<IModelVersionGrain>(key).PredictAsync(request, cancellationToken);
            }
            catch (Exception e) when (attempt < MaxAttempts && IsRetryable(e))
            {
                fresh = true;
            }
        }
    }
}
