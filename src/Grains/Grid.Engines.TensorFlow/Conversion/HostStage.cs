using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>An ONNX model input that a host stage feeds.</summary>
/// <param name="OnnxName">The ONNX input's name.</param>
/// <param name="DType">Its type.</param>
/// <param name="Dims">Its ONNX shape (-1: symbolic).</param>
public sealed record HostStageInput(string OnnxName, DataType DType, IReadOnlyList<long> Dims);

/// <summary>
/// A node the conversion cut out of the ONNX graph because ONNX cannot express it and its input
/// is a signature input (DT_STRING): the host runs it on the fed tensor and feeds the results to
/// the ONNX model (<see cref="ExampleParseStage"/>: ParseExample; <see cref="ImageDecodeStage"/>:
/// DecodeJpeg/DecodePng/DecodeImage). Immutable and thread-safe.
/// </summary>
/// <param name="InputKey">The signature input the stage reads.</param>
/// <param name="NodeName">The TensorFlow node it stands for, for messages.</param>
/// <param name="Op">The node's op.</param>
public abstract record HostStage(string InputKey, string NodeName, string Op)
{
    /// <summary>The ONNX inputs the stage feeds.</summary>
    public abstract IReadOnlyList<HostStageInput> OnnxInputs { get; }

    /// <summary>
    /// Runs the node on the fed tensor: one tensor per entry of <see cref="OnnxInputs"/>, named by
    /// its ONNX input. Errors are INVALID_ARGUMENT with TensorFlow's texts where it has them.
    /// </summary>
    public abstract IEnumerable<NamedTensor> Run(TensorData input);
}

/// <summary>
/// A node to run on the host, found by a cut finder: <see cref="Materialize"/> adds the ONNX
/// inputs standing for its outputs and returns what the node's outputs became and the stage.
/// </summary>
internal sealed record HostCut(TfNode Node, string InputKey, Func<OnnxGraphBuilder, (IReadOnlyList<ConvertedTensor> Outputs, HostStage Stage)> Materialize);

/// <summary>Finds the nodes of a signature's subgraph that run on the host ahead of the ONNX graph.</summary>
internal static class HostCuts
{
    /// <summary>The cuts among the nodes <paramref name="roots"/> depend on, and why any candidate node cannot be cut.</summary>
    public static (List<HostCut> Cuts, List<string> Reasons) Find(IReadOnlyList<TensorRef> roots, IReadOnlyDictionary<TfNode, string> feeds)
    {
        var cuts = new List<HostCut>();
        var reasons = new List<string>();
        var order = GraphConversion.PostOrder(roots.Select(r => r.Node));
        foreach (var node in order)
        {
            var (cut, reason) = ExampleParseCuts.IsParseExample(node.Op) ? ExampleParseCuts.TryCut(node, order, feeds)
                : ImageDecodeCuts.IsDecode(node.Op) ? ImageDecodeCuts.TryCut(node, feeds)
                : (null, null);
            if (cut is not null)
            {
                cuts.Add(cut);
            }
            else if (reason is not null)
            {
                reasons.Add($"{node.Op} node {node.Name}: {reason}");
            }
        }

        return (cuts, reasons);
    }

    /// <summary>
    /// Follows <paramref name="tensor"/> back through pass-throughs and the reshapes
    /// <paramref name="reshape"/> accepts (it receives the constant target shape) to a fed tensor;
    /// null when it is computed. <paramref name="shapes"/> collects the accepted reshapes, last first.
    /// </summary>
    public static TensorRef Source(TensorRef tensor, Func<long[], bool> reshape, List<long[]> shapes)
    {
        while (true)
        {
            var node = tensor.Node;
            if (node.Op is "Identity" or "Snapshot" or "StopGradient")
            {
                tensor = node.Inputs[0];
                continue;
            }

            if (node.Op == "Reshape" && TryConstantShape(node.Inputs[1]) is { } shape && reshape(shape))
            {
                shapes.Add(shape);
                tensor = node.Inputs[0];
                continue;
            }

            return tensor;
        }
    }

    private static long[]? TryConstantShape(TensorRef tensor)
    {
        try
        {
            return ConstantFolder.Fold(tensor, "shape").ToInt64Array();
        }
        catch (Grid.Serving.ServingException)
        {
            return null;
        }
    }
}
