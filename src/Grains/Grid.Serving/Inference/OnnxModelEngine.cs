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
}

/// <summary>
/// ONNX Runtime on the CPU: runs <c>model.onnx</c>. This build of ONNX Runtime has no CUDA
/// provider, so a CUDA device is refused; a stand-in GPU (placement tests) runs on the CPU.
/// </summary>
public sealed class OnnxModelEngine(OnnxRuntimeOptions options) : IModelEngine
{
    public string Name => "onnxruntime_onnx";

    public bool CanLoad(string versionDirectory) => File.Exists(Path.Combine(versionDirectory, RepositoryScanner.ModelFileName));

    public long EstimateDeviceBytes(string versionDirectory)
    {
        var file = new FileInfo(Path.Combine(versionDirectory, RepositoryScanner.ModelFileName));
        return file.Exists ? file.Length : 0;
    }

    public IModelSession Load(string versionDirectory) => Load(versionDirectory, ExecutionDevice.Cpu);

    public IModelSession Load(string versionDirectory, ExecutionDevice device)
    {
        if (device.RunsOnCuda)
        {
            throw ServingException.FailedPrecondition($"{Name} runs only on the CPU in this build (no CUDA execution provider); {device} cannot run {versionDirectory}");
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
            var session = new InferenceSession(file, sessionOptions);
            return new OnnxModelSession(session, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            sessionOptions.Dispose();
            throw new ServingException(ServingStatusCode.InvalidArgument, $"Failed to load ONNX model {file}: {e.Message}");
        }
    }
}

/// <summary>
/// One ONNX Runtime <see cref="InferenceSession"/>. Inputs are bound zero-copy by pinning
/// the request's byte arrays for the duration of the run.
/// </summary>
internal sealed class OnnxModelSession : IModelSession
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;

    public OnnxModelSession(InferenceSession session, SessionOptions options)
    {
        _session = session;
        _options = options;
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
