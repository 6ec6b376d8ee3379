using System.Runtime.InteropServices;
using TorchSharp;

namespace Grid.Engines.LibTorch;

/// <summary>
/// Where this process's libtorch comes from, and whether it can run on CUDA.
/// </summary>
/// <param name="Source">The libtorch directory in use, or <see cref="LibTorchRuntime.BundledSource"/>.</param>
/// <param name="CudaAvailable">True when libtorch reports CUDA usable (a CUDA build, a driver and at least one device).</param>
/// <param name="CudaDeviceCount">CUDA devices libtorch sees (after CUDA_VISIBLE_DEVICES); 0 without CUDA.</param>
/// <param name="CudaUnavailableReason">Why CUDA cannot be used, in one sentence; null when it can.</param>
public sealed record LibTorchStatus(string Source, bool CudaAvailable, int CudaDeviceCount, string? CudaUnavailableReason);

/// <summary>
/// Loads libtorch once per process, either the <c>libtorch-cpu</c> build that ships with Grid
/// or a host directory (<c>--libtorch_path</c>, <c>GRID_LIBTORCH_PATH</c>): the <c>lib</c> folder
/// of a libtorch or PyTorch install, which is how CUDA reaches Grid (no CUDA libtorch is served
/// as a package here).
/// </summary>
/// <remarks>
/// A host libtorch replaces the bundled one completely, so it needs a build without the bundled
/// one (<c>-p:GridLibTorch=host</c>; <c>scripts/gpu/pack.sh</c> makes one). Its libraries are
/// loaded by full path first (their own RUNPATHs find CUDA and the rest). TorchSharp then asks
/// for <c>torch_cpu</c>, <c>torch_cuda</c> and <c>LibTorchSharp</c> by name, and the dynamic
/// loader answers the libtorch names, and <c>libLibTorchSharp.so</c>'s own needs, with the
/// libraries already loaded under those sonames. With a bundled copy present, TorchSharp's
/// probing of the application folders would find it first and load libtorch twice, which aborts
/// the process (libtorch registers its operators once per process), so that combination is
/// refused up front. The choice is fixed for the process lifetime: libraries cannot be unloaded.
/// </remarks>
public static class LibTorchRuntime
{
    public const string BundledSource = "bundled libtorch-cpu";
    public const string EnvironmentVariable = "GRID_LIBTORCH_PATH";

    /// <summary>Loaded in dependency order; the CUDA pair is optional.</summary>
    private static readonly (string File, bool Required)[] HostLibraries =
    [
        ("libc10.so", true),
        ("libtorch_cpu.so", true),
        ("libc10_cuda.so", false),
        ("libtorch_cuda.so", false),
        ("libtorch.so", true),
    ];

    private static readonly Lock Gate = new();
    private static string? _requested;
    private static LibTorchStatus? _status;

    /// <summary>The status of the libtorch loaded so far, or null before <see cref="Initialize"/>.</summary>
    public static LibTorchStatus? Current
    {
        get
        {
            lock (Gate)
            {
                return _status;
            }
        }
    }

    /// <summary>
    /// Loads libtorch from <paramref name="libtorchPath"/> (null or empty: the bundled build) and
    /// probes CUDA. Idempotent for the same path; a different path after the first call throws,
    /// because a process cannot swap libtorch. Throws <see cref="ArgumentException"/> naming the
    /// directory when it is not a libtorch <c>lib</c> folder or a library in it fails to load.
    /// </summary>
    public static LibTorchStatus Initialize(string? libtorchPath)
    {
        var requested = string.IsNullOrWhiteSpace(libtorchPath) ? null : Path.GetFullPath(libtorchPath);
        lock (Gate)
        {
            if (_status is not null)
            {
                if (_requested != requested)
                {
                    throw new InvalidOperationException(
                        $"libtorch is already loaded from {_status.Source}; this process cannot switch to {requested ?? BundledSource}");
                }
                return _status;
            }
            if (requested is not null)
            {
                LoadHost(requested);
            }
            _requested = requested;
            _status = ProbeCuda(requested);
            return _status;
        }
    }

    /// <summary>Loads libtorch the first time the engine needs it: the host directory from <see cref="EnvironmentVariable"/>, else the bundled build.</summary>
    public static LibTorchStatus EnsureInitialized()
        => Current ?? Initialize(Environment.GetEnvironmentVariable(EnvironmentVariable));

    private static void LoadHost(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new ArgumentException($"--libtorch_path {directory}: no such directory");
        }
        if (!File.Exists(Path.Combine(directory, "libtorch.so")))
        {
            throw new ArgumentException(
                $"--libtorch_path {directory}: no libtorch.so there; expected the lib folder of a libtorch or PyTorch install (e.g. .../site-packages/torch/lib)");
        }
        if (BundledCopy() is { } bundled)
        {
            throw new ArgumentException(
                $"--libtorch_path {directory}: this Grid build bundles libtorch-cpu ({bundled}), and two libtorch copies cannot share a process; use a build made with -p:GridLibTorch=host (scripts/gpu/pack.sh makes one)");
        }
        foreach (var (file, required) in HostLibraries)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                if (required)
                {
                    throw new ArgumentException($"--libtorch_path {directory}: {file} is missing");
                }
                continue;
            }
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new ArgumentException($"--libtorch_path {directory}: {file} does not load: {e.Message}", e);
            }
        }
    }

    /// <summary>The bundled libtorch_cpu.so in the application's native folders, if this build has one.</summary>
    public static string? BundledCopy()
    {
        var app = AppContext.BaseDirectory;
        return new[] { Path.Combine(app, "runtimes", "linux-x64", "native", "libtorch_cpu.so"), Path.Combine(app, "libtorch_cpu.so") }
            .FirstOrDefault(File.Exists);
    }

    private static LibTorchStatus ProbeCuda(string? directory)
    {
        var source = directory ?? BundledSource;
        bool available;
        try
        {
            available = torch.TryInitializeDeviceType(DeviceType.CUDA);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or DllNotFoundException or ExternalException)
        {
            if (directory is not null)
            {
                throw new ArgumentException($"--libtorch_path {directory}: TorchSharp does not start on it: {e.Message}", e);
            }
            throw;
        }
        if (available)
        {
            var count = torch.cuda.device_count();
            return count > 0
                ? new LibTorchStatus(source, true, count, null)
                : new LibTorchStatus(source, false, 0, $"libtorch at {source} reports CUDA available but no devices");
        }
        string reason;
        if (directory is null)
        {
            reason = "the bundled libtorch is the CPU build; start with --libtorch_path pointing at a CUDA build of libtorch (for example a PyTorch install's torch/lib)";
        }
        else if (!File.Exists(Path.Combine(directory, "libtorch_cuda.so")))
        {
            reason = $"the libtorch at {directory} is a CPU-only build (no libtorch_cuda.so)";
        }
        else
        {
            reason = $"the libtorch at {directory} has CUDA, but torch.cuda.is_available() is false: no usable NVIDIA driver or device";
        }
        return new LibTorchStatus(source, false, 0, reason);
    }
}
