using Microsoft.Extensions.Options;

namespace Grid.Grains.Hosting;

/// <summary>How a model's manager watches its replicas.</summary>
public sealed class ReplicaManagementOptions
{
    /// <summary>Time between load checks of every replica; also how soon a lost replica is re-placed.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A replica that does not answer its check within this is treated as lost.</summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Wait before a replica whose load failed is tried again.</summary>
    public TimeSpan FailedRetryInterval { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class ReplicaManagementOptionsValidator : IValidateOptions<ReplicaManagementOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicaManagementOptions o)
    {
        if (o.CheckInterval < TimeSpan.FromMilliseconds(50) || o.CheckInterval > TimeSpan.FromMinutes(10))
        {
            return ValidateOptionsResult.Fail($"CheckInterval must be between 50 ms and 10 min, got {o.CheckInterval}");
        }
        if (o.CheckTimeout <= TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail($"CheckTimeout must be positive, got {o.CheckTimeout}");
        }
        if (o.FailedRetryInterval < TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail($"FailedRetryInterval must not be negative, got {o.FailedRetryInterval}");
        }
        return ValidateOptionsResult.Success;
    }
}

/// <summary>The grain storage provider every Grid grain persists to.</summary>
public static class GridStorage
{
    public const string Name = "grid";
}
