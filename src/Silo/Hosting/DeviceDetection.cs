using Grid.Devices;
using Grid.Engines.LibTorch;
using Grid.Serving.Inference;
using Grid.Silo.Configuration;

namespace Grid.Silo.Hosting;

/// <summary>
/// Gathers what <see cref="DeviceResolution"/> decides from: the GPUs the NVIDIA driver lists and,
/// when a GPU could be used or <c>--libtorch_path</c> is given, what the process's libtorch
/// reports about CUDA, and whether ONNX Runtime's CUDA provider loads with its libraries. Both
/// are loaded here, at start-up, so a bad <c>--libtorch_path</c> or a CUDA library missing from
/// an explicit <c>--cuda_library_path</c> stops the silo with one line instead of failing the
/// first model load. A GPU is offered when either engine can use CUDA; each engine still says
/// for itself whether it can (<see cref="IModelEngine.SupportsCuda"/>).
/// </summary>
public static class DeviceDetection
{
    /// <summary>The silo's devices and libtorch status, or an error line for the command to print.</summary>
    public static (SiloDevices? Devices, LibTorchStatus? LibTorch, OnnxCudaStatus? OnnxCuda, string? Error) ForSilo(ServeOptions options)
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
                return (null, null, null, e.Message);
            }
        }
        OnnxCudaStatus? onnxCuda = null;
        if (options.CudaLibraryPath is not null || (listsGpu && !options.GpuStandIn))
        {
            onnxCuda = OnnxCudaRuntime.Initialize(OnnxCudaRuntime.SearchDirectories(options.CudaLibraryPath, options.LibTorchPath));
            if (options.CudaLibraryPath is not null && !onnxCuda.Available)
            {
                return (null, libtorch, onnxCuda, $"--cuda_library_path: {onnxCuda.UnavailableReason}");
            }
        }
        try
        {
            return (DeviceResolution.Resolve(options.Devices, options.GpuStandIn, driverGpus, Combine(libtorch, onnxCuda)), libtorch, onnxCuda, null);
        }
        catch (ArgumentException e)
        {
            return (null, libtorch, onnxCuda, e.Message);
        }
    }

    private static CudaProbe? Combine(LibTorchStatus? libtorch, OnnxCudaStatus? onnx)
    {
        var probes = new List<(string Engine, CudaProbe Probe)>();
        if (libtorch is not null)
        {
            probes.Add(("libtorch", new CudaProbe(libtorch.CudaAvailable, libtorch.CudaDeviceCount, libtorch.CudaUnavailableReason)));
        }
        if (onnx is not null)
        {
            probes.Add(("ONNX Runtime", new CudaProbe(onnx.Available, onnx.DeviceCount, onnx.UnavailableReason)));
        }
        return DeviceResolution.Combine(probes);
    }

    /// <summary>GPUs under /proc/driver/nvidia/gpus (0 without the NVIDIA driver).</summary>
    public static int DriverGpuCount()
    {
        const string driver = "/proc/driver/nvidia/gpus";
        return Directory.Exists(driver) ? Directory.GetDirectories(driver).Length : 0;
    }
}
