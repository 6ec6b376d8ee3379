using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Grid.Serving.Inference;

/// <summary>What this process found when it tried to give ONNX Runtime a CUDA device.</summary>
/// <param name="Available">The CUDA execution provider loaded with its libraries and CUDA sees at least one device.</param>
/// <param name="DeviceCount">CUDA devices visible (after CUDA_VISIBLE_DEVICES); 0 when not available.</param>
/// <param name="UnavailableReason">Why not, in one sentence; null when available.</param>
/// <param name="LibraryDirectories">Where the CUDA and cuDNN libraries were loaded from.</param>
public sealed record OnnxCudaStatus(bool Available, int DeviceCount, string? UnavailableReason, IReadOnlyList<string> LibraryDirectories);

/// <summary>
/// Makes ONNX Runtime's CUDA execution provider usable in this process: loads the CUDA and cuDNN
/// libraries it needs from host directories (a PyTorch install's <c>site-packages/nvidia/*/lib</c>,
/// or a CUDA toolkit), asks CUDA how many devices it sees, and has ONNX Runtime load its CUDA
/// provider once, so that a missing library is found at start-up, not at the first model load.
/// </summary>
/// <remarks>
/// Only a build with <c>-p:GridOnnxRuntime=cuda</c> (the <c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c>
/// package) carries <c>libonnxruntime_providers_cuda.so</c>; the default CPU build reports the
/// provider missing. The provider finds <c>libcudart</c>, <c>libcublas</c> and the rest by soname,
/// and cuDNN opens its sub-libraries by soname too: a soname that is already loaded satisfies
/// those look-ups, so the libraries are loaded here by full path, in dependency order, which works
/// without <c>LD_LIBRARY_PATH</c> (which the dynamic loader reads only when the process starts).
/// Libraries cannot be unloaded, so the first successful initialisation is fixed for the process.
/// </remarks>
public static class OnnxCudaRuntime
{
    /// <summary>Environment variable read when <c>--cuda_library_path</c> is not given.</summary>
    public const string EnvironmentVariable = "GRID_CUDA_LIBRARY_PATH";

    public const string ProviderName = "CUDAExecutionProvider";

    /// <summary>Libraries the CUDA provider links against, in load order.</summary>
    public static readonly IReadOnlyList<string> RequiredLibraries =
    [
        "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudnn.so.9",
    ];

    /// <summary>cuDNN's sub-libraries and their needs, opened by cuDNN at run time; loaded when present.</summary>
    private static readonly string[] OptionalLibraries =
    [
        "libnvrtc.so.13", "libnvrtc-builtins.so.13.0", "libnvJitLink.so.13", "libcufft.so.12",
        "libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
        "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
    ];

    private static readonly Lock Gate = new();
    private static OnnxCudaStatus? _status;

    /// <summary>The status after <see cref="Initialize"/>, or null before it.</summary>
    public static OnnxCudaStatus? Current
    {
        get
        {
            lock (Gate)
            {
                return _status;
            }
        }
    }

    /// <summary>True when this build's ONNX Runtime has a CUDA execution provider at all.</summary>
    public static bool BuildHasCudaProvider()
    {
        try
        {
            return OrtEnv.Instance().GetAvailableProviders().Contains(ProviderName);
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or TypeInitializationException)
        {
            return false;
        }
    }

    /// <summary>
    /// The directories to load CUDA from: <paramref name="flag"/> (colon-separated), else
    /// <see cref="EnvironmentVariable"/>, else the <c>nvidia/*/lib</c> folders beside a PyTorch
    /// install's <c>torch/lib</c> (<paramref name="libtorchPath"/>), else none.
    /// </summary>
    public static IReadOnlyList<string> SearchDirectories(string? flag, string? libtorchPath)
    {
        var explicitPath = string.IsNullOrWhiteSpace(flag) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : flag;
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            return explicitPath.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath).ToArray();
        }
        if (string.IsNullOrWhiteSpace(libtorchPath))
        {
            return [];
        }
        var nvidia = Path.GetFullPath(Path.Combine(libtorchPath, "..", "..", "nvidia"));
        if (!Directory.Exists(nvidia))
        {
            return [];
        }
        return Directory.EnumerateDirectories(nvidia, "lib", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Loads the CUDA libraries from <paramref name="directories"/> and the CUDA provider, and
    /// counts devices. Never throws: what is missing is in <see cref="OnnxCudaStatus.UnavailableReason"/>.
    /// Idempotent once CUDA is available.
    /// </summary>
    public static OnnxCudaStatus Initialize(IReadOnlyList<string> directories)
    {
        lock (Gate)
        {
            if (_status is { Available: true })
            {
                return _status;
            }
            _status = Probe(directories);
            return _status;
        }
    }

    private static OnnxCudaStatus Probe(IReadOnlyList<string> directories)
    {
        OnnxCudaStatus Unavailable(string reason) => new(false, 0, reason, directories);
        if (!BuildHasCudaProvider())
        {
            return Unavailable("this build's ONNX Runtime has no CUDA execution provider (build with -p:GridOnnxRuntime=cuda)");
        }
        if (directories.Count == 0)
        {
            return Unavailable($"no CUDA library directory was given (--cuda_library_path or {EnvironmentVariable})");
        }
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in RequiredLibraries.Concat(OptionalLibraries))
        {
            if (directories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists) is { } path)
            {
                found[name] = path;
            }
        }
        var missing = RequiredLibraries.Where(n => !found.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            return Unavailable($"{string.Join(", ", missing)} not found in {string.Join(":", directories)}");
        }
        var loadError = LoadInDependencyOrder(found);
        if (loadError is not null)
        {
            return Unavailable(loadError);
        }
        var count = CudaDeviceCount(found["libcudart.so.13"], out var cudaError);
        if (count <= 0)
        {
            return Unavailable(cudaError ?? "CUDA sees no device");
        }
        try
        {
            // Appending the provider makes ONNX Runtime dlopen libonnxruntime_providers_cuda.so,
            // which fails here, with the loader's message, if anything it links is missing.
            using var probe = new SessionOptions();
            AppendProvider(probe, 0);
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException)
        {
            return Unavailable($"ONNX Runtime's CUDA provider failed to load: {OnnxCudaErrors.FirstLine(e.Message)}");
        }
        return new OnnxCudaStatus(true, count, null, directories);
    }

    /// <summary>
    /// Appends the CUDA provider for device <paramref name="ordinal"/> as Grid runs every GPU
    /// session (engine and benchmark alike): the arena grows only by what is asked (not by
    /// doubling), so <paramref name="memoryLimitBytes"/> (<c>--gpu_memory_mib</c>) bounds it
    /// closely, and copies run on the compute stream.
    /// </summary>
    public static void AppendProvider(SessionOptions sessionOptions, int ordinal, string convAlgoSearch = "EXHAUSTIVE", long? memoryLimitBytes = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = "kSameAsRequested",
            ["cudnn_conv_algo_search"] = convAlgoSearch,
            ["do_copy_in_default_stream"] = "1",
        };
        if (memoryLimitBytes is { } limit)
        {
            settings["gpu_mem_limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(settings);
        sessionOptions.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>
    /// Loads every library, retrying those whose needs are not loaded yet, until a pass loads
    /// nothing new; returns the first failure of a required library, or null.
    /// </summary>
    private static string? LoadInDependencyOrder(Dictionary<string, string> found)
    {
        var pending = found.Keys.ToList();
        var errors = new Dictionary<string, string>();
        bool progress;
        do
        {
            progress = false;
            foreach (var name in pending.ToList())
            {
                if (NativeLibrary.TryLoad(found[name], out _))
                {
                    pending.Remove(name);
                    errors.Remove(name);
                    progress = true;
                }
                else
                {
                    errors[name] = found[name];
                }
            }
        }
        while (progress && pending.Count > 0);
        var failed = RequiredLibraries.FirstOrDefault(pending.Contains);
        if (failed is null)
        {
            return null;
        }
        try
        {
            NativeLibrary.Load(found[failed]);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return $"{found[failed]} failed to load: {OnnxCudaErrors.FirstLine(e.Message)}";
        }
    }

    private static unsafe int CudaDeviceCount(string cudart, out string? error)
    {
        error = null;
        var handle = NativeLibrary.Load(cudart);
        var getCount = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(handle, "cudaGetDeviceCount");
        int count;
        var status = getCount(&count);
        if (status != 0)
        {
            var getString = (delegate* unmanaged<int, nint>)NativeLibrary.GetExport(handle, "cudaGetErrorString");
            error = $"cudaGetDeviceCount failed: {Marshal.PtrToStringAnsi(getString(status))} (error {status})";
            return 0;
        }
        return count;
    }
}
