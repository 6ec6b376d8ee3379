using Grid.Devices;
using Grid.Serving.Policies;

namespace Grid.Serving.Inference;

/// <summary>Per-silo limits on what model replicas may take from a device.</summary>
public sealed class DeviceBindingOptions
{
    /// <summary>
    /// <c>--gpu_memory_mib</c>: the model memory Grid admits on each GPU, in bytes; null admits
    /// until the device itself runs out. A load is admitted against the engine's estimate
    /// before anything is allocated, so an over-budget model fails fast and cleanly.
    /// </summary>
    public long? GpuMemoryLimitBytes { get; set; }
}

/// <summary>
/// Binds each loading replica on this silo to exactly one device and keeps the GPU accounting
/// (replicas and admitted memory per GPU) that the choice and the budget need.
/// </summary>
/// <remarks>
/// Guarantees: a replica that needs a GPU gets one of the silo's usable GPUs or a clear error,
/// never the CPU; a GPU model whose engine cannot run on CUDA is refused with the reason; a load
/// that would take a GPU past <see cref="DeviceBindingOptions.GpuMemoryLimitBytes"/> is refused
/// with RESOURCE_EXHAUSTED. A replica that may run anywhere (<see cref="DeviceRequirement.Any"/>)
/// takes a real CUDA GPU when its engine can use one and one has room, the CPU otherwise. The
/// lease returned must be disposed when the replica's session is freed; disposing twice is safe.
/// </remarks>
public sealed class DeviceBinder(SiloDevices devices, DeviceBindingOptions options, IGpuChoicePolicy policy)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, (int Replicas, long Bytes)> _use = devices.GpuOrdinals.ToDictionary(o => o, _ => (0, 0L));

    /// <summary>Replicas and admitted bytes per GPU, by ordinal.</summary>
    public IReadOnlyList<GpuUse> Snapshot()
    {
        lock (_gate)
        {
            return UseLocked();
        }
    }

    private List<GpuUse> UseLocked() => _use.Select(u => new GpuUse(u.Key, u.Value.Replicas, u.Value.Bytes)).OrderBy(u => u.Ordinal).ToList();

    /// <param name="requirement">What the replica's deployment asks for.</param>
    /// <param name="engine">The engine that will load it (decides whether CUDA is possible).</param>
    /// <param name="neededBytes">The engine's estimate of the model's device memory.</param>
    /// <param name="what">"model M version V replica R", for error messages.</param>
    public DeviceLease Bind(DeviceRequirement requirement, IModelEngine engine, long neededBytes, string what)
    {
        var gpuUsable = devices.HasUsableGpu;
        var engineCanGpu = devices.GpuStandIn || engine.SupportsCuda;
        switch (requirement)
        {
            case DeviceRequirement.Cpu:
                return devices.HasCpu
                    ? new DeviceLease(this, ExecutionDevice.Cpu, 0)
                    : throw ServingException.FailedPrecondition($"{what} needs the CPU, and this silo offers only {string.Join(",", devices.Devices)}");
            case DeviceRequirement.Gpu:
                if (!gpuUsable)
                {
                    throw ServingException.FailedPrecondition(devices.Gpus.Any()
                        ? $"{what} needs a GPU, and this silo's GPUs are unusable: {devices.GpuUnusableReason}"
                        : $"{what} needs a GPU, and this silo has none");
                }
                if (!engineCanGpu)
                {
                    throw ServingException.FailedPrecondition(
                        $"{what} needs a GPU, and its engine {engine.Name} cannot run on CUDA in this process");
                }
                return BindGpu(neededBytes, what) ?? throw OverBudget(neededBytes, what);
            default:
                // KIND_AUTO: a real GPU the engine can use, when one has room; else the CPU. A
                // stand-in GPU is not preferred: it would only run on the CPU anyway.
                if (gpuUsable && !devices.GpuStandIn && engine.SupportsCuda && BindGpu(neededBytes, what) is { } lease)
                {
                    return lease;
                }
                if (devices.HasCpu)
                {
                    return new DeviceLease(this, ExecutionDevice.Cpu, 0);
                }
                if (gpuUsable && engineCanGpu)
                {
                    return BindGpu(neededBytes, what) ?? throw OverBudget(neededBytes, what);
                }
                throw ServingException.FailedPrecondition($"{what} cannot run on this silo's devices ({devices})");
        }
    }

    private DeviceLease? BindGpu(long neededBytes, string what)
    {
        lock (_gate)
        {
            if (policy.Choose(UseLocked(), neededBytes, options.GpuMemoryLimitBytes) is not { } ordinal)
            {
                return null;
            }
            if (!_use.TryGetValue(ordinal, out var use))
            {
                throw new InvalidOperationException($"GPU choice policy picked gpu:{ordinal}, which is not one of this silo's GPUs ({what})");
            }
            _use[ordinal] = (use.Replicas + 1, use.Bytes + neededBytes);
            return new DeviceLease(this, ExecutionDevice.Gpu(ordinal, devices.GpuStandIn), neededBytes);
        }
    }

    private ServingException OverBudget(long neededBytes, string what)
    {
        var limit = options.GpuMemoryLimitBytes ?? 0;
        var free = Snapshot().Select(u => Math.Max(0, limit - u.ReservedBytes)).DefaultIfEmpty(0).Max();
        return new ServingException(ServingStatusCode.ResourceExhausted,
            $"{what} needs about {Mib(neededBytes)} MiB of GPU memory, and no GPU on this silo has that left under --gpu_memory_mib {Mib(limit)} (most free: {Mib(free)} MiB)");
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    internal void Release(ExecutionDevice device, long bytes)
    {
        if (device.GpuOrdinal is not { } ordinal)
        {
            return;
        }
        lock (_gate)
        {
            var use = _use[ordinal];
            _use[ordinal] = (use.Replicas - 1, use.Bytes - bytes);
        }
    }
}

/// <summary>A replica's hold on its device; dispose it when the session is freed.</summary>
public sealed class DeviceLease : IDisposable
{
    private DeviceBinder? _binder;

    internal DeviceLease(DeviceBinder binder, ExecutionDevice device, long bytes)
    {
        _binder = binder;
        Device = device;
        Bytes = bytes;
    }

    public ExecutionDevice Device { get; }

    /// <summary>Device memory admitted for the replica.</summary>
    public long Bytes { get; }

    public void Dispose() => Interlocked.Exchange(ref _binder, null)?.Release(Device, Bytes);
}
