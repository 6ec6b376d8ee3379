using Grid.Engines.TensorFlow.Conversion;
using Grid.Engines.TensorFlow.SavedModel;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Inference;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Serving;

/// <summary>Options for SavedModels.</summary>
public sealed class SavedModelOptions
{
    /// <summary>TF Serving's <c>--saved_model_tags</c>: the tag set that picks the MetaGraphDef.</summary>
    public IReadOnlyList<string> Tags { get; set; } = MetaGraphSelector.DefaultTags;
}

/// <summary>
/// TensorFlow SavedModels (<c>saved_model.pb</c> and <c>variables/</c>, platform
/// <c>tensorflow_savedmodel</c>) without TensorFlow: each SignatureDef of the MetaGraphDef the
/// tags select is imported to its own ONNX model (<see cref="SignatureConverter"/>) and served by
/// the ONNX Runtime engine, so batching, replicas, devices and hot swap apply unchanged.
/// </summary>
/// <remarks>
/// Guarantees: every signature is served under its own key with its method name, aliases, TF
/// tensor names (<c>x:0</c>), dtypes and declared shapes, <c>serving_default</c> first; requests
/// are checked against what the imported graph accepts (<see cref="TensorSpec.AcceptedShape"/>),
/// as TensorFlow checks a fed tensor against the graph. Nothing is served partially: a graph with
/// an op the importer lacks, in any signature, fails the whole load with one message naming each
/// signature, every unsupported op type and one node of each.
/// </remarks>
public sealed class SavedModelEngine(OnnxModelEngine onnx, SavedModelOptions options) : IModelEngine
{
    /// <summary>Signatures TensorFlow keeps for itself (the init op), never served.</summary>
    private const string ReservedPrefix = "__";

    public string Name => ModelFormats.SavedModel.Platform;

    public bool CanLoad(string versionDirectory) => File.Exists(Path.Combine(versionDirectory, ModelFormats.SavedModel.ModelFile));

    public bool SupportsCuda => onnx.SupportsCuda;

    /// <summary>The graph and the variables' shards: the weights become the ONNX initializers.</summary>
    public long EstimateDeviceBytes(string versionDirectory)
    {
        var graph = new FileInfo(Path.Combine(versionDirectory, ModelFormats.SavedModel.ModelFile));
        var variables = new DirectoryInfo(Path.Combine(versionDirectory, "variables"));
        var data = variables.Exists ? variables.EnumerateFiles("variables.data-*").Sum(f => f.Length) : 0;
        return (graph.Exists ? graph.Length : 0) + data;
    }

    public IModelSession Load(string versionDirectory, ExecutionDevice device)
    {
        var bundle = SavedModelLoader.Load(versionDirectory, options.Tags);
        var conversions = Convert(bundle, versionDirectory);
        var sessions = new List<IModelSession>();
        try
        {
            foreach (var (key, signature, conversion) in conversions)
            {
                sessions.Add(LoadSignature(onnx, device, key, signature, conversion, $"{versionDirectory} signature '{key}'"));
            }
            // TensorFlow's own signatures (the init op) are shown in metadata, as TF Serving shows
            // the whole SignatureDef map, and never run.
            var reserved = bundle.Signatures.Where(s => s.Key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
                .Select(s => DescribeDeclared(s.Key, s.Value)).ToList();
            return new SavedModelSession(sessions, reserved);
        }
        catch
        {
            sessions.ForEach(s => s.Dispose());
            throw;
        }
    }

    /// <summary>
    /// One converted signature as a session: the ONNX model on <paramref name="device"/>, behind
    /// the host's stages (ParseExample, image decoding) when the conversion has any; the client sees the signature as declared.
    /// </summary>
    internal static IModelSession LoadSignature(OnnxModelEngine onnx, ExecutionDevice device, string key, SignatureDef signature, OnnxConversion conversion, string source)
    {
        var served = Describe(key, signature, conversion);
        var outputNames = conversion.Outputs.ToDictionary(t => t.Key, t => t.OnnxName);
        if (conversion.Stages.Count == 0)
        {
            return onnx.LoadSignature(conversion.Model, device, served, conversion.Inputs.ToDictionary(t => t.Key, t => t.OnnxName), outputNames, source);
        }

        // The ONNX model's own signature: the inputs it takes directly, then the parsed tensors
        // under their ONNX names.
        var direct = conversion.Inputs.Where(t => !t.HostOnly).ToList();
        var parsed = conversion.Stages.SelectMany(s => s.OnnxInputs).ToList();
        var modelSignature = served with
        {
            Inputs = [.. served.Inputs.Where(i => direct.Any(d => d.Key == i.Alias)),
                .. parsed.Select(p => new TensorSpec(p.OnnxName, p.OnnxName, ToDType(p.DType, key, p.OnnxName), [.. p.Dims]))],
        };
        var inputNames = direct.ToDictionary(t => t.Key, t => t.OnnxName);
        foreach (var p in parsed)
        {
            inputNames[p.OnnxName] = p.OnnxName;
        }

        var model = onnx.LoadSignature(conversion.Model, device, modelSignature, inputNames, outputNames, source);
        return new HostStageSession(model, modelSignature, served, conversion.Stages);
    }

    /// <summary>Imports every servable signature; throws one error for all that fail.</summary>
    public static List<(string Key, SignatureDef Signature, OnnxConversion Conversion)> Convert(SavedModelBundle bundle, string source)
    {
        var converted = new List<(string, SignatureDef, OnnxConversion)>();
        var failures = new List<string>();
        var keys = bundle.Signatures.Keys.Where(k => !k.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            .OrderBy(k => k != ModelSignature.DefaultKey).ThenBy(k => k, StringComparer.Ordinal).ToList();
        if (keys.Count == 0)
        {
            throw ServingException.InvalidArgument($"{source}: the SavedModel has no signature to serve");
        }
        foreach (var key in keys)
        {
            try
            {
                converted.Add((key, bundle.Signatures[key], SignatureConverter.Convert(bundle, key)));
            }
            catch (ServingException e)
            {
                failures.Add($"signature '{key}': {e.Message}");
            }
        }
        if (failures.Count > 0)
        {
            throw new ServingException(ServingStatusCode.Unimplemented, $"{source} cannot be imported: {string.Join("; ", failures)}");
        }
        return converted;
    }

    /// <summary>The signature as TF Serving shows it.</summary>
    private static ModelSignature Describe(string key, SignatureDef signature, OnnxConversion conversion)
    {
        TensorSpec Spec(OnnxSignatureTensor t) =>
            new(t.Key, t.TensorName, ToDType(t.DType, key, t.Key), t.SignatureDims?.ToArray(), t.Dims?.ToArray());
        var method = string.IsNullOrEmpty(signature.MethodName) ? ModelSignature.PredictMethodName : signature.MethodName;
        return new ModelSignature(key, method, [.. conversion.Inputs.Select(Spec)], [.. conversion.Outputs.Select(Spec)]);
    }

    /// <summary>A signature exactly as the SignatureDef declares it, for metadata only.</summary>
    private static ModelSignature DescribeDeclared(string key, SignatureDef signature)
    {
        static TensorSpec Spec(KeyValuePair<string, TensorInfo> t)
        {
            var dtype = (TensorDType)(int)TfDataTypes.BaseType(t.Value.Dtype);
            var shape = t.Value.TensorShape is null || t.Value.TensorShape.UnknownRank ? null : t.Value.TensorShape.Dim.Select(d => d.Size).ToArray();
            return new TensorSpec(t.Key, t.Value.Name, Enum.IsDefined(dtype) ? dtype : TensorDType.Invalid, shape);
        }
        return new ModelSignature(key, signature.MethodName, [.. signature.Inputs.Select(Spec)], [.. signature.Outputs.Select(Spec)]);
    }

    /// <summary>Grid's dtypes carry TensorFlow's DataType numbers.</summary>
    private static TensorDType ToDType(DataType dtype, string signature, string alias)
    {
        var value = (TensorDType)(int)TfDataTypes.BaseType(dtype);
        return Enum.IsDefined(value) && value != TensorDType.Invalid
            ? value
            : throw new ServingException(ServingStatusCode.Unimplemented, $"signature '{signature}' tensor '{alias}' has type {dtype}, which Grid cannot serve");
    }
}
