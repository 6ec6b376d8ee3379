using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// One signature tensor of a converted model: its signature key, ONNX value name, TensorFlow
/// tensor and type; <see cref="Dims"/> is the ONNX value's declared shape (-1: symbolic; null:
/// unknown rank), <see cref="SignatureDims"/> the SignatureDef's.
/// </summary>
public sealed record OnnxSignatureTensor(
    string Key, string OnnxName, string TensorName, DataType DType, IReadOnlyList<long>? Dims, IReadOnlyList<long>? SignatureDims)
{
    /// <summary>
    /// True for an input only host stages read (<see cref="OnnxConversion.HostStages"/>): the
    /// ONNX model has no input for it and <see cref="OnnxName"/> names none.
    /// </summary>
    public bool HostOnly { get; init; }
}

/// <summary>
/// A signature converted to an ONNX model: the serialized model, where each signature tensor
/// went, and the steps that run on the host ahead of the model (none for most signatures:
/// ParseExample, image decoding): each turns a DT_STRING signature input into ONNX inputs.
/// </summary>
public sealed record OnnxConversion(
    byte[] Model, IReadOnlyList<OnnxSignatureTensor> Inputs, IReadOnlyList<OnnxSignatureTensor> Outputs,
    IReadOnlyList<HostStage>? HostStages = null)
{
    /// <summary>The host stages, in graph order; empty when the model takes every input itself.</summary>
    public IReadOnlyList<HostStage> Stages => HostStages ?? [];
}

/// <summary>
/// Converts one SignatureDef of a TensorFlow graph to a self-contained ONNX model (opset
/// <see cref="OnnxGraphBuilder.Opset"/>) that ONNX Runtime runs without TensorFlow.
/// <para>Guarantees: the model computes exactly the signature's output tensors from its input
/// tensors (the subgraph between them, TF2 function calls inlined, variables folded to
/// initializers); ONNX inputs and outputs are named by signature key (an output key that is also
/// an input key gets a suffix, see <see cref="OnnxSignatureTensor.OnnxName"/>). A fed Placeholder
/// keeps its declared shape, unknown dimensions symbolic; any other fed tensor (a TF1 Identity)
/// gets symbolic dimensions of the declared rank, because TensorFlow does not check its shape.
/// Outputs are declared with symbolic dimensions of the declared rank.</para>
/// <para>ParseExample / ParseExampleV2 and image decode ops fed by a signature input are cut out
/// of the ONNX graph (<see cref="HostStage"/>): the model takes their outputs as inputs and the
/// host parses the serialized tf.Examples (<see cref="ExampleParseStage"/>) or decodes the images
/// (<see cref="ImageDecodeStage"/>); the signature input keeps its declared name and shape.</para>
/// <para>Nothing is converted partially: a graph with ops the converter lacks fails with one
/// Unimplemented <see cref="ServingException"/> naming every such op type and one node of each.</para>
/// </summary>
public static class SignatureConverter
{
    /// <summary>Converts signature <paramref name="signatureKey"/> of a loaded SavedModel, with its variables.</summary>
    public static OnnxConversion Convert(SavedModel.SavedModelBundle bundle, string signatureKey)
        => Convert(bundle.MetaGraph, signatureKey, new BundleVariableSource(bundle));

    /// <summary>Converts signature <paramref name="signatureKey"/> of <paramref name="metaGraph"/>.</summary>
    public static OnnxConversion Convert(MetaGraphDef metaGraph, string signatureKey, IVariableSource variables)
    {
        if (!metaGraph.SignatureDef.TryGetValue(signatureKey, out var signature))
        {
            throw ServingException.NotFound($"the meta graph has no signature '{signatureKey}'");
        }

        return Convert(metaGraph.GraphDef ?? new GraphDef(), signature, variables, signatureKey);
    }

    /// <summary>Converts <paramref name="signature"/> over <paramref name="graph"/>; <paramref name="graphName"/> names the ONNX graph.</summary>
    public static OnnxConversion Convert(GraphDef graph, SignatureDef signature, IVariableSource variables, string graphName)
    {
        var inputs = signature.Inputs.OrderBy(i => i.Key, StringComparer.Ordinal).ToArray();
        var outputs = signature.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal).ToArray();
        if (outputs.Length == 0)
        {
            throw ServingException.InvalidArgument($"signature {graphName} has no outputs");
        }

        var inputNames = inputs.Select(i => TensorName(i.Key, i.Value)).ToArray();
        var duplicate = inputNames.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw ServingException.InvalidArgument($"signature {graphName} feeds tensor {duplicate.Key} under two input keys");
        }

        var flattener = new GraphFlattener(graph, inputNames);
        var roots = outputs.Select(o => flattener.Resolve(TensorName(o.Key, o.Value))).ToArray();
        var feedKeys = new Dictionary<TfNode, string>();
        for (var i = 0; i < inputs.Length; i++)
        {
            if (FedType(flattener, inputNames[i], inputs[i].Value) == DataType.DtString)
            {
                feedKeys.TryAdd(flattener.Feed(inputNames[i]), inputs[i].Key);
            }
        }

        var (cuts, reasons) = HostCuts.Find(roots, feedKeys);
        var cutNodes = cuts.Select(c => c.Node).ToHashSet();
        GraphConversion.CheckSupported(flattener, roots, cutNodes, reasons);

        // An input only cut nodes read is handled on the host and never reaches ONNX.
        var reached = GraphConversion.PostOrder(roots.Select(r => r.Node), cutNodes.Contains).ToHashSet();
        var builder = new OnnxGraphBuilder(string.IsNullOrEmpty(graphName) ? "signature" : graphName);
        var context = new ConversionContext(builder, flattener, variables, TableInitializers.Index(graph));
        var inputInfos = new List<OnnxSignatureTensor>();
        for (var i = 0; i < inputs.Length; i++)
        {
            var (key, info) = (inputs[i].Key, inputs[i].Value);
            var dtype = TfDataTypes.BaseType(info.Dtype);
            var dims = InputDims(flattener, inputNames[i], info);
            var feed = flattener.Feed(inputNames[i]);
            if (cuts.Any(c => c.InputKey == key) && !reached.Contains(feed))
            {
                // Typed as the graph takes it: an export may declare the placeholder wrongly
                // (half_plus_three's tf_example:0 says DT_FLOAT), and TensorFlow feeds by name.
                inputInfos.Add(new OnnxSignatureTensor(key, "", inputNames[i], DataType.DtString, dims, SignatureDims(info)) { HostOnly = true });
                continue;
            }

            builder.AddInput(key, TfDataTypes.ToOnnx(dtype), dims);
            context.SetConverted(feed, [ConvertedTensor.Value(key, dtype, dims)]);
            inputInfos.Add(new OnnxSignatureTensor(key, key, inputNames[i], dtype, dims, SignatureDims(info)));
        }

        // Output keys are reserved before any node is named, so outputs keep their keys as ONNX names
        // (only a key that is also an input key gets a suffix).
        var outputNames = outputs.Select(o => builder.UniqueName(o.Key)).ToArray();

        var stages = new List<HostStage>();
        foreach (var cut in cuts)
        {
            var (outputsOfNode, stage) = cut.Materialize(builder);
            context.SetConverted(cut.Node, outputsOfNode);
            stages.Add(stage);
        }

        GraphConversion.Convert(context, roots);

        var outputInfos = new List<OnnxSignatureTensor>();
        for (var i = 0; i < outputs.Length; i++)
        {
            var (key, info) = (outputs[i].Key, outputs[i].Value);
            var converted = context.Get(roots[i]);
            var dtype = TfDataTypes.BaseType(info.Dtype);
            if (dtype != DataType.DtInvalid && dtype != converted.DType)
            {
                throw ServingException.InvalidArgument(
                    $"signature output '{key}' is declared {dtype} but tensor {info.Name} computes {converted.DType}");
            }

            var name = outputNames[i];
            builder.AddNodeWithOutputs("Identity", [context.Name(converted)], [name]);
            var rank = info.TensorShape is { UnknownRank: false } shape ? shape.Dim.Count : converted.Rank;
            var dims = StaticShapes.OfRank(rank);
            builder.AddOutput(name, TfDataTypes.ToOnnx(converted.DType), dims);
            outputInfos.Add(new OnnxSignatureTensor(key, name, info.Name, converted.DType, dims, SignatureDims(info)));
        }

        return new OnnxConversion(builder.ToModelBytes("grid-tensorflow-converter", $"TensorFlow signature {graphName}"), inputInfos, outputInfos, stages);
    }

    private static IReadOnlyList<long>? SignatureDims(TensorInfo info)
        => info.TensorShape is null || info.TensorShape.UnknownRank ? null : info.TensorShape.Dim.Select(d => d.Size < 0 ? -1 : d.Size).ToArray();

    private static string TensorName(string key, TensorInfo info)
        => info.EncodingCase == TensorInfo.EncodingOneofCase.Name
            ? info.Name
            : throw new ServingException(ServingStatusCode.Unimplemented, $"signature tensor '{key}' is {info.EncodingCase}; only dense tensors are supported");

    /// <summary>The type a fed tensor has in the graph: a Placeholder's own dtype, else the declared one.</summary>
    private static DataType FedType(GraphFlattener flattener, string tensorName, TensorInfo info)
    {
        var colon = tensorName.LastIndexOf(':');
        var node = flattener.RootNode(colon > 0 ? tensorName[..colon] : tensorName);
        return node is { Op: "Placeholder" } && node.Attr.TryGetValue("dtype", out var dtype)
            ? TfDataTypes.BaseType(dtype.Type)
            : TfDataTypes.BaseType(info.Dtype);
    }

    /// <summary>A fed Placeholder keeps its declared dims; other fed tensors keep only the declared rank.</summary>
    private static IReadOnlyList<long>? InputDims(GraphFlattener flattener, string tensorName, TensorInfo info)
    {
        if (info.TensorShape is null || info.TensorShape.UnknownRank)
        {
            return null;
        }

        var declared = SignatureDims(info)!;
        var colon = tensorName.LastIndexOf(':');
        var nodeName = colon > 0 ? tensorName[..colon] : tensorName;
        var isFirstOutput = colon < 0 || tensorName[(colon + 1)..] == "0";
        var fedOp = flattener.RootNode(nodeName)?.Op;
        return isFirstOutput && fedOp is "Placeholder" or "PlaceholderWithDefault"
            ? declared
            : StaticShapes.OfRank(declared.Count);
    }
}
