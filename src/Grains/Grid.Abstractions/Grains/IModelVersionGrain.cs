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
    /// Loads the version from <paramref name="version"/>.Path and returns its signatures.
    /// Idempotent for the same fingerprint; a changed fingerprint reloads. Throws
    /// <see cref="Grid.Serving.ServingException"/> when the model cannot be loaded.
    /// </summary>
    [Alias("Load")]
    Task<ModelSignature[]> LoadAsync(AspiredVersion version, CancellationToken cancellationToken = default);

    /// <summary>Stops accepting work, waits for in-flight requests, then frees the session.</summary>
    [Alias("Unload")]
    Task UnloadAsync(CancellationToken cancellationToken = default);

    /// <summary>Runs one Predict. Interleaves with every other call so requests overlap.</summary>
    [Alias("Predict"), Orleans.Concurrency.AlwaysInterleave]
    Task<InferenceResult> PredictAsync(InferenceRequest request, CancellationToken cancellationToken = default);
}

/// <summary>Builds and parses <see cref="IModelVersionGrain"/> keys.</summary>
public static class ModelVersionKey
{
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
