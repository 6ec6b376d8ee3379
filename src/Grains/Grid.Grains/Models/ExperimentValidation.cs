using System.Text.RegularExpressions;
using Grid.Experiments;
using Grid.Serving;

namespace Grid.Grains.Models;

/// <summary>The rules an experiment spec must satisfy; each failure is one INVALID_ARGUMENT naming the field.</summary>
public static partial class ExperimentValidation
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$")]
    private static partial Regex HeaderName();

    public static void ValidateId(string id)
    {
        if (!IdPattern().IsMatch(id ?? ""))
        {
            throw ServingException.InvalidArgument($"Experiment id '{id}' must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
    }

    /// <param name="available">The model's available versions; null skips the version check (weights-only change).</param>
    public static void ValidateSpec(ExperimentSpec spec, string model, IReadOnlySet<long>? available)
    {
        if (spec.Arms.Length < 2)
        {
            throw ServingException.InvalidArgument($"An experiment needs at least 2 arms, got {spec.Arms.Length}");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var arm in spec.Arms)
        {
            if (!IdPattern().IsMatch(arm.Name ?? "") || arm.Name == ShadowArm.ArmName)
            {
                throw ServingException.InvalidArgument($"Arm name '{arm.Name}' must be 1-64 letters, digits, '_', '.' or '-' and not '{ShadowArm.ArmName}'");
            }
            if (!names.Add(arm.Name!))
            {
                throw ServingException.InvalidArgument($"Arm name '{arm.Name}' is used twice");
            }
            if (arm.Weight <= 0)
            {
                throw ServingException.InvalidArgument($"Arm '{arm.Name}' has weight {arm.Weight}; weights must be positive integers");
            }
            if (available is not null && !available.Contains(arm.Version))
            {
                throw ServingException.InvalidArgument($"Arm '{arm.Name}': model {model} has no available version {arm.Version}{AvailableList(available)}");
            }
        }
        if (spec.StickyKey is { } key && !HeaderName().IsMatch(key))
        {
            throw ServingException.InvalidArgument($"sticky_key '{key}' must be a lower-case header name, e.g. x-grid-subject");
        }
        if (spec.Shadow is { } shadow)
        {
            if (double.IsNaN(shadow.Percent) || shadow.Percent <= 0 || shadow.Percent > 100)
            {
                throw ServingException.InvalidArgument($"shadow.percent must be above 0 and at most 100, got {shadow.Percent}");
            }
            if (available is not null && !available.Contains(shadow.Version))
            {
                throw ServingException.InvalidArgument($"shadow: model {model} has no available version {shadow.Version}{AvailableList(available)}");
            }
        }
    }

    private static string AvailableList(IReadOnlySet<long> available)
        => available.Count == 0 ? " (none is available)" : $" (available: {string.Join(", ", available.Order())})";
}
