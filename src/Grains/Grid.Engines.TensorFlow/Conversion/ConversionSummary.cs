using Grid.Engines.TensorFlow.Conversion.Graph;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// What a signature's conversion covers, for people (<c>grid convert</c>): the TensorFlow op
/// types on the path from its inputs to its outputs, with function calls inlined, and how many
/// nodes of each.
/// </summary>
public static class ConversionSummary
{
    /// <summary>Op type → node count over the nodes the signature's outputs depend on (loop bodies not expanded).</summary>
    public static IReadOnlyDictionary<string, int> TensorFlowOps(MetaGraphDef metaGraph, string signatureKey)
    {
        var signature = metaGraph.SignatureDef[signatureKey];
        var flattener = new GraphFlattener(metaGraph.GraphDef, signature.Inputs.Values.Select(i => i.Name));
        var roots = signature.Outputs.Values.Select(o => flattener.Resolve(o.Name));
        return GraphConversion.PostOrder(roots.Select(r => r.Node)).Where(n => !n.Op.StartsWith('_'))
            .GroupBy(n => n.Op, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>ONNX op type → node count of a converted model's main graph.</summary>
    public static IReadOnlyDictionary<string, int> OnnxOps(byte[] model) =>
        Onnx.ModelProto.Parser.ParseFrom(model).Graph.Node
            .GroupBy(n => n.OpType, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}
