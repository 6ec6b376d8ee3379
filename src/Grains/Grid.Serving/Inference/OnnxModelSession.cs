using Grid.Models;
using Grid.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Grid.Serving.Inference;

/// <summary>
/// One ONNX Runtime <see cref="InferenceSession"/>. Inputs are bound zero-copy by pinning
/// the request's byte arrays for the duration of the run.
/// </summary>
internal sealed class OnnxModelSession : IModelSession
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly ExecutionDevice _device;
    private readonly IReadOnlyDictionary<string, string>? _inputNames;
    private readonly IReadOnlyDictionary<string, string>? _outputNames;

    /// <summary>A <c>model.onnx</c>: one predict signature, derived from the model's inputs and outputs.</summary>
    public OnnxModelSession(InferenceSession session, SessionOptions options, ExecutionDevice device)
    {
        _session = session;
        _options = options;
        _device = device;
        var inputs = session.InputMetadata.Select(kv => ToSpec(kv.Key, kv.Value)).ToArray();
        var outputs = session.OutputMetadata.Select(kv => ToSpec(kv.Key, kv.Value)).ToArray();
        Signatures = [new ModelSignature(ModelSignature.DefaultKey, ModelSignature.PredictMethodName, inputs, outputs)];
    }

    /// <summary>An imported model serving <paramref name="signature"/>; each alias maps to an ONNX value name.</summary>
    public OnnxModelSession(InferenceSession session, SessionOptions options, ExecutionDevice device, ModelSignature signature,
        IReadOnlyDictionary<string, string> inputNames, IReadOnlyDictionary<string, string> outputNames)
    {
        _session = session;
        _options = options;
        _device = device;
        _inputNames = inputNames;
        _outputNames = outputNames;
        Signatures = [signature];
    }

    private string InputName(TensorSpec spec) => _inputNames is null ? spec.TensorName : _inputNames[spec.Alias];

    private string OutputName(TensorSpec spec) => _outputNames is null ? spec.TensorName : _outputNames[spec.Alias];

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
                inputNames[i] = InputName(spec);
                values[i] = CreateInput(inputs[i].Tensor, ref pins[i]);
            }
            var outputNames = outputAliases.Select(a => OutputName(signature.FindOutput(a)!)).ToArray();
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
