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
    public string Name => "onnxruntime_onnx";

    public bool SupportsCuda => options.Cuda is { Available: true };

    public bool CanLoad(string versionDirectory) => File.Exists(Path.Combine(versionDirectory, RepositoryScanner.ModelFileName));

    public long EstimateDeviceBytes(string versionDirectory)
    {
        var file = new FileInfo(Path.Combine(versionDirectory, RepositoryScanner.ModelFileName));
        return file.Exists ? file.Length : 0;
    }

    public IModelSession Load(string versionDirectory) => Load(versionDirectory, ExecutionDevice.Cpu);

    public IModelSession Load(string versionDirectory, ExecutionDevice device)
    {
        if (device.RunsOnCuda && !SupportsCuda)
        {
            var reason = options.Cuda?.UnavailableReason ?? "CUDA was not initialised in this process";
            throw ServingException.FailedPrecondition($"{Name} cannot run on {device} in this process ({reason}); {device} cannot run {versionDirectory}");
        }
        var file = Path.Combine(versionDirectory, RepositoryScanner.ModelFileName);
        if (!File.Exists(file))
        {
            throw ServingException.NotFound($"No {RepositoryScanner.ModelFileName} found in {versionDirectory}");
        }
        var sessionOptions = new SessionOptions { IntraOpNumThreads = options.IntraOpThreads };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        try
        {
            if (device.RunsOnCuda)
            {
                AppendCuda(sessionOptions, device.GpuOrdinal!.Value);
            }
            var session = new InferenceSession(file, sessionOptions);
            return new OnnxModelSession(session, sessionOptions, device);
        }
        catch (OnnxRuntimeException e)
        {
            sessionOptions.Dispose();
            if (device.RunsOnCuda && OnnxCudaErrors.IsOutOfMemory(e.Message))
            {
                throw new ServingException(ServingStatusCode.ResourceExhausted, $"Failed to load ONNX model {file}: {device} is out of memory: {OnnxCudaErrors.FirstLine(e.Message)}");
            }
            throw new ServingException(ServingStatusCode.InvalidArgument, $"Failed to load ONNX model {file}: {e.Message}");
        }
    }

    /// <summary>
    /// The CUDA provider for one device: the arena grows only by what is asked (not by doubling),
    /// so <c>--gpu_memory_mib</c> bounds it closely, and copies run on the compute stream.
    /// </summary>
    private void AppendCuda(SessionOptions sessionOptions, int ordinal)
    {
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = "kSameAsRequested",
            ["cudnn_conv_algo_search"] = options.CudnnConvAlgoSearch,
            ["do_copy_in_default_stream"] = "1",
        };
        if (options.GpuMemoryLimitBytes is { } limit)
        {
            settings["gpu_mem_limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(settings);
        sessionOptions.AppendExecutionProvider_CUDA(cuda);
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

/// <summary>
/// One ONNX Runtime <see cref="InferenceSession"/>. Inputs are bound zero-copy by pinning
/// the request's byte arrays for the duration of the run.
/// </summary>
internal sealed class OnnxModelSession : IModelSession
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly ExecutionDevice _device;

    public OnnxModelSession(InferenceSession session, SessionOptions options, ExecutionDevice device)
    {
        _session = session;
        _options = options;
        _device = device;
        var inputs = session.InputMetadata.Select(kv => ToSpec(kv.Key, kv.Value)).ToArray();
        var outputs = session.OutputMetadata.Select(kv => ToSpec(kv.Key, kv.Value)).ToArray();
        Signatures = [new ModelSignature(ModelSignature.DefaultKey, ModelSignature.PredictMethodName, inputs, outputs)];
    }

    public IReadOnlyList<ModelSignature> Signatures { get; }

    private static TensorSpec ToSpec(string name, NodeMetadata meta)
    {
        if (!meta.IsTensor)
        {
            throw new ServingException(ServingStatusCode.Unimplemented, $"ONNX value '{name}' is not a tensor ({meta.OnnxValueType}); only tensors can be served");
        }
        var dtype = OnnxTypes.ToDType(meta.ElementDataType)
            ?? throw new ServingException(ServingStatusCode.Unimplemented, $"ONNX tensor '{name}' has unsupported element type {meta.ElementDataType}");
        var shape = meta.Dimensions.Select(d => (long)d).ToArray();
        return new TensorSpec(name, name, dtype, shape);
    }

    public NamedTensor[] Run(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases)
    {
        var inputNames = new string[inputs.Count];
        var values = new OrtValue[inputs.Count];
        var pins = new System.Runtime.InteropServices.GCHandle[inputs.Count];
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                var spec = signature.FindInput(inputs[i].Name)!;
                inputNames[i] = spec.TensorName;
                values[i] = CreateInput(inputs[i].Tensor, ref pins[i]);
            }
            var outputNames = outputAliases.Select(a => signature.FindOutput(a)!.TensorName).ToArray();
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, inputNames, values, outputNames);
            var outputs = new NamedTensor[outputNames.Length];
            for (var i = 0; i < outputs.Length; i++)
            {
                outputs[i] = new NamedTensor(outputAliases[i], ReadOutput(results[i]));
            }
            return outputs;
        }
        catch (OnnxRuntimeException e) when (OnnxCudaErrors.IsOutOfMemory(e.Message))
        {
            throw new ServingException(ServingStatusCode.ResourceExhausted, $"{_device.Name} ran out of memory running the model: {OnnxCudaErrors.FirstLine(e.Message)}");
        }
        catch (OnnxRuntimeException e)
        {
            throw ServingException.InvalidArgument(e.Message);
        }
        finally
        {
            foreach (var v in values)
            {
                v?.Dispose();
            }
            foreach (var p in pins)
            {
                if (p.IsAllocated)
                {
                    p.Free();
                }
            }
        }
    }

    private static OrtValue CreateInput(TensorData tensor, ref System.Runtime.InteropServices.GCHandle pin)
    {
        if (tensor.DType == TensorDType.String)
        {
            var strings = tensor.ReadStrings();
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape);
            for (var i = 0; i < strings.Count; i++)
            {
                value.StringTensorSetElementAt(strings[i].Span, i);
            }
            return value;
        }
        var elementType = OnnxTypes.ToOnnx(tensor.DType);
        pin = System.Runtime.InteropServices.GCHandle.Alloc(tensor.Data, System.Runtime.InteropServices.GCHandleType.Pinned);
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, elementType, tensor.Shape, pin.AddrOfPinnedObject(), tensor.Data.Length);
    }

    private static TensorData ReadOutput(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var dtype = OnnxTypes.ToDType(info.ElementDataType)
            ?? throw new ServingException(ServingStatusCode.Internal, $"Model produced unsupported element type {info.ElementDataType}");
        var shape = info.Shape;
        if (dtype == TensorDType.String)
        {
            var count = (int)TensorData.CountElements(shape);
            var strings = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                strings[i] = value.GetStringElementAsSpan(i).ToArray();
            }
            return TensorData.FromStrings(shape, strings);
        }
        return new TensorData(dtype, shape, value.GetTensorDataAsSpan<byte>().ToArray());
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
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
