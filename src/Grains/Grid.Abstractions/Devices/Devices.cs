namespace Grid.Devices;

/// <summary>
/// What a model version needs from the silo that hosts it. <see cref="Any"/> is Triton's
/// KIND_AUTO: a GPU where the silo offers a usable one, the CPU otherwise.
/// </summary>
[GenerateSerializer]
public enum DeviceRequirement
{
    Any = 0,
    Cpu = 1,
    Gpu = 2,
}

public static class DeviceRequirements
{
    /// <summary>Parses <c>gpu</c>, <c>cpu</c> or <c>any</c> (case-insensitive); Triton's KIND_GPU, KIND_CPU and KIND_AUTO too.</summary>
    public static bool TryParse(string? text, out DeviceRequirement requirement)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "any" or "auto" or "kind_auto":
                requirement = DeviceRequirement.Any;
                return true;
            case "cpu" or "kind_cpu":
                requirement = DeviceRequirement.Cpu;
                return true;
            case "gpu" or "kind_gpu":
                requirement = DeviceRequirement.Gpu;
                return true;
            default:
                requirement = default;
                return false;
        }
    }

    public static string ToText(this DeviceRequirement requirement) => requirement switch
    {
        DeviceRequirement.Cpu => "cpu",
        DeviceRequirement.Gpu => "gpu",
        _ => "any",
    };
}

/// <summary>
/// The devices one silo offers to model replicas, as advertised in its Orleans silo metadata
/// (fixed for the silo's lifetime). A GPU is only offered for placement when the silo has an
/// engine that can run on it; otherwise <see cref="GpuUnusableReason"/> says why, and the GPU
/// stays listed so status can explain the refusal.
/// </summary>
/// <param name="Devices">Device names in the silo's order: <c>cpu</c>, <c>gpu:0</c>, <c>gpu:1</c>…</param>
/// <param name="GpuUnusableReason">Null when the listed GPUs can run models.</param>
/// <param name="GpuStandIn">True when GPU placements are accepted but run on the CPU engine (test stand-in).</param>
public sealed record SiloDevices(IReadOnlyList<string> Devices, string? GpuUnusableReason, bool GpuStandIn)
{
    public const string DevicesKey = "grid.devices";
    public const string GpuUnusableKey = "grid.gpu.unusable";
    public const string GpuStandInKey = "grid.gpu.stand-in";

    public bool HasCpu => Devices.Contains("cpu");

    public IEnumerable<string> Gpus => Devices.Where(d => GpuOrdinal(d) is not null);

    /// <summary>The CUDA ordinals of <see cref="Gpus"/>, in the silo's order.</summary>
    public IEnumerable<int> GpuOrdinals => Devices.Select(GpuOrdinal).OfType<int>();

    /// <summary>N for a device name <c>gpu:N</c> (as <see cref="ParseList"/> normalises it); null for anything else.</summary>
    public static int? GpuOrdinal(string device)
        => device.StartsWith("gpu:", StringComparison.Ordinal)
           && int.TryParse(device.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal)
            ? ordinal
            : null;

    public bool HasUsableGpu => GpuUnusableReason is null && Gpus.Any();

    /// <summary>True when a replica that needs <paramref name="requirement"/> may be placed here.</summary>
    public bool Satisfies(DeviceRequirement requirement) => requirement switch
    {
        DeviceRequirement.Cpu => HasCpu,
        DeviceRequirement.Gpu => HasUsableGpu,
        _ => HasCpu || HasUsableGpu,
    };

    /// <summary>
    /// Parses <c>--devices</c>: a comma-separated list of <c>cpu</c> and <c>gpu:N</c>. Errors
    /// name the bad entry.
    /// </summary>
    public static (IReadOnlyList<string>? Devices, string? Error) ParseList(string text)
    {
        var devices = new List<string>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var entry = raw.ToLowerInvariant();
            if (entry == "cpu")
            {
                // Listed once, wherever it appears.
            }
            else if (entry.StartsWith("gpu:", StringComparison.Ordinal) && int.TryParse(entry.AsSpan(4), System.Globalization.NumberStyles.None, null, out var ordinal))
            {
                entry = $"gpu:{ordinal}";
            }
            else
            {
                return (null, $"'{raw}' is not a device; expected 'cpu' or 'gpu:N' (e.g. --devices cpu,gpu:0,gpu:1)");
            }
            if (devices.Contains(entry))
            {
                return (null, $"device '{entry}' is listed twice");
            }
            devices.Add(entry);
        }
        return devices.Count == 0 ? (null, "no devices given") : (devices, null);
    }

    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string> { [DevicesKey] = string.Join(",", Devices) };
        if (GpuUnusableReason is not null)
        {
            metadata[GpuUnusableKey] = GpuUnusableReason;
        }
        if (GpuStandIn)
        {
            metadata[GpuStandInKey] = "true";
        }
        return metadata;
    }

    /// <summary>Reads a silo's metadata; a silo that advertised nothing (not yet cached, or not a Grid silo) offers nothing.</summary>
    public static SiloDevices FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var devices = metadata.TryGetValue(DevicesKey, out var list) && list.Length > 0 ? list.Split(',') : [];
        metadata.TryGetValue(GpuUnusableKey, out var unusable);
        var standIn = metadata.TryGetValue(GpuStandInKey, out var s) && s == "true";
        return new SiloDevices(devices, unusable, standIn);
    }

    public override string ToString()
        => string.Join(",", Devices) + (GpuUnusableReason is { } r ? $" (GPU unusable: {r})" : GpuStandIn ? " (GPU stand-in on the CPU engine)" : "");
}
