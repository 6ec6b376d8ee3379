using Grid.Devices;
using Grid.Inference;
using Grid.Models;

namespace Grid.Grains;

/// <summary>
/// One replica of one model version (key: <c>model/version/replica</c>), TF Serving's
/// loader, harness and servable in one activation. It owns the inference session.
/// </summary>
[Alias("grid.IModelVersionGrain")]
public interface IModelVersionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Loads the version from <paramref name="version"/>.Path and returns its signatures and
    /// the silo it runs on. Idempotent for the same fingerprint; a changed fingerprint reloads.
    /// Throws <see cref="Grid.Serving.ServingException"/> when the model cannot be loaded.
    /// </summary>
    [Alias("Load")]
    Task<ReplicaLoaded> LoadAsync(AspiredVersion version, CancellationToken cancellationToken = default);

    /// <summary>Stops accepting work, waits for in-flight requests, then frees the session.</summary>
    [Alias("Unload")]
    Task UnloadAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Unloads like <see cref="UnloadAsync"/>, then deactivates, so the next load places the
    /// replica afresh (used to move it to another silo).
    /// </summary>
    [Alias("Retire")]
    Task RetireAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether this activation serves, where, and its load. Never waits behind a load.</summary>
    [Alias("GetReport"), Orleans.Concurrency.AlwaysInterleave]
    Task<ReplicaReport> GetReportAsync();

    /// <summary>Runs one Predict. Interleaves with every other call so requests overlap.</summary>
    [Alias("Predict"), Orleans.Concurrency.AlwaysInterleave]
    Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken = default);
}

/// <summary>
/// Builds and parses <see cref="IModelVersionGrain"/> keys, and names the grain class that
/// serves each device requirement: one class per requirement, each with its own placement
/// filter, so a replica's device constraint holds however its activation is triggered.
/// </summary>
public static class ModelVersionKey
{
    /// <summary>The grain class (full name, usable as a GetGrain class-name prefix) for a requirement.</summary>
    public static string GrainClass(DeviceRequirement device) => device switch
    {
        DeviceRequirement.Cpu => "Grid.Grains.Versions.CpuModelVersionGrain",
        DeviceRequirement.Gpu => "Grid.Grains.Versions.GpuModelVersionGrain",
        _ => "Grid.Grains.Versions.AnyModelVersionGrain",
    };

    /// <summary>The replica grain of <paramref name="model"/>/<paramref name="version"/>/<paramref name="replica"/> that needs <paramref name="device"/>.</summary>
    public static IModelVersionGrain Replica(this IGrainFactory grains, string model, long version, int replica, DeviceRequirement device)
        => grains.GetGrain<IModelVersionGrain>(Format(model, version, replica), GrainClass(device));

    public static string Format(string model, long version, int replica = 0) => $"{model}/{version}/{replica}";

    /// <summary>Parses from the right, so model names may themselves contain '/'.</summary>
    public static (string Model, long Version, int Replica) Parse(string key)
    {
        var lastSlash = key.LastIndexOf('/');
        var midSlash = lastSlash > 0 ? key.LastIndexOf('/', lastSlash - 1) : -1;
        if (midSlash <= 0
            || !long.TryParse(key.AsSpan(midSlash + 1, lastSlash - midSlash - 1), out var version)
            || !int.TryParse(key.AsSpan(lastSlash + 1), out var replica))
        {
            throw new FormatException($"'{key}' is not a model/version/replica key.");
        }
        return (key[..midSlash], version, replica);
    }
}
