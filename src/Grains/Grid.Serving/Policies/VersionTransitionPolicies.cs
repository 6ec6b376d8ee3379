using Grid.Models;

namespace Grid.Serving.Policies;

/// <summary>What the manager knows of one version when it asks for the next action.</summary>
public sealed record VersionSnapshot(long Version, ModelVersionState State, bool IsAspired);

public enum VersionActionKind
{
    Load,
    Unload,
}

public sealed record VersionAction(VersionActionKind Kind, long Version);

/// <summary>
/// TF Serving's version transition policy. Pure and idempotent: same snapshots in, same
/// action out; no clock, no I/O. The manager applies one action, then asks again.
/// </summary>
public interface IVersionTransitionPolicy
{
    string Name { get; }

    VersionAction? NextAction(IReadOnlyList<VersionSnapshot> versions);
}

public static class VersionTransitionPolicies
{
    public const string AvailabilityPreserving = nameof(AvailabilityPreserving);
}

/// <summary>
/// Load new versions before unloading old ones, so a model that has a serving version never
/// goes dark: an un-aspired Available version is unloaded only when no version is aspired,
/// when an aspired version is already Available, or when another un-aspired version is
/// still Available. New aspired versions load highest first.
/// </summary>
public sealed class AvailabilityPreservingPolicy : IVersionTransitionPolicy
{
    public string Name => VersionTransitionPolicies.AvailabilityPreserving;

    public VersionAction? NextAction(IReadOnlyList<VersionSnapshot> versions)
    {
        var hasAspired = false;
        var hasAspiredAvailable = false;
        var unaspiredAvailable = new List<long>();
        foreach (var v in versions)
        {
            if (v.IsAspired)
            {
                hasAspired = true;
                hasAspiredAvailable |= v.State == ModelVersionState.Available;
            }
            else if (v.State == ModelVersionState.Available)
            {
                unaspiredAvailable.Add(v.Version);
            }
        }
        if (unaspiredAvailable.Count > 0 && (!hasAspired || hasAspiredAvailable || unaspiredAvailable.Count > 1))
        {
            return new VersionAction(VersionActionKind.Unload, unaspiredAvailable.Min());
        }
        long? toLoad = null;
        foreach (var v in versions)
        {
            if (v.IsAspired && v.State == ModelVersionState.Start && (toLoad is null || v.Version > toLoad))
            {
                toLoad = v.Version;
            }
        }
        return toLoad is { } version ? new VersionAction(VersionActionKind.Load, version) : null;
    }
}
