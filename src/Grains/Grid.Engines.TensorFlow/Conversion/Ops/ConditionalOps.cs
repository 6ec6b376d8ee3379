using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Conditionals.
/// <list type="bullet">
/// <item>TF2 <c>If</c>/<c>StatelessIf</c> (a condition, inputs, then/else functions of those inputs):
/// a condition known at conversion time inlines the chosen branch; otherwise both branches become
/// the subgraphs of an ONNX <c>If</c>, reading the inputs from the outer graph. A numeric condition
/// counts as true when non-zero, as TensorFlow's scalar rule says; a non-scalar condition is left
/// to ONNX Runtime, which rejects it at run time.</item>
/// <item>TF1 <c>Switch</c>/<c>Merge</c> (tf.cond, e.g. on Keras' learning phase) only with a
/// predicate known at conversion time: the untaken Switch output is dead, nodes fed by it are dead,
/// and Merge forwards its one live input. A predicate computed at run time is unsupported.</item>
/// </list>
/// </summary>
internal static class ConditionalOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["If"] = If;
        table["StatelessIf"] = If;
        table["Switch"] = Switch;
        table["Merge"] = Merge;
    }

    private static IReadOnlyList<ConvertedTensor> Switch(OpContext op)
    {
        var predicate = op.Input(1).Constant
            ?? throw op.Unsupported("Switch on a predicate computed at run time (TF1 control flow)");
        var taken = predicate.ToInt64Array().Single() != 0;
        return taken ? [ConvertedTensor.Dead, op.Input(0)] : [op.Input(0), ConvertedTensor.Dead];
    }

    private static IReadOnlyList<ConvertedTensor> Merge(OpContext op)
    {
        var live = op.Inputs.Select((input, index) => (input, index)).Where(p => !p.input.IsDead).ToArray();
        return live.Length switch
        {
            0 => [ConvertedTensor.Dead, ConvertedTensor.Dead],
            1 => [live[0].input, ConvertedTensor.Const(HostTensor.FromInt32([], [live[0].index]))],
            _ => throw op.Unsupported("Merge of more than one live input (TF1 loops)"),
        };
    }

    private static IReadOnlyList<ConvertedTensor> If(OpContext op)
    {
        var node = op.Node;
        var outer = op.Graph;
        var condition = op.Input(0);
        var arguments = op.Inputs.Skip(1).ToArray();
        var thenName = node.Attr("then_branch").Func?.Name ?? throw ServingException.InvalidArgument($"node {node.Name} has no then_branch");
        var elseName = node.Attr("else_branch").Func?.Name ?? throw ServingException.InvalidArgument($"node {node.Name} has no else_branch");

        if (condition.Constant is { ElementCount: 1 } known)
        {
            var taken = known.ToDoubleArray()[0] != 0 ? thenName : elseName;
            var roots = Bind(outer, node, taken, "/taken/", arguments);
            GraphConversion.Convert(outer, roots);
            return roots.Select(outer.Get).ToArray();
        }

        var conditionName = condition.DType == DataType.DtBool
            ? op.Name(0)
            : outer.Builder.AddNode("Not", [outer.Builder.AddNode("Equal", [op.Name(0), outer.Scalar(condition.DType, 0)], node.Name + "_zero")],
                node.Name + "_condition");
        var (thenGraph, thenOutputs) = Branch(outer, node, thenName, "/then/", arguments);
        var (elseGraph, elseOutputs) = Branch(outer, node, elseName, "/else/", arguments);
        if (thenOutputs.Count != elseOutputs.Count
            || thenOutputs.Zip(elseOutputs).Any(p => p.First.DType != p.Second.DType || p.First.IsSequence != p.Second.IsSequence))
        {
            throw ServingException.InvalidArgument($"node {node.Name}: the branches {thenName} and {elseName} return different types");
        }

        var results = op.AddMulti("If", [conditionName], thenOutputs.Count,
            OnnxAttributes.Graph("then_branch", thenGraph), OnnxAttributes.Graph("else_branch", elseGraph));
        return thenOutputs.Select((t, i) =>
        {
            var e = elseOutputs[i];
            var dims = t.Dims is { } a && e.Dims is { } b && a.Count == b.Count ? a.Select((d, k) => d == b[k] ? d : -1).ToArray() : null;
            return t.IsSequence ? ConvertedTensor.Sequence(results[i], t.DType, dims) : ConvertedTensor.Value(results[i], t.DType, dims);
        }).ToArray();
    }

    /// <summary>
    /// Flattens branch <paramref name="function"/> of <paramref name="node"/>, records its arguments in
    /// <paramref name="target"/> as <paramref name="arguments"/>, and returns the tensors behind its outputs.
    /// </summary>
    private static TensorRef[] Bind(ConversionContext target, TfNode node, string function, string suffix, IReadOnlyList<ConvertedTensor> arguments)
    {
        var flattener = target.Flattener.ForFunction(function, node.Name + suffix);
        var signature = target.Flattener.Functions[function].Signature;
        if (signature.InputArg.Count != arguments.Count)
        {
            throw ServingException.InvalidArgument($"node {node.Name}: branch {function} takes {signature.InputArg.Count} inputs, the node passes {arguments.Count}");
        }

        for (var i = 0; i < arguments.Count; i++)
        {
            target.SetConverted(flattener.Feed(signature.InputArg[i].Name), [arguments[i]]);
        }

        return Enumerable.Range(0, signature.OutputArg.Count).Select(flattener.ResolveOutput).ToArray();
    }

    /// <summary>One branch as an ONNX subgraph without inputs whose outputs are the branch's results.</summary>
    private static (Onnx.GraphProto Graph, IReadOnlyList<ConvertedTensor> Outputs) Branch(
        ConversionContext outer, TfNode node, string function, string suffix, IReadOnlyList<ConvertedTensor> arguments)
    {
        var builder = outer.Builder.CreateSubgraph(node.Name + suffix.Trim('/'));
        var context = new ConversionContext(builder, outer.Flattener, outer.Variables);
        var roots = Bind(context, node, function, suffix, arguments.Select(a => Subgraphs.OuterValue(outer, a)).ToArray());
        GraphConversion.Convert(context, roots);
        var outputs = roots.Select(context.Get).ToArray();
        foreach (var output in outputs)
        {
            var name = builder.UniqueName(node.Name + suffix.TrimEnd('/') + "_out");
            builder.AddNodeWithOutputs("Identity", [context.Name(output)], [name]);
            builder.AddOutput(name, Subgraphs.ValueType(output));
        }

        return (builder.ToGraph(), outputs);
    }
}
