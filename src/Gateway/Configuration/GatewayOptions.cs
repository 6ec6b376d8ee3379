using Microsoft.Extensions.Options;

namespace Grid.Gateway.Configuration;

/// <summary>Limits and routing settings of the protocol gateway.</summary>
public sealed class GatewayOptions
{
    /// <summary>64 MiB: TF Serving clients commonly raise their 4 MiB default to this.</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>
    /// Largest gRPC message and REST body accepted or sent, enforced before any grain call
    /// (an oversized Orleans message would disturb other calls on the same connection).
    /// </summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    public static readonly TimeSpan DefaultRoutingSnapshotTtl = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long a model's cached status may be used to route requests before it is refreshed.
    /// A request that reaches an unloaded version refreshes at once and is retried.
    /// </summary>
    public TimeSpan RoutingSnapshotTtl { get; set; } = DefaultRoutingSnapshotTtl;

    /// <summary>
    /// How long a replica whose silo failed a call is left out of routing, unless its manager
    /// re-places it on another silo sooner. Requests meanwhile go to the other replicas, or fail
    /// fast with UNAVAILABLE when there are none.
    /// </summary>
    public TimeSpan SuspectReplicaFor { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long routing waits for a model's manager to refresh its status before it routes on
    /// the previous snapshot (the manager's silo may have just died).
    /// </summary>
    public TimeSpan StatusRefreshTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest a retried Predict waits for its replica before trying another. The first
    /// attempt has no such limit (inference may be slow); a retry follows a silo failure, when
    /// Orleans can leave a call unanswered until its 30 s response timeout.
    /// </summary>
    public TimeSpan RetryAttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>--enable_signature_method_name_check</c>, TF Serving's flag of the same name: Classify
    /// and Regress refuse a signature whose method_name is not theirs (so ONNX and TorchScript
    /// models, whose signatures are predict, answer with TF Serving's wrong-method error). Off
    /// by default, as in TF Serving, because native TF2 SavedModels mark every signature
    /// predict; signatures are then judged by their inputs and outputs alone.
    /// </summary>
    public bool EnableSignatureMethodNameCheck { get; set; }

    /// <summary><c>--admin_token</c>: when set, the admin API requires <c>Authorization: Bearer</c> with it.</summary>
    public string? AdminToken { get; set; }
}

public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        if (options.MaxMessageBytes < 1024)
        {
            return ValidateOptionsResult.Fail($"MaxMessageBytes must be at least 1024, got {options.MaxMessageBytes}");
        }
        if (options.RoutingSnapshotTtl < TimeSpan.Zero || options.RoutingSnapshotTtl > TimeSpan.FromSeconds(10))
        {
            return ValidateOptionsResult.Fail($"RoutingSnapshotTtl must be between 0 and 10 s, got {options.RoutingSnapshotTtl}");
        }
        if (options.StatusRefreshTimeout <= TimeSpan.Zero || options.StatusRefreshTimeout > TimeSpan.FromMinutes(1))
        {
            return ValidateOptionsResult.Fail($"StatusRefreshTimeout must be between 0 (exclusive) and 1 min, got {options.StatusRefreshTimeout}");
        }
        if (options.AdminToken is { } token && (token.Length < 8 || token.Any(char.IsWhiteSpace)))
        {
            return ValidateOptionsResult.Fail("--admin_token must be at least 8 characters with no spaces");
        }
        if (options.RetryAttemptTimeout <= TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail($"RetryAttemptTimeout must be positive, got {options.RetryAttemptTimeout}");
        }
        if (options.SuspectReplicaFor < TimeSpan.Zero || options.SuspectReplicaFor > TimeSpan.FromMinutes(1))
        {
            return ValidateOptionsResult.Fail($"SuspectReplicaFor must be between 0 and 1 min, got {options.SuspectReplicaFor}");
        }
        return ValidateOptionsResult.Success;
    }
}
