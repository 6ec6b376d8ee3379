using Grid.Engines.TensorFlow.Checkpoint;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// Maps a TF1 graph's variables to checkpoint keys exactly as its saver restores them: from
/// <see cref="SaverDef.RestoreOpName"/> it walks the restore subgraph back to every
/// <c>Assign</c> / <c>AssignVariableOp</c>; each assigns to a variable (input 0) the output k
/// of a <c>RestoreV2</c> (input 1, through Identity nodes), whose <c>tensor_names</c> and
/// <c>shape_and_slices</c> Const inputs give key k and the slice. Old graphs' one-tensor
/// <c>RestoreSlice</c> / <c>Restore</c> ops are read the same way. Only the restore op's own
/// subgraph counts, so a graph holding two savers maps through the one its SaverDef names.
/// Variables the saver does not restore stay unmapped; nothing is matched by name.
/// </summary>
internal static class SaverRestoreResolver
{
    public static List<VariableBinding> Resolve(GraphNodes graph, SaverDef? saver, string source)
    {
        if (saver is null || saver.RestoreOpName.Length == 0)
        {
            if (graph.Variables.FirstOrDefault() is { } variable)
            {
                throw ServingException.InvalidArgument($"{source} has variables (e.g. '{variable.Name}') but no saver_def to restore them from");
            }
            return [];
        }
        var restoreName = GraphNodes.ParseInput(saver.RestoreOpName).Node;
        var restore = graph.Find(restoreName)
            ?? throw ServingException.InvalidArgument($"{source}: saver_def.restore_op_name '{saver.RestoreOpName}' names no node of the graph");

        var bindings = new Dictionary<string, VariableBinding>(StringComparer.Ordinal);
        foreach (var assign in RestoreSubgraph(graph, restore).Where(n => n.Op is "Assign" or "AssignVariableOp"))
        {
            var binding = Bind(graph, assign, source);
            if (bindings.TryGetValue(binding.GraphNode, out var earlier) && earlier != binding)
            {
                throw ServingException.InvalidArgument($"{source}: the saver restores variable '{binding.GraphNode}' from both '{earlier.CheckpointKey}' and '{binding.CheckpointKey}'");
            }
            bindings[binding.GraphNode] = binding;
        }
        if (bindings.Count == 0 && graph.Variables.Any())
        {
            throw ServingException.InvalidArgument($"{source}: restore op '{restoreName}' assigns no variable, so its variables cannot be mapped to the checkpoint");
        }
        return bindings.Values.ToList();
    }

    /// <summary>Every node the restore op depends on (data and control inputs, transitively).</summary>
    private static List<NodeDef> RestoreSubgraph(GraphNodes graph, NodeDef restore)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { restore.Name };
        var order = new List<NodeDef>();
        var pending = new Queue<NodeDef>([restore]);
        while (pending.TryDequeue(out var node))
        {
            order.Add(node);
            foreach (var input in node.Input)
            {
                var name = GraphNodes.ParseInput(input).Node;
                if (seen.Add(name) && graph.Find(name) is { } producer)
                {
                    pending.Enqueue(producer);
                }
            }
        }
        return order;
    }

    private static VariableBinding Bind(GraphNodes graph, NodeDef assign, string source)
    {
        var inputs = GraphNodes.DataInputs(assign);
        if (inputs.Count < 2)
        {
            throw ServingException.InvalidArgument($"{source}: restore node '{assign.Name}' ({assign.Op}) has {inputs.Count} data inputs, expected 2");
        }
        var target = graph.Producer(inputs[0])?.Node;
        if (target is null || !GraphNodes.VariableOps.Contains(target.Op))
        {
            throw ServingException.InvalidArgument($"{source}: restore node '{assign.Name}' assigns to '{inputs[0]}', which is not a variable");
        }
        if (graph.Producer(inputs[1]) is not { } producer)
        {
            throw ServingException.InvalidArgument($"{source}: restore node '{assign.Name}' reads '{inputs[1]}', which names no node");
        }
        var (restoreOp, output) = producer;
        var restoreInputs = GraphNodes.DataInputs(restoreOp);
        string key, spec;
        switch (restoreOp.Op)
        {
            case "RestoreV2" when restoreInputs.Count == 3:
                key = ConstStrings(graph, restoreInputs[1], restoreOp, source).ElementAtOrDefault(output)
                    ?? throw ServingException.InvalidArgument($"{source}: '{restoreOp.Name}' has no tensor name for output {output}");
                spec = ConstStrings(graph, restoreInputs[2], restoreOp, source).ElementAtOrDefault(output) ?? "";
                break;
            case "RestoreSlice" when restoreInputs.Count == 3:
                key = ConstStrings(graph, restoreInputs[1], restoreOp, source)[0];
                spec = ConstStrings(graph, restoreInputs[2], restoreOp, source)[0];
                break;
            case "Restore" when restoreInputs.Count == 2:
                key = ConstStrings(graph, restoreInputs[1], restoreOp, source)[0];
                spec = "";
                break;
            default:
                throw ServingException.InvalidArgument($"{source}: variable '{target.Name}' is restored from '{restoreOp.Name}' ({restoreOp.Op}), not from a RestoreV2, RestoreSlice or Restore op");
        }
        return new VariableBinding(target.Name, key, spec);
    }

    /// <summary>The strings of the Const that <paramref name="input"/> reads (one value repeated fills its shape, as in TensorFlow).</summary>
    private static IReadOnlyList<string> ConstStrings(GraphNodes graph, string input, NodeDef consumer, string source)
    {
        var node = graph.Producer(input)?.Node;
        if (node is null || node.Op != "Const" || !node.Attr.TryGetValue("value", out var value) || value.Tensor is null)
        {
            throw ServingException.InvalidArgument($"{source}: input '{input}' of '{consumer.Name}' is not a Const, so the restored keys cannot be read");
        }
        var tensor = value.Tensor;
        var strings = tensor.StringVal.Select(s => s.ToStringUtf8()).ToList();
        long count;
        try
        {
            count = TensorShapes.ElementCount(TensorShapes.Dims(tensor.TensorShape));
        }
        catch (InvalidDataException e)
        {
            throw ServingException.InvalidArgument($"{source}: Const '{node.Name}': {e.Message}");
        }
        if (strings.Count == 1 && count > 1)
        {
            return Enumerable.Repeat(strings[0], (int)count).ToList();
        }
        if (strings.Count != count || count == 0)
        {
            throw ServingException.InvalidArgument($"{source}: Const '{node.Name}' holds {strings.Count} strings for {count} elements");
        }
        return strings;
    }
}
