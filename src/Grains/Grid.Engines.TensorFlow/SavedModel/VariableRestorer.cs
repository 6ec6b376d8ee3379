using Grid.Engines.TensorFlow.Checkpoint;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// Reads the checkpoint values of resolved <see cref="VariableBinding"/>s, cutting a partitioned
/// variable's part out of the full tensor when the binding names a slice, and checks each value
/// against the variable op's <c>dtype</c> and <c>shape</c> attrs, so a wrong mapping cannot pass
/// silently. Each checkpoint key is read once however many variables share it.
/// </summary>
internal static class VariableRestorer
{
    public static List<RestoredVariable> Restore(IReadOnlyList<VariableBinding> bindings, GraphNodes graph, TensorBundle checkpoint, string source)
    {
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        var restored = new List<RestoredVariable>(bindings.Count);
        foreach (var binding in bindings.OrderBy(b => b.GraphNode, StringComparer.Ordinal))
        {
            var node = graph.Find(binding.GraphNode)!;
            if (!tensors.TryGetValue(binding.CheckpointKey, out var full))
            {
                full = checkpoint.Read(binding.CheckpointKey);
                tensors[binding.CheckpointKey] = full;
            }
            var (value, slice) = Cut(full, binding, source);
            Check(node, value, source);
            restored.Add(new RestoredVariable(node.Name, node.Op, GraphNodes.SharedName(node), binding.CheckpointKey, slice, value));
        }
        return restored;
    }

    private static (CheckpointTensor Value, TensorSlice? Slice) Cut(CheckpointTensor full, VariableBinding binding, string source)
    {
        try
        {
            if (TensorSlice.ParseShapeAndSlice(binding.ShapeAndSlice) is not { } parsed)
            {
                return (full, null);
            }
            var (fullShape, slice) = parsed;
            if (!fullShape.SequenceEqual(full.Shape))
            {
                throw new InvalidDataException($"the saver expects full shape {TensorShapes.Format(fullShape)} but the checkpoint holds {TensorShapes.Format(full.Shape)}");
            }
            var shape = slice.ShapeWithin(fullShape);
            if (shape.SequenceEqual(fullShape))
            {
                return (full, slice);
            }
            if (full.DataType == DataType.DtString)
            {
                throw new InvalidDataException("slices of string tensors are not supported");
            }
            var elementSize = DataTypeSizes.Of(full.DataType);
            var bytes = new byte[TensorShapes.ElementCount(shape) * elementSize];
            slice.CopyOut(fullShape, elementSize, full.Content.Span, bytes);
            return (new CheckpointTensor(full.Key, full.DataType, shape, bytes), slice);
        }
        catch (InvalidDataException e)
        {
            throw ServingException.InvalidArgument($"{source}: variable '{binding.GraphNode}' restores '{binding.ShapeAndSlice}' of checkpoint tensor '{binding.CheckpointKey}': {e.Message}");
        }
    }

    private static void Check(NodeDef node, CheckpointTensor value, string source)
    {
        if (node.Attr.TryGetValue("dtype", out var dtype) && dtype.Type != value.DataType)
        {
            throw ServingException.InvalidArgument($"{source}: variable '{node.Name}' is {dtype.Type} but its checkpoint value '{value.Key}' is {value.DataType}");
        }
        if (node.Attr.TryGetValue("shape", out var shape) && shape.Shape is { UnknownRank: false } declared)
        {
            var agrees = declared.Dim.Count == value.Shape.Count
                && declared.Dim.Select((d, i) => d.Size < 0 || d.Size == value.Shape[i]).All(ok => ok);
            if (!agrees)
            {
                throw ServingException.InvalidArgument($"{source}: variable '{node.Name}' has shape [{string.Join(",", declared.Dim.Select(d => d.Size))}] but its checkpoint value '{value.Key}' is {TensorShapes.Format(value.Shape)}");
            }
        }
    }
}
