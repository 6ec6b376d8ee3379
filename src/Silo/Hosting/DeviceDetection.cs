using Grid.Devices;
using Grid.Engines.LibTorch;
using Grid.Serving.Inference;
using Grid.Silo.Configuration;

namespace Grid.Silo.Hosting;

/// <summary>
/// Gathers what <see cref="DeviceResolution"/> decides from: the GPUs the NVIDIA driver lists and,
/// when a GPU could be used or <c>--libtorch_path</c> is given, what the process's libtorch
/// reports about CUDA. libtorch is loaded here, at start-up, so a bad <c>--libtorch_path</c>
/// stops the silo with one line instead of failing the first model load.
/// </summary>
public static class DeviceDetection
{
    /// <summary>The silo's devices and libtorch status, or an error line for the command to print.</summary>
    public static (SiloDevices? Devices, LibTorchStatus? LibTorch, string? Error) ForSilo(ServeOptions options)
    {
        var driverGpus = DriverGpuCount();
        var listsGpu = options.Devices is not null
            ? SiloDevices.ParseList(options.Devices).Devices?.Any(d => SiloDevices.GpuOrdinal(d) is not null) == true
            : driverGpus > 0;
        LibTorchStatus? libtorch = null;
        if (options.LibTorchPath is not null || (listsGpu && !options.GpuStandIn))
        {
            try
            {
                libtorch = LibTorchRuntime.Initialize(options.LibTorchPath);
            }
            catch (ArgumentException e)
            {
                return (null, null, e.Message);
            }
        }
        var cuda = libtorch is null ? null : new CudaProbe(libtorch.CudaAvailable, libtorch.CudaDeviceCount, libtorch.CudaUnavailableReason);
        try
        {
            return (DeviceResolution.Resolve(options.Devices, options.GpuStandIn, driverGpus, cuda), libtorch, null);
        }
        catch (ArgumentException e)
        {
            return (null, libtorch, e.Message);
        }
    }

    /// <summary>GPUs under /proc/driver/nvidia/gpus (0 without the NVIDIA driver).</summary>
    public static int DriverGpuCount()
    {
        const string driver = "/proc/driver/nvidia/gpus";
        return Directory.Exists(driver) ? Directory.GetDirectories(driver).Length : 0;
    }
}
