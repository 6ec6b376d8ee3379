using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Serving;
using Onnx;
using OnnxType = Onnx.TensorProto.Types.DataType;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// TF2 loops (<c>While</c>, <c>StatelessWhile</c>) as ONNX <c>Loop</c>. This is the generic route
/// (chosen over recognising Keras' LSTM function and emitting ONNX LSTM): any loop body made of
/// supported ops converts, which covers Keras LSTM/GRU/SimpleRNN with any activation, and the
/// result is exactly the body's arithmetic, so nothing depends on matching Keras' gate order.
/// <list type="bullet">
/// <item>The condition function is converted twice: on the initial values (the Loop's initial
/// condition) and inside the body on the body's results (the Loop's next condition).</item>
/// <item>Loop variables the body passes through unchanged (weights, the input list, the step
/// count) are not carried: the body reads them from the outer graph (a constant, e.g. a folded
/// variable, stays known as a constant to the body's converters and is stored once, in the outer
/// graph). The others are Loop-carried.</item>
/// <item>TensorList loop variables are ONNX sequences (<see cref="TensorListOps"/>).</item>
/// <item>The trip count is unbounded: TensorFlow's loop stops only through its condition.</item>
/// </list>
/// </summary>
internal static class LoopOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["While"] = While;
        table["StatelessWhile"] = While;
    }

    private static IReadOnlyList<ConvertedTensor> While(OpContext op)
    {
        var node = op.Node;
        var outer = op.Graph;
        var bodyName = node.Attr("body").Func?.Name ?? throw ServingException.InvalidArgument($"loop {node.Name} has no body");
        var condName = node.Attr("cond").Func?.Name ?? throw ServingException.InvalidArgument($"loop {node.Name} has no cond");
        var inputs = op.Inputs;
        var body = outer.Flattener.ForFunction(bodyName, node.Name + "/body/");
        var bodySignature = outer.Flattener.Functions[bodyName].Signature;
        if (bodySignature.InputArg.Count != inputs.Count || bodySignature.OutputArg.Count != inputs.Count)
        {
            throw ServingException.InvalidArgument($"loop {node.Name}: body {bodyName} does not map its {inputs.Count} loop variables to themselves");
        }

        var bodyOutputs = Enumerable.Range(0, inputs.Count).Select(body.ResolveOutput).ToArray();
        var argFeeds = bodySignature.InputArg.Select(a => body.Feed(a.Name)).ToArray();
        var invariant = Enumerable.Range(0, inputs.Count).Select(i => PassThrough(bodyOutputs[i]) == argFeeds[i]).ToArray();
        var shapes = node.TryGetAttr("output_shapes")?.List?.Shape;

        // The initial condition, in the outer graph.
        var initialCondition = Condition(outer, outer.Flattener, condName, node.Name + "/cond_init/", inputs);

        // The body graph: (iteration, condition, carried…) → (condition, carried…).
        var builder = outer.Builder.CreateSubgraph(node.Name + "_body");
        var context = new ConversionContext(builder, body, outer.Variables);
        builder.AddUniqueInput(node.Name + "_iteration", OnnxGraphBuilder.TensorType(OnnxType.Int64, [], ""));
        builder.AddUniqueInput(node.Name + "_condition_in", OnnxGraphBuilder.TensorType(OnnxType.Bool, [], ""));
        var carried = new List<int>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            ConvertedTensor feed;
            if (invariant[i])
            {
                feed = Subgraphs.OuterValue(outer, input);
            }
            else
            {
                if (input.Variable is not null)
                {
                    throw op.Unsupported($"a resource handle that the loop body changes (loop variable {i})");
                }

                var rank = shapes is not null && i < shapes.Count && !shapes[i].UnknownRank ? shapes[i].Dim.Count : input.Rank;
                var name = builder.AddUniqueInput($"{node.Name}_var{i}", Subgraphs.ValueType(input));
                feed = input.IsSequence
                    ? ConvertedTensor.Sequence(name, input.DType, input.Dims)
                    : ConvertedTensor.Value(name, input.DType, StaticShapes.OfRank(input.IsSequence ? null : rank));
                carried.Add(i);
            }

            context.SetConverted(argFeeds[i], [feed]);
        }

        GraphConversion.Convert(context, bodyOutputs);
        var results = bodyOutputs.Select(context.Get).ToArray();
        var nextCondition = Condition(context, body, condName, node.Name + "/cond/", results);
        var conditionOut = builder.UniqueName(node.Name + "_condition_out");
        builder.AddNodeWithOutputs("Identity", [nextCondition], [conditionOut]);
        builder.AddOutput(conditionOut, OnnxType.Bool, []);
        foreach (var i in carried)
        {
            if (results[i].IsSequence != inputs[i].IsSequence || results[i].DType != inputs[i].DType)
            {
                throw ServingException.InvalidArgument($"loop {node.Name}: loop variable {i} changes type in the body");
            }

            var name = builder.UniqueName($"{node.Name}_var{i}_out");
            builder.AddNodeWithOutputs("Identity", [context.Name(results[i])], [name]);
            builder.AddOutput(name, Subgraphs.ValueType(results[i]));
        }

        if (carried.Count == 0)
        {
            throw op.Unsupported("a loop that carries no changing value");
        }

        var loopOutputs = op.AddMulti("Loop", ["", initialCondition, .. carried.Select(i => outer.Name(inputs[i]))], carried.Count,
            OnnxAttributes.Graph("body", builder.ToGraph()));

        var outputs = new ConvertedTensor[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var k = carried.IndexOf(i);
            outputs[i] = k < 0
                ? inputs[i]
                : inputs[i].IsSequence
                    ? ConvertedTensor.Sequence(loopOutputs[k], inputs[i].DType, inputs[i].Dims)
                    : ConvertedTensor.Value(loopOutputs[k], inputs[i].DType, StaticShapes.OfRank(inputs[i].Rank));
        }

        return outputs;
    }

    /// <summary>Converts the condition function on <paramref name="values"/> in <paramref name="context"/>; returns the bool value's name.</summary>
    private static string Condition(ConversionContext context, GraphFlattener scope, string condName, string prefix, IReadOnlyList<ConvertedTensor> values)
    {
        var cond = scope.ForFunction(condName, prefix);
        var signature = scope.Functions[condName].Signature;
        if (signature.InputArg.Count != values.Count)
        {
            throw ServingException.InvalidArgument($"loop condition {condName} takes {signature.InputArg.Count} values, the loop has {values.Count}");
        }

        for (var i = 0; i < values.Count; i++)
        {
            context.SetConverted(cond.Feed(signature.InputArg[i].Name), [values[i]]);
        }

        var result = cond.ResolveOutput(0);
        GraphConversion.Convert(context, [result]);
        var condition = context.Get(result);
        return condition.DType == DataType.DtBool
            ? context.Name(condition)
            : throw ServingException.InvalidArgument($"loop condition {condName} yields {condition.DType}, not a bool");
    }

    /// <summary>The tensor behind a chain of Identity nodes (the node itself when it is no Identity).</summary>
    private static TfNode PassThrough(TensorRef tensor)
    {
        while (tensor.Node.Op is "Identity" && tensor.Node.Inputs.Count == 1)
        {
            tensor = tensor.Node.Inputs[0];
        }

        return tensor.Node;
    }
}
