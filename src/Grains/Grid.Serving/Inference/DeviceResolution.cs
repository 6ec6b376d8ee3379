using Grid.Devices;

namespace Grid.Serving.Inference;

/// <summary>What the libtorch this process loaded says about CUDA.</summary>
/// <param name="Available">CUDA is usable: a CUDA build of libtorch, a driver and a device.</param>
/// <param name="DeviceCount">CUDA devices visible (after CUDA_VISIBLE_DEVICES).</param>
/// <param name="UnavailableReason">Why not, when <paramref name="Available"/> is false.</param>
public sealed record CudaProbe(bool Available, int DeviceCount, string? UnavailableReason);

/// <summary>
/// Decides what a silo offers from <c>--devices</c>, <c>--gpu_stand_in</c>, the GPUs the NVIDIA
/// driver lists and what CUDA reports. Pure, so every combination is unit-tested; the silo's
/// start-up gathers the inputs.
/// </summary>
/// <remarks>
/// Guarantees: a GPU is offered for placement only when CUDA is usable and sees it (or it is a
/// stand-in); otherwise it stays listed with the reason in one sentence, so status and the
/// start-up log can say why GPU models are not placed. Without <c>--devices</c>, the GPUs are
/// the ones CUDA sees when it is usable, else the ones the driver lists.
/// </remarks>
public static class DeviceResolution
{
    public const string NotProbedReason = "CUDA was not probed (no libtorch or ONNX Runtime CUDA provider was loaded)";

    /// <summary>
    /// One probe from each engine's: CUDA is usable when any engine can use it (with the most
    /// devices any of them sees); otherwise the reason names each engine's. Null without probes.
    /// </summary>
    public static CudaProbe? Combine(IReadOnlyList<(string Engine, CudaProbe Probe)> probes)
    {
        if (probes.Count == 0)
        {
            return null;
        }
        var available = probes.Where(p => p.Probe.Available).ToList();
        if (available.Count > 0)
        {
            return new CudaProbe(true, available.Max(p => p.Probe.DeviceCount), null);
        }
        return probes.Count == 1
            ? probes[0].Probe
            : new CudaProbe(false, 0, string.Join("; ", probes.Select(p => $"{p.Engine}: {p.Probe.UnavailableReason ?? "CUDA is not available"}")));
    }

    /// <exception cref="ArgumentException">The <c>--devices</c> list does not parse.</exception>
    public static SiloDevices Resolve(string? devicesFlag, bool gpuStandIn, int driverGpus, CudaProbe? cuda)
    {
        IReadOnlyList<string> devices;
        if (devicesFlag is not null)
        {
            devices = SiloDevices.ParseList(devicesFlag).Devices ?? throw new ArgumentException($"invalid --devices '{devicesFlag}'");
        }
        else
        {
            var count = cuda is { Available: true } ? cuda.DeviceCount : driverGpus;
            devices = ["cpu", .. Enumerable.Range(0, count).Select(i => $"gpu:{i}")];
        }
        var gpus = devices.Where(d => SiloDevices.GpuOrdinal(d) is not null).ToList();
        if (gpus.Count == 0)
        {
            return new SiloDevices(devices, null, false);
        }
        if (gpuStandIn)
        {
            return new SiloDevices(devices, null, true);
        }
        var reason = cuda switch
        {
            null => NotProbedReason,
            { Available: false } => cuda.UnavailableReason ?? "CUDA is not available",
            _ => gpus.FirstOrDefault(g => SiloDevices.GpuOrdinal(g) >= cuda.DeviceCount) is { } missing
                ? $"--devices lists {missing}, and CUDA sees {cuda.DeviceCount} device(s)"
                : null,
        };
        return new SiloDevices(devices, reason, false);
    }
}
