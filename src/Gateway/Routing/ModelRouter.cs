using System.Collections.Concurrent;
using Grid.Gateway.Configuration;
using Grid.Grains;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Orleans.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grid.Gateway.Routing;

/// <summary>
/// Resolves a model spec (name, optional version) to a serving version, picks one of its
/// replicas per request and calls it, retrying on another replica when one was not there to
/// serve.
/// </summary>
/// <remarks>
/// <para>Replica choice: the <see cref="IReplicaSelectionPolicy"/> (power of two choices) over
/// each Available replica's work, which is this gateway's own requests outstanding to it plus
/// the queue depth the replica last reported to its manager. Chosen per request, never per
/// connection.</para>
/// <para>Failover: Predict has no side effects, so a request that fails because its replica's
/// silo is gone (or because the replica was unloaded a moment ago) is sent to another replica.
/// A replica whose silo failed a call is skipped for <see cref="GatewayOptions.SuspectReplicaFor"/>
/// unless its manager re-places it on another silo. When no replica is left the request fails
/// at once with UNAVAILABLE; it never waits for a silo to come back.</para>
/// <para>A replica whose activation lives in this process (listed in the
/// <see cref="LocalReplicaDirectory"/>, as in <c>grid serve</c>) is called directly, skipping
/// the grain message. Each model's status is cached for
/// <see cref="GatewayOptions.RoutingSnapshotTtl"/>; if refreshing it fails because the
/// manager's silo is unreachable, the last snapshot keeps routing. Thread-safe.</para>
/// </remarks>
public sealed partial class ModelRouter(
    IGrainFactory grains,
    LocalReplicaDirectory localReplicas,
    IReplicaSelectionPolicy selection,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<ModelRouter> logger)
{
    private readonly ConcurrentDictionary<string, Snapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ReplicaTracker> _trackers = new(StringComparer.Ordinal);
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<VersionStatus, ReplicaTracker[]> _versionTrackers = new();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _siloAborts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _staleLogged = new(StringComparer.Ordinal);

    private sealed record Snapshot(ModelStatus Status, long FetchedAt);

    /// <summary>This gateway's view of one replica: requests in flight to it, and whether its silo recently failed.</summary>
    private sealed class ReplicaTracker
    {
        /// <summary>The replica's key in the <see cref="LocalReplicaDirectory"/>.</summary>
        public required string LocalKey { get; init; }

        public int Outstanding;
        public string SuspectSilo = "";
        public long SuspectUntil;
    }

    /// <summary>
    /// Drops the cached status of <paramref name="model"/>, so this gateway routes its next
    /// request on fresh state (after an admin change it made). Other gateways see the change
    /// within <see cref="GatewayOptions.RoutingSnapshotTtl"/>.
    /// </summary>
    public void Invalidate(string model) => _snapshots.TryRemove(model, out _);

    /// <summary>Fresh status straight from the model's manager.</summary>
    public async Task<ModelStatus> GetStatusAsync(string model)
    {
        var status = await grains.GetGrain<IModelGrain>(model).GetStatusAsync();
        _snapshots[model] = new Snapshot(status, time.GetTimestamp());
        return status;
    }

    /// <summary>The status routing uses: cached for the snapshot TTL, and the last one when the manager is unreachable.</summary>
    public async ValueTask<ModelStatus> GetRoutingStatusAsync(string model, bool fresh = false)
    {
        _snapshots.TryGetValue(model, out var s);
        if (!fresh && s is not null && time.GetElapsedTime(s.FetchedAt) < options.Value.RoutingSnapshotTtl)
        {
            return s.Status;
        }
        try
        {
            if (s is null)
            {
                return await GetStatusAsync(model);
            }
            // With a snapshot to fall back on, never wait long: a call in flight to a manager
            // whose silo just died gets no answer until Orleans' response timeout.
            return await GetStatusAsync(model).WaitAsync(options.Value.StatusRefreshTimeout);
        }
        catch (Exception e) when (s is not null && IsTransportFailure(e))
        {
            // The manager's silo is unreachable until membership re-places it; its replicas may
            // still serve, so keep routing on what it last said.
            var now = time.GetTimestamp();
            if (!_staleLogged.TryGetValue(model, out var last) || time.GetElapsedTime(last, now) > TimeSpan.FromSeconds(5))
            {
                _staleLogged[model] = now;
                Log.StaleStatus(logger, model, e.GetType().Name, e.Message);
            }
            return s.Status;
        }
    }

    /// <summary>The version a request is served by; NOT_FOUND in TF Serving's words when none.</summary>
    public async ValueTask<VersionStatus> ResolveAsync(string model, long? version, bool fresh = false)
    {
        var status = await GetRoutingStatusAsync(model, fresh);
        return Resolve(status, model, version);
    }

    public static VersionStatus Resolve(ModelStatus status, string model, long? version)
    {
        var target = version is { } v ? status.Find(v) : status.DefaultTarget();
        if (target is null || target.State != ModelVersionState.Available)
        {
            // A version that no silo can host says so, rather than looking merely absent.
            var unplaced = version is { } uv
                ? target is { Unplaced: true } ? target : null
                : target is null ? status.Versions.LastOrDefault(x => x.Unplaced) : null;
            if (unplaced is not null)
            {
                throw new ServingException(ServingStatusCode.Unavailable, unplaced.ErrorMessage);
            }
            var request = version is { } rv ? $"Specific({model}, {rv})" : $"Latest({model})";
            throw ServingException.NotFound($"Servable not found for request: {request}");
        }
        return target;
    }

    /// <summary>
    /// Runs a Predict. <paramref name="buildRequest"/> is given the resolved version (its
    /// signatures decide how REST JSON is decoded) and may be called again on a retry.
    /// </summary>
    public async Task<InferenceResult> PredictAsync(
        string model, long? version, Func<VersionStatus, InferenceRequest> buildRequest, CancellationToken cancellationToken)
    {
        var fresh = false;
        HashSet<ReplicaTracker>? failed = null;
        var started = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            var target = await ResolveAsync(model, version, fresh);
            if (attempt > 1)
            {
                Log.Retrying(logger, model, target.Version, attempt, time.GetElapsedTime(started).TotalMilliseconds);
            }
            var request = buildRequest(target);
            var trackers = TrackersFor(model, target);
            var chosen = Choose(target, trackers, failed, time.GetTimestamp());
            if (chosen < 0)
            {
                if (!fresh && failed is null)
                {
                    // Perhaps the snapshot predates a re-placement: look once more.
                    fresh = true;
                    continue;
                }
                throw NoReplica(model, target);
            }
            var replica = target.Replicas[chosen];
            var tracker = trackers[chosen];
            Interlocked.Increment(ref tracker.Outstanding);
            try
            {
                if (localReplicas.TryGet(tracker.LocalKey, out var local))
                {
                    return await local.PredictAsync(request, cancellationToken);
                }
                // A call in flight to a silo that dies gets no answer until Orleans' response
                // timeout; the silo's abort token ends it as soon as any call sees the silo gone.
                // When any silo leaves, every call then in flight is ended too: Orleans may have
                // routed it through the dead silo (as client gateway, directory owner or a
                // placement it chose), and such a call also waits out the response timeout
                // (dotnet/orleans#10165). A retry is bounded by RetryAttemptTimeout for the same reason.
                var siloGone = SiloAbortToken(replica.Silo);
                var membershipChanged = _membershipEpoch.Token;
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, siloGone, membershipChanged);
                if (attempt > 1)
                {
                    linked.CancelAfter(options.Value.RetryAttemptTimeout);
                }
                try
                {
                    return await grains.Replica(model, target.Version, replica.Replica, replica.Device).PredictAsync(request, linked.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw siloGone.IsCancellationRequested
                        ? new ReplicaUnreachableException($"Silo {replica.Silo} became unreachable while the request was in flight", replicaAtFault: true)
                        : membershipChanged.IsCancellationRequested
                            ? new ReplicaUnreachableException("A silo left the cluster while the request was in flight", replicaAtFault: false)
                            : new ReplicaUnreachableException($"The retried request got no answer from silo {replica.Silo} within {options.Value.RetryAttemptTimeout.TotalSeconds:F0} s", replicaAtFault: true);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsRetryable(e))
            {
                if (e is ReplicaUnreachableException { ReplicaAtFault: false })
                {
                    // Ended only because some silo left: this replica may well be fine, so it
                    // stays a candidate.
                    Log.ReplicaFailed(logger, model, target.Version, replica.Replica, replica.Silo, e.GetType().Name, e.Message);
                }
                else if (IsTransportFailure(e))
                {
                    (failed ??= []).Add(tracker);
                    if (e is not ReplicaUnreachableException)
                    {
                        // Orleans itself found the silo unreachable: end the other calls to it too.
                        AbortSilo(replica.Silo);
                    }
                    lock (tracker)
                    {
                        tracker.SuspectSilo = replica.Silo;
                        tracker.SuspectUntil = time.GetTimestamp() + (long)(options.Value.SuspectReplicaFor.TotalSeconds * time.TimestampFrequency);
                    }
                    Log.ReplicaFailed(logger, model, target.Version, replica.Replica, replica.Silo, e.GetType().Name, e.Message);
                }
                else
                {
                    // Unloaded under us: the version set changed, so re-resolve.
                    (failed ??= []).Add(tracker);
                    fresh = true;
                }
                if (attempt >= target.Replicas.Length + 2)
                {
                    throw NoReplica(model, target);
                }
            }
            finally
            {
                Interlocked.Decrement(ref tracker.Outstanding);
            }
        }
    }

    private volatile IReadOnlySet<string>? _activeSilos;
    private CancellationTokenSource _membershipEpoch = new();

    /// <summary>
    /// The silos membership reports active (from <see cref="SiloWatcher"/>). Replicas elsewhere
    /// are not routed to, and calls in flight to silos that left are ended and retried.
    /// </summary>
    public void SetActiveSilos(IReadOnlySet<string> active)
    {
        var previous = _activeSilos;
        _activeSilos = active;
        if (previous is not null && previous.Any(s => !active.Contains(s)))
        {
            var epoch = Interlocked.Exchange(ref _membershipEpoch, new CancellationTokenSource());
            epoch.Cancel();
        }
        foreach (var silo in _siloAborts.Keys)
        {
            if (!active.Contains(silo))
            {
                AbortSilo(silo);
            }
        }
    }

    private CancellationToken SiloAbortToken(string silo)
        => _siloAborts.GetOrAdd(silo, static _ => new CancellationTokenSource()).Token;

    /// <summary>Ends every call in flight to <paramref name="silo"/>; each is then retried on another replica.</summary>
    private void AbortSilo(string silo)
    {
        if (_siloAborts.TryRemove(silo, out var cts))
        {
            cts.Cancel();
        }
    }

    /// <summary>
    /// The trackers of a snapshot's replicas, by position; computed once per snapshot, so a
    /// request builds no keys. Trackers outlive snapshots: they are shared by replica identity.
    /// </summary>
    private ReplicaTracker[] TrackersFor(string model, VersionStatus target)
    {
        if (_versionTrackers.TryGetValue(target, out var cached))
        {
            return cached;
        }
        var trackers = new ReplicaTracker[target.Replicas.Length];
        for (var i = 0; i < trackers.Length; i++)
        {
            var r = target.Replicas[i];
            var localKey = ModelVersionKey.Format(model, target.Version, r.Replica);
            trackers[i] = _trackers.GetOrAdd($"{ModelVersionKey.GrainClass(r.Device)}/{localKey}", static (_, key) => new ReplicaTracker { LocalKey = key }, localKey);
        }
        _versionTrackers.AddOrUpdate(target, trackers);
        return trackers;
    }

    /// <summary>
    /// The index of the replica to call, or -1: among Available replicas on active silos that
    /// have not failed this request and are not suspect, the selection policy's choice.
    /// </summary>
    private int Choose(VersionStatus target, ReplicaTracker[] trackers, HashSet<ReplicaTracker>? failed, long now)
    {
        var count = 0;
        var last = -1;
        Span<bool> eligible = target.Replicas.Length <= 64 ? stackalloc bool[target.Replicas.Length] : new bool[target.Replicas.Length];
        for (var i = 0; i < target.Replicas.Length; i++)
        {
            var r = target.Replicas[i];
            var t = trackers[i];
            if (r.State != ReplicaState.Available
                || (_activeSilos is { } active && r.Silo.Length > 0 && !active.Contains(r.Silo))
                || (failed is not null && failed.Contains(t)))
            {
                continue;
            }
            lock (t)
            {
                if (t.SuspectUntil > now && t.SuspectSilo == r.Silo)
                {
                    continue;
                }
            }
            eligible[i] = true;
            last = i;
            count++;
        }
        if (count <= 1)
        {
            return last;
        }
        var indices = new int[count];
        var loads = new ReplicaLoad[count];
        for (int i = 0, n = 0; i < eligible.Length; i++)
        {
            if (eligible[i])
            {
                indices[n] = i;
                loads[n++] = new ReplicaLoad(target.Replicas[i].Replica, Volatile.Read(ref trackers[i].Outstanding), target.Replicas[i].Queued);
            }
        }
        return indices[selection.Choose(loads)];
    }

    private static ServingException NoReplica(string model, VersionStatus target)
    {
        var states = target.Replicas.Length == 0
            ? "it has no replicas"
            : string.Join("; ", target.Replicas.Select(r => $"replica {r.Replica} {r.State.ToString().ToUpperInvariant()}{(r.Silo.Length > 0 ? $" on {r.Silo}" : "")}"));
        return new ServingException(ServingStatusCode.Unavailable,
            $"No replica of servable {{name: {model} version: {target.Version}}} is reachable ({states}); its replicas are being re-placed, retry shortly");
    }

    /// <summary>
    /// Failures that say the addressed replica was not there to serve, never that the request
    /// was bad: its silo is unreachable, or the version was unloaded or its activation was
    /// deactivating when the message arrived.
    /// </summary>
    private static bool IsRetryable(Exception e)
        => e is ServingException { Kind: ServingFailureKind.VersionNotLoaded } || IsTransportFailure(e);

    /// <summary>The call never reached a live replica: the silo (or the path to it) is gone.</summary>
    private static bool IsTransportFailure(Exception e) => e is ReplicaUnreachableException
        or Orleans.Runtime.OrleansMessageRejectionException
        or Orleans.Runtime.SiloUnavailableException
        or Orleans.Runtime.Messaging.ConnectionFailedException
        or Orleans.Runtime.GatewayTooBusyException
        or TimeoutException;

    /// <summary>This router ended a call because its silo left or it overran a retry's limit.</summary>
    private sealed class ReplicaUnreachableException(string message, bool replicaAtFault) : Exception(message)
    {
        /// <summary>False when the call was ended only because another silo left.</summary>
        public bool ReplicaAtFault { get; } = replicaAtFault;
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Warning, "Model {Model} version {Version} replica {Replica} on silo {Silo} failed ({Kind}: {Reason}); retrying on another replica")]
        public static partial void ReplicaFailed(ILogger logger, string model, long version, int replica, string silo, string kind, string reason);

        [LoggerMessage(2003, LogLevel.Information, "Model {Model} version {Version}: attempt {Attempt} of a Predict, {ElapsedMs:F0} ms after it arrived")]
        public static partial void Retrying(ILogger logger, string model, long version, int attempt, double elapsedMs);

        [LoggerMessage(2002, LogLevel.Warning, "Model {Model}: its manager is unreachable ({Kind}: {Reason}); routing on the last status")]
        public static partial void StaleStatus(ILogger logger, string model, string kind, string reason);
    }
}
