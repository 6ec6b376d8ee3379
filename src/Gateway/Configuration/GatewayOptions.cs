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
        return ValidateOptionsResult.Success;
    }
}
