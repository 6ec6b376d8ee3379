using Grid.Models;
using Grid.Serving.Repository;
using Grid.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Grid.Serving.Inference;

/// <summary>Options for ONNX Runtime sessions.</summary>
public sealed class OnnxRuntimeOptions
{
    /// <summary>Intra-op threads per session; 0 lets ONNX Runtime use one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Whether idle intra-op threads spin waiting for work. Off by default: spinning threads
    /// burn the cores that the network stack and the other models' batches need.
    /// </summary>
    public bool AllowSpinning { get; set; }

    /// <summary>
    /// The CUDA provider's state in this process (<see cref="OnnxCudaRuntime"/>), set by the silo
    /// at start-up; null or unavailable means models load on the CPU only.
    /// </summary>
    public OnnxCudaStatus? Cuda { get; set; }

    /// <summary>
    /// cuDNN's convolution algorithm search on a GPU: <c>EXHAUSTIVE</c> (ONNX Runtime's default:
    /// benchmark every algorithm once per shape), <c>HEURISTIC</c> or <c>DEFAULT</c>.
    /// </summary>
    public string CudnnConvAlgoSearch { get; set; } = "EXHAUSTIVE";

    /// <summary>
    /// ONNX Runtime's CUDA arena limit per session, in bytes (from <c>--gpu_memory_mib</c>);
    /// null leaves the arena unbounded but the device's own memory.
    /// </summary>
    public long? GpuMemoryLimitBytes { get; set; }
}

/// <summary>
/// ONNX Runtime: runs <c>model.onnx</c> on the CPU, or on a CUDA device through ONNX Runtime's
/// CUDA execution provider when the build has one and the silo loaded CUDA at start-up
/// (<see cref="OnnxCudaRuntime"/>). A stand-in GPU (placement tests) runs on the CPU.
/// </summary>
/// <remarks>
/// On a GPU the session gets the CUDA provider for the bound device, with ONNX Runtime's CPU
/// provider behind it for the few nodes CUDA has no kernel for (shape arithmetic, mostly): that
/// is ONNX Runtime's own node placement, not a fallback of the replica, which stays bound to its
/// GPU. Inputs are copied to the device and outputs back inside the one synchronous run.
/// </remarks>
public sealed class OnnxModelEngine(OnnxRuntimeOptions options) : IModelEngine
{
    public string Name => ModelFormats.Onnx.Platform;

    public bool SupportsCuda => options.Cuda is { Available: true };

    public bool CanLoad(string versionDirectory) => File.Exists(Path.Combine(versionDirectory, ModelFormats.Onnx.ModelFile));

    public long EstimateDeviceBytes(string versionDirectory)
    {
        var file = new FileInfo(Path.Combine(versionDirectory, ModelFormats.Onnx.ModelFile));
        return file.Exists ? file.Length : 0;
    }

    public IModelSession Load(string versionDirectory) => Load(versionDirectory, ExecutionDevice.Cpu);

    public IModelSession Load(string versionDirectory, ExecutionDevice device)
    {
        RequireDevice(device, versionDirectory);
        var file = Path.Combine(versionDirectory, ModelFormats.Onnx.ModelFile);
        if (!File.Exists(file))
        {
            throw ServingException.NotFound($"No {ModelFormats.Onnx.ModelFile} found in {versionDirectory}");
        }
        var (session, sessionOptions) = CreateSession(so => new InferenceSession(file, so), device, file);
        return new OnnxModelSession(session, sessionOptions, device);
    }

    /// <summary>
    /// Loads an ONNX model held in memory (one a format was imported to) as a session serving
    /// exactly <paramref name="signature"/>, whose input and output aliases map to the model's
    /// value names through <paramref name="inputNames"/> and <paramref name="outputNames"/>;
    /// <paramref name="source"/> names it in errors.
    /// </summary>
    public IModelSession LoadSignature(byte[] model, ExecutionDevice device, ModelSignature signature,
        IReadOnlyDictionary<string, string> inputNames, IReadOnlyDictionary<string, string> outputNames, string source)
    {
        RequireDevice(device, source);
        var (session, sessionOptions) = CreateSession(so => new InferenceSession(model, so), device, source);
        return new OnnxModelSession(session, sessionOptions, device, signature, inputNames, outputNames);
    }

    /// <summary>Refuses a CUDA device when this process's ONNX Runtime cannot use CUDA, saying why.</summary>
    private void RequireDevice(ExecutionDevice device, string source)
    {
        if (device.RunsOnCuda && !SupportsCuda)
        {
            var reason = options.Cuda?.UnavailableReason ?? "CUDA was not initialised in this process";
            throw ServingException.FailedPrecondition($"{Name} cannot run on {device} in this process ({reason}); {device} cannot run {source}");
        }
    }

    private (InferenceSession Session, SessionOptions Options) CreateSession(Func<SessionOptions, InferenceSession> create, ExecutionDevice device, string source)
    {
        var sessionOptions = new SessionOptions { IntraOpNumThreads = options.IntraOpThreads };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        try
        {
            if (device.RunsOnCuda)
            {
                OnnxCudaRuntime.AppendProvider(sessionOptions, device.GpuOrdinal!.Value, options.CudnnConvAlgoSearch, options.GpuMemoryLimitBytes);
            }
            return (create(sessionOptions), sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            sessionOptions.Dispose();
            if (device.RunsOnCuda && OnnxCudaErrors.IsOutOfMemory(e.Message))
            {
                throw new ServingException(ServingStatusCode.ResourceExhausted, $"Failed to load ONNX model {source}: {device} is out of memory: {OnnxCudaErrors.FirstLine(e.Message)}");
            }
            throw new ServingException(ServingStatusCode.InvalidArgument, $"Failed to load ONNX model {source}: {e.Message}");
        }
    }
}

/// <summary>How ONNX Runtime words an allocation that failed, on the CPU or through its CUDA provider.</summary>
internal static class OnnxCudaErrors
{
    /// <summary>True for an allocation the device or the arena's limit refused.</summary>
    public static bool IsOutOfMemory(string message) =>
        message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Failed to allocate memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("CUDA_ERROR_OUT_OF_MEMORY", StringComparison.Ordinal)
        || message.Contains("cudaErrorMemoryAllocation", StringComparison.Ordinal)
        || message.Contains("is smaller than requested bytes", StringComparison.Ordinal);

    public static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}

/// <summary>ONNX element types ↔ Grid dtypes.</summary>
internal static class OnnxTypes
{
    public static TensorDType? ToDType(TensorElementType t) => t switch
    {
        TensorElementType.Float => TensorDType.Float,
        TensorElementType.Double => TensorDType.Double,
        TensorElementType.Int32 => TensorDType.Int32,
        TensorElementType.Int64 => TensorDType.Int64,
        TensorElementType.UInt8 => TensorDType.UInt8,
        TensorElementType.Int8 => TensorDType.Int8,
        TensorElementType.Int16 => TensorDType.Int16,
        TensorElementType.UInt16 => TensorDType.UInt16,
        TensorElementType.UInt32 => TensorDType.UInt32,
        TensorElementType.UInt64 => TensorDType.UInt64,
        TensorElementType.Bool => TensorDType.Bool,
        TensorElementType.Float16 => TensorDType.Half,
        TensorElementType.String => TensorDType.String,
        _ => null,
    };

    public static TensorElementType ToOnnx(TensorDType t) => t switch
    {
        TensorDType.Float => TensorElementType.Float,
        TensorDType.Double => TensorElementType.Double,
        TensorDType.Int32 => TensorElementType.Int32,
        TensorDType.Int64 => TensorElementType.Int64,
        TensorDType.UInt8 => TensorElementType.UInt8,
        TensorDType.Int8 => TensorElementType.Int8,
        TensorDType.Int16 => TensorElementType.Int16,
        TensorDType.UInt16 => TensorElementType.UInt16,
        TensorDType.UInt32 => TensorElementType.UInt32,
        TensorDType.UInt64 => TensorElementType.UInt64,
        TensorDType.Bool => TensorElementType.Bool,
        TensorDType.Half => TensorElementType.Float16,
        TensorDType.String => TensorElementType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "No ONNX element type"),
    };
}
