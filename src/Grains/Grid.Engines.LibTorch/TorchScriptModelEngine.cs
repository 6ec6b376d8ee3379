using System.Text.Json;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Inference;
using Grid.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Grid.Engines.LibTorch;

/// <summary>
/// Triton's <c>pytorch_libtorch</c>: a TorchScript <c>model.pt</c> run by libtorch through
/// TorchSharp. TorchScript carries no named signature, so the version directory must hold a
/// <c>signature.json</c> sidecar (<see cref="TorchScriptSignature"/>) naming the forward's
/// inputs and outputs in order, with dtypes and shapes; metadata reports it exactly as it
/// reports an ONNX model's.
/// </summary>
public sealed class TorchScriptModelEngine : IModelEngine
{
    public static readonly string ModelFileName = ModelFormats.TorchScript.ModelFile;

    public string Name => ModelFormats.TorchScript.Platform;

    public bool CanLoad(string versionDirectory) => File.Exists(Path.Combine(versionDirectory, ModelFileName));

    /// <summary>True when the libtorch this process loaded (<see cref="LibTorchRuntime"/>) can use CUDA.</summary>
    public bool SupportsCuda => LibTorchRuntime.EnsureInitialized().CudaAvailable;

    /// <summary>The size of <c>model.pt</c>: its tensors are stored uncompressed, so it is close to the weights' device footprint.</summary>
    public long EstimateDeviceBytes(string versionDirectory)
    {
        var file = new FileInfo(Path.Combine(versionDirectory, ModelFileName));
        return file.Exists ? file.Length : 0;
    }

    public IModelSession Load(string versionDirectory) => Load(versionDirectory, ExecutionDevice.Cpu);

    public IModelSession Load(string versionDirectory, ExecutionDevice device)
    {
        var file = Path.Combine(versionDirectory, ModelFileName);
        if (!File.Exists(file))
        {
            throw ServingException.NotFound($"No {ModelFileName} found in {versionDirectory}");
        }
        var signature = TorchScriptSignature.Read(versionDirectory);
        var runtime = LibTorchRuntime.EnsureInitialized();
        if (device.RunsOnCuda && !runtime.CudaAvailable)
        {
            throw ServingException.FailedPrecondition($"Cannot load {file} on {device}: {runtime.CudaUnavailableReason}");
        }
        try
        {
            Device? cuda = device.RunsOnCuda ? new Device(DeviceType.CUDA, device.GpuOrdinal!.Value) : null;
            var module = cuda is null ? jit.load(file, DeviceType.CPU) : jit.load(file, DeviceType.CUDA, cuda.index);
            module.eval();
            return new TorchScriptSession(module, signature, cuda, device.Name);
        }
        catch (Exception e) when (e is not ServingException)
        {
            if (TorchErrors.IsOutOfMemory(e))
            {
                throw new ServingException(ServingStatusCode.ResourceExhausted, $"Failed to load TorchScript model {file}: {device} is out of memory: {TorchErrors.Summary(e)}");
            }
            throw new ServingException(ServingStatusCode.InvalidArgument, $"Failed to load TorchScript model {file}: {e.Message}");
        }
    }
}

internal static class TorchErrors
{
    /// <summary>libtorch's allocator failures, CUDA's and the CPU's, as their messages phrase them.</summary>
    private static readonly string[] OutOfMemoryPhrases = ["out of memory", "not enough memory", "can't allocate memory"];

    public static bool IsOutOfMemory(Exception e) => OutOfMemoryPhrases.Any(p => e.Message.Contains(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The line that says what failed: libtorch messages carry a C++ backtrace, and the
    /// TorchScript interpreter puts a Python-style traceback before the error itself.
    /// </summary>
    public static string Summary(Exception e)
    {
        var lines = e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return lines.FirstOrDefault(l => OutOfMemoryPhrases.Any(p => l.Contains(p, StringComparison.OrdinalIgnoreCase))) ?? lines.FirstOrDefault() ?? e.GetType().Name;
    }
}

/// <summary>
/// Reads <c>signature.json</c>:
/// <c>{"inputs": [{"name": "images", "dtype": "float32", "shape": [-1, 784]}], "outputs": [...]}</c>.
/// The forward takes the inputs positionally and returns one tensor or a tuple, matched to the
/// outputs by position. Errors name the file and the field.
/// </summary>
public static class TorchScriptSignature
{
    public const string FileName = "signature.json";

    public static ModelSignature Read(string versionDirectory)
    {
        var path = Path.Combine(versionDirectory, FileName);
        if (!File.Exists(path))
        {
            throw ServingException.FailedPrecondition(
                $"TorchScript models need {FileName} beside {TorchScriptModelEngine.ModelFileName} (their inputs and outputs have no names): none in {versionDirectory}");
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var inputs = ReadList(doc.RootElement, "inputs");
            var outputs = ReadList(doc.RootElement, "outputs");
            return new ModelSignature(ModelSignature.DefaultKey, ModelSignature.PredictMethodName, inputs, outputs);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ServingException(ServingStatusCode.InvalidArgument, $"Invalid {path}: {e.Message}");
        }
    }

    private static TensorSpec[] ReadList(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            throw new FormatException($"'{field}' must be a non-empty list of {{\"name\", \"dtype\", \"shape\"}}");
        }
        return list.EnumerateArray().Select((e, i) =>
        {
            var name = e.GetProperty("name").GetString() ?? throw new FormatException($"{field}[{i}].name must be a string");
            var dtypeText = e.GetProperty("dtype").GetString();
            var dtype = dtypeText switch
            {
                "float32" or "float" => TensorDType.Float,
                "float64" or "double" => TensorDType.Double,
                "int64" => TensorDType.Int64,
                "int32" => TensorDType.Int32,
                "uint8" => TensorDType.UInt8,
                "int8" => TensorDType.Int8,
                "int16" => TensorDType.Int16,
                "bool" => TensorDType.Bool,
                _ => throw new FormatException($"{field}[{i}].dtype '{dtypeText}' is not supported (float32, float64, int64, int32, int16, int8, uint8, bool)"),
            };
            long[]? shape = e.TryGetProperty("shape", out var s) && s.ValueKind == JsonValueKind.Array ? s.EnumerateArray().Select(d => d.GetInt64()).ToArray() : null;
            return new TensorSpec(name, name, dtype, shape);
        }).ToArray();
    }
}

/// <summary>
/// One loaded TorchScript module on one device. Each run wraps the synchronous forward in
/// <c>inference_mode</c> on the calling thread (it is per thread and never crosses an await),
/// copies the inputs to the module's device and the outputs back to host memory, and disposes
/// every tensor it created before returning. Running out of device memory fails that one run
/// with RESOURCE_EXHAUSTED; the module stays loaded.
/// </summary>
internal sealed class TorchScriptSession(jit.ScriptModule module, ModelSignature signature, Device? cuda, string deviceName) : IModelSession
{
    public IReadOnlyList<ModelSignature> Signatures { get; } = [signature];

    public NamedTensor[] Run(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases)
    {
        try
        {
            return RunCore(signature, inputs, outputAliases);
        }
        catch (Exception e) when (e is not ServingException && TorchErrors.IsOutOfMemory(e))
        {
            throw new ServingException(ServingStatusCode.ResourceExhausted, $"{deviceName} ran out of memory running the model: {TorchErrors.Summary(e)}");
        }
    }

    private NamedTensor[] RunCore(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var args = new object[signature.Inputs.Length];
        for (var i = 0; i < args.Length; i++)
        {
            var spec = signature.Inputs[i];
            var given = inputs.FirstOrDefault(t => t.Name == spec.Alias)
                ?? throw ServingException.InvalidArgument($"input tensor alias not found in signature: {spec.Alias}");
            var host = ToTorch(given.Tensor);
            args[i] = cuda is null ? host : host.to(cuda);
        }
        var result = module.forward(args);
        var produced = result switch
        {
            Tensor t => [t],
            System.Runtime.CompilerServices.ITuple tuple => Enumerable.Range(0, tuple.Length).Select(i => (Tensor)tuple[i]!).ToArray(),
            object[] array => array.Cast<Tensor>().ToArray(),
            _ => throw new ServingException(ServingStatusCode.Internal, $"The TorchScript forward returned {result?.GetType().Name ?? "null"}, not tensors"),
        };
        if (produced.Length != signature.Outputs.Length)
        {
            throw new ServingException(ServingStatusCode.Internal, $"The TorchScript forward returned {produced.Length} tensors; {TorchScriptSignature.FileName} lists {signature.Outputs.Length} outputs");
        }
        var outputs = new NamedTensor[outputAliases.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            var index = Array.FindIndex(signature.Outputs, o => o.Alias == outputAliases[i]);
            outputs[i] = new NamedTensor(outputAliases[i], FromTorch(produced[index], signature.Outputs[index].DType));
        }
        return outputs;
    }

    private static Tensor ToTorch(TensorData data)
    {
        var type = data.DType switch
        {
            TensorDType.Float => ScalarType.Float32,
            TensorDType.Double => ScalarType.Float64,
            TensorDType.Int64 => ScalarType.Int64,
            TensorDType.Int32 => ScalarType.Int32,
            TensorDType.Int16 => ScalarType.Int16,
            TensorDType.Int8 => ScalarType.Int8,
            TensorDType.UInt8 => ScalarType.Byte,
            TensorDType.Bool => ScalarType.Bool,
            _ => throw ServingException.InvalidArgument($"dtype {data.DType} is not supported by the libtorch engine"),
        };
        var tensor = empty(data.Shape, type);
        tensor.bytes = data.Data;
        return tensor;
    }

    private static TensorData FromTorch(Tensor tensor, TensorDType declared)
    {
        var contiguous = tensor.contiguous().cpu();
        var dtype = contiguous.dtype switch
        {
            ScalarType.Float32 => TensorDType.Float,
            ScalarType.Float64 => TensorDType.Double,
            ScalarType.Int64 => TensorDType.Int64,
            ScalarType.Int32 => TensorDType.Int32,
            ScalarType.Int16 => TensorDType.Int16,
            ScalarType.Int8 => TensorDType.Int8,
            ScalarType.Byte => TensorDType.UInt8,
            ScalarType.Bool => TensorDType.Bool,
            var other => throw new ServingException(ServingStatusCode.Internal, $"The model produced a {other} tensor, which Grid does not carry"),
        };
        if (dtype != declared)
        {
            throw new ServingException(ServingStatusCode.Internal, $"The model produced {dtype} where {TorchScriptSignature.FileName} declares {declared}");
        }
        return new TensorData(dtype, contiguous.shape, contiguous.bytes.ToArray());
    }

    public void Dispose() => module.Dispose();
}
