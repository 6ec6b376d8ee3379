using Grid.Devices;

namespace Grid.Silo.Hosting;

/// <summary>
/// Decides what a silo offers: the <c>--devices</c> list, or the CPU plus every NVIDIA GPU the
/// kernel driver lists. A GPU is only offered for placement when an engine in this build can
/// run on it; none can yet (ONNX Runtime here is the CPU build and the libtorch engine is not
/// built), so GPUs are advertised as unusable with that reason, unless the silo runs with
/// <c>--gpu_stand_in</c>, which accepts GPU placements and runs them on the CPU engine.
/// </summary>
public static class DeviceDetection
{
    public const string NoCudaEngineReason =
        "no engine in this build can run on CUDA (ONNX Runtime here is the CPU build, and the libtorch engine is not built yet)";

    public static SiloDevices Resolve(string? devicesFlag, bool gpuStandIn)
    {
        IReadOnlyList<string> devices = devicesFlag is not null
            ? SiloDevices.ParseList(devicesFlag).Devices ?? throw new ArgumentException($"invalid --devices '{devicesFlag}'")
            : Detect();
        var hasGpu = devices.Any(d => d.StartsWith("gpu:", StringComparison.Ordinal));
        return new SiloDevices(devices, hasGpu && !gpuStandIn ? NoCudaEngineReason : null, hasGpu && gpuStandIn);
    }

    /// <summary>The CPU, plus one <c>gpu:N</c> per GPU under /proc/driver/nvidia/gpus.</summary>
    public static IReadOnlyList<string> Detect()
    {
        var devices = new List<string> { "cpu" };
        const string driver = "/proc/driver/nvidia/gpus";
        if (Directory.Exists(driver))
        {
            var count = Directory.GetDirectories(driver).Length;
            for (var i = 0; i < count; i++)
            {
                devices.Add($"gpu:{i}");
            }
        }
        return devices;
    }
}
