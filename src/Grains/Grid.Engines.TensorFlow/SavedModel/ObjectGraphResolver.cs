using Google.Protobuf;
using Grid.Engines.TensorFlow.Checkpoint;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// Maps a TF2 SavedModel's variables to checkpoint keys through its two object graphs:
/// <list type="number">
/// <item>The checkpoint's <see cref="TrackableObjectGraph"/> (the DT_STRING scalar under
/// <see cref="ObjectGraphKey"/>) gives, per node id, the key of its <c>VARIABLE_VALUE</c>
/// attribute (e.g. <c>layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE</c>).</item>
/// <item><see cref="MetaGraphDef.ObjectGraphDef"/> lists the same nodes under the same ids;
/// those whose kind is <c>variable</c> are the model's variables. Each variable's dtype and
/// known dimensions are checked against its checkpoint entry, so ids that did not correspond
/// would fail loudly.</item>
/// <item>A graph node is tied to a variable by a call: every <c>StatefulPartitionedCall</c> /
/// <c>PartitionedCall</c> of the main graph whose function <c>f</c> is one of the object graph's
/// concrete functions passes the objects listed in that function's <c>bound_inputs</c> as its
/// last data inputs, in order. Where such an input is a variable, it is (through Identity
/// nodes) a <c>VarHandleOp</c>, whose node name and <c>shared_name</c> then map to the key.</item>
/// </list>
/// VarHandleOps that no such call captures (optimizer slots, metrics, asset-initialised
/// resources) stay unmapped: the serving functions never read them.
/// </summary>
internal static class ObjectGraphResolver
{
    /// <summary>The checkpoint key of the serialized TrackableObjectGraph.</summary>
    public const string ObjectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH";

    private const string VariableValueAttribute = "VARIABLE_VALUE";

    public static List<VariableBinding> Resolve(GraphNodes graph, SavedObjectGraph objects, TensorBundle checkpoint, string source)
    {
        var trackable = ReadTrackableGraph(checkpoint);
        var keysById = new Dictionary<int, string>();
        var bindings = new Dictionary<string, VariableBinding>(StringComparer.Ordinal);
        foreach (var call in graph.Graph.Node.Where(n => n.Op is "StatefulPartitionedCall" or "PartitionedCall"))
        {
            if (!call.Attr.TryGetValue("f", out var f) || f.Func is null
                || !objects.ConcreteFunctions.TryGetValue(f.Func.Name, out var function) || function.BoundInputs.Count == 0)
            {
                continue;
            }
            var inputs = GraphNodes.DataInputs(call);
            var bound = function.BoundInputs;
            if (bound.Count > inputs.Count)
            {
                throw ServingException.InvalidArgument($"{source}: call '{call.Name}' of '{f.Func.Name}' has {inputs.Count} inputs but the function captures {bound.Count} objects");
            }
            for (var j = 0; j < bound.Count; j++)
            {
                var id = bound[j];
                if (id < 0 || id >= objects.Nodes.Count)
                {
                    throw ServingException.InvalidArgument($"{source}: concrete function '{f.Func.Name}' captures object {id}, which the object graph lacks");
                }
                if (objects.Nodes[id].KindCase != SavedObject.KindOneofCase.Variable)
                {
                    continue;
                }
                var input = inputs[inputs.Count - bound.Count + j];
                var handle = graph.Producer(input)?.Node;
                if (handle is null || handle.Op != "VarHandleOp")
                {
                    throw ServingException.InvalidArgument($"{source}: call '{call.Name}' passes '{input}' for variable object {id}, which is not a VarHandleOp");
                }
                if (!keysById.TryGetValue(id, out var key))
                {
                    key = CheckpointKey(trackable, objects.Nodes[id].Variable, id, checkpoint, source);
                    keysById[id] = key;
                }
                var binding = new VariableBinding(handle.Name, key, "");
                if (bindings.TryGetValue(handle.Name, out var earlier) && earlier != binding)
                {
                    throw ServingException.InvalidArgument($"{source}: VarHandleOp '{handle.Name}' is captured as both '{earlier.CheckpointKey}' and '{key}'");
                }
                bindings[handle.Name] = binding;
            }
        }
        return bindings.Values.ToList();
    }

    private static TrackableObjectGraph ReadTrackableGraph(TensorBundle checkpoint)
    {
        var tensor = checkpoint.Read(ObjectGraphKey);
        if (tensor.DataType != DataType.DtString || tensor.ElementCount != 1)
        {
            throw TensorBundle.DataLoss(checkpoint.IndexPath, $"stores '{ObjectGraphKey}' as {tensor.DataType} {TensorShapes.Format(tensor.Shape)}, not a string scalar");
        }
        try
        {
            return TrackableObjectGraph.Parser.ParseFrom(tensor.Strings[0]);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw TensorBundle.DataLoss(checkpoint.IndexPath, $"holds a corrupt '{ObjectGraphKey}': {e.Message}");
        }
    }

    /// <summary>The key of object <paramref name="id"/>'s value, after checking it agrees with the SavedModel's record of the variable.</summary>
    private static string CheckpointKey(TrackableObjectGraph trackable, SavedVariable variable, int id, TensorBundle checkpoint, string source)
    {
        var attribute = id < trackable.Nodes.Count
            ? trackable.Nodes[id].Attributes.FirstOrDefault(a => a.Name == VariableValueAttribute)
            : null;
        if (attribute is null)
        {
            throw TensorBundle.DataLoss(checkpoint.IndexPath, $"has no {VariableValueAttribute} for object {id} (variable '{variable.Name}' of {source})");
        }
        var entry = checkpoint.GetEntry(attribute.CheckpointKey);
        var dims = entry.Shape?.Dim.Select(d => d.Size).ToList() ?? [];
        var declared = variable.Shape;
        var shapeAgrees = declared is null || declared.UnknownRank
            || (declared.Dim.Count == dims.Count && declared.Dim.Select((d, i) => d.Size < 0 || d.Size == dims[i]).All(ok => ok));
        if (entry.Dtype != variable.Dtype || !shapeAgrees)
        {
            throw ServingException.InvalidArgument(
                $"{source}: object {id} (variable '{variable.Name}', {variable.Dtype} {declared}) does not match checkpoint tensor '{attribute.CheckpointKey}' ({entry.Dtype} {TensorShapes.Format(dims)}) in {checkpoint.IndexPath}");
        }
        return attribute.CheckpointKey;
    }
}
