using Grid.Engines.TensorFlow.Conversion.OnnxModel;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Joining, splitting, padding, reversing and gathering: Pack/Unpack, ConcatV2, Split/SplitV,
/// Pad/PadV2/MirrorPad (REFLECT), ReverseV2, OneHot, GatherV2/Gather/GatherNd and ResourceGather
/// (a gather from a variable's value, e.g. a Keras Embedding). Packs and concatenations of
/// integer constants (shape vectors) fold to constants.
/// </summary>
internal static class ArrayOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["Pack"] = Pack;
        table["Unpack"] = Unpack;
        table["ConcatV2"] = op => Concat(op, op.Inputs.Take(op.Inputs.Count - 1).ToArray(), op.Inputs.Count - 1);
        table["Concat"] = op => Concat(op, op.Inputs.Skip(1).ToArray(), 0);
        table["Split"] = op => Split(op, valueIndex: 1, axisIndex: 0, sizes: null);
        table["SplitV"] = op => Split(op, valueIndex: 0, axisIndex: 2, sizes: op.ConstantInts(1, "size_splits"));
        table["Pad"] = op => Pad(op, "constant");
        table["PadV2"] = op => Pad(op, "constant");
        table["MirrorPad"] = op => op.Node.String("mode") == "REFLECT" ? Pad(op, "reflect") : throw op.Unsupported($"MirrorPad mode {op.Node.String("mode")}");
        table["ReverseV2"] = Reverse;
        table["OneHot"] = OneHot;
        table["GatherV2"] = op => Gather(op, op.Name(0), op.Input(0), op.ConstantInts(2, "the axis").Single());
        table["Gather"] = op => Gather(op, op.Name(0), op.Input(0), 0);
        table["ResourceGather"] = op =>
        {
            var values = op.Graph.ReadVariable(op.Input(0), op.Node.Name);
            return Gather(op, op.Graph.Name(values), values, 0);
        };
        table["GatherNd"] = op => OpContext.One(op.Add("GatherND", [op.Name(0), op.Graph.AsInt64(op.Input(1))]), op.Input(0).DType, null);
    }

    private static IReadOnlyList<ConvertedTensor> Pack(OpContext op)
    {
        var axis = op.Node.Int("axis");
        var first = op.Input(0);
        IReadOnlyList<long>? dims = null;
        if (first.Dims is { } d)
        {
            var at = (int)(axis < 0 ? axis + d.Count + 1 : axis);
            dims = [.. d.Take(at), op.Inputs.Count, .. d.Skip(at)];
        }

        if (dims is not null && op.Inputs.All(i => i.Constant is { } c && TfDataTypes.IsInteger(c.DType)) && first.Rank == 0)
        {
            var values = op.Inputs.Select(i => i.Constant!.ToInt64Array()[0]).ToArray();
            return [ConvertedTensor.Const(HostTensor.FromInt64([values.Length], values).CastTo(first.DType))];
        }

        var axes = op.Graph.Int64([axis]);
        var parts = op.Inputs.Select((input, i) =>
            op.Graph.Builder.AddNode("Unsqueeze", [op.Graph.Name(input), axes], $"{op.Node.Name}_item{i}")).ToArray();
        return OpContext.One(op.Add("Concat", parts, OnnxAttributes.Int("axis", axis)), first.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Unpack(OpContext op)
    {
        var input = op.Input(0);
        var count = (int)op.Node.Int("num");
        var axis = op.Node.Int("axis");
        var parts = op.AddMulti("Split", [op.Name(0)], count, OnnxAttributes.Int("axis", axis), OnnxAttributes.Int("num_outputs", count));
        IReadOnlyList<long>? dims = input.Dims is { } d ? d.Where((_, i) => i != StaticShapes.Axis(axis, d.Count, op.Node.Name)).ToArray() : null;
        var axes = op.Graph.Int64([axis]);
        return parts.Select((part, i) => ConvertedTensor.Value(
            op.Graph.Builder.AddNode("Squeeze", [part, axes], $"{op.Node.Name}_{i}"), input.DType, dims)).ToArray();
    }

    private static IReadOnlyList<ConvertedTensor> Concat(OpContext op, IReadOnlyList<ConvertedTensor> values, int axisIndex)
    {
        var axis = op.ConstantInts(axisIndex, "the axis").Single();
        var first = values[0];
        if (values.All(v => v.Constant is { Rank: 1 } c && TfDataTypes.IsInteger(c.DType)))
        {
            var joined = values.SelectMany(v => v.Constant!.ToInt64Array()).ToArray();
            return [ConvertedTensor.Const(HostTensor.FromInt64([joined.Length], joined).CastTo(first.DType))];
        }

        IReadOnlyList<long>? dims = null;
        if (values.All(v => v.Dims is not null && v.Dims.Count == first.Dims!.Count))
        {
            var rank = first.Dims!.Count;
            var at = StaticShapes.Axis(axis, rank, op.Node.Name);
            var dimsAt = values.Select(v => v.Dims![at]).ToArray();
            dims = first.Dims.Select((d, i) => i == at ? (dimsAt.All(x => x >= 0) ? dimsAt.Sum() : -1) : d).ToArray();
        }

        return OpContext.One(op.Add("Concat", values.Select(op.Graph.Name), OnnxAttributes.Int("axis", axis)), first.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Split(OpContext op, int valueIndex, int axisIndex, long[]? sizes)
    {
        var input = op.Input(valueIndex);
        var axis = op.ConstantInts(axisIndex, "the axis").Single();
        var count = (int)op.Node.Int("num_split");
        var rank = input.Rank;
        IReadOnlyList<string> parts;
        if (sizes is null)
        {
            parts = op.AddMulti("Split", [op.Name(valueIndex)], count, OnnxAttributes.Int("axis", axis), OnnxAttributes.Int("num_outputs", count));
        }
        else
        {
            if (sizes.Count(s => s < 0) > 0)
            {
                var total = input.Dims is { } d && rank is { } r ? d[StaticShapes.Axis(axis, r, op.Node.Name)] : -1;
                if (total < 0 || sizes.Count(s => s < 0) > 1)
                {
                    throw op.Unsupported("SplitV with an inferred (-1) size on an axis of unknown length");
                }

                sizes = sizes.Select(s => s < 0 ? total - sizes.Where(x => x >= 0).Sum() : s).ToArray();
            }

            parts = op.AddMulti("Split", [op.Name(valueIndex), op.Graph.Int64(sizes)], sizes.Length, OnnxAttributes.Int("axis", axis));
        }

        return parts.Select((part, i) =>
        {
            IReadOnlyList<long>? dims = null;
            if (input.Dims is { } d)
            {
                var at = StaticShapes.Axis(axis, d.Count, op.Node.Name);
                var length = sizes?[i] ?? (d[at] >= 0 ? d[at] / count : -1);
                dims = d.Select((x, j) => j == at ? length : x).ToArray();
            }

            return ConvertedTensor.Value(part, input.DType, dims);
        }).ToArray();
    }

    private static IReadOnlyList<ConvertedTensor> Pad(OpContext op, string mode)
    {
        var input = op.Input(0);
        string pads;
        IReadOnlyList<long>? dims = StaticShapes.OfRank(input.Rank);
        if (op.Input(1).Constant is { } constant)
        {
            // TensorFlow: [[begin, end] per axis]; ONNX: [begins…, ends…].
            var values = constant.ToInt64Array();
            var rank = values.Length / 2;
            pads = op.Graph.Int64([.. Enumerable.Range(0, rank).Select(i => values[2 * i]), .. Enumerable.Range(0, rank).Select(i => values[2 * i + 1])]);
            if (input.Dims is { } d && d.Count == rank)
            {
                dims = d.Select((x, i) => x < 0 ? -1 : x + values[2 * i] + values[2 * i + 1]).ToArray();
            }
        }
        else
        {
            var transposed = op.Graph.Transpose(op.Graph.AsInt64(op.Input(1)), [1, 0], op.Node.Name + "_pads_t");
            pads = op.Graph.Builder.AddNode("Reshape", [transposed, op.Graph.Int64([-1])], op.Node.Name + "_pads");
        }

        List<string> inputs = [op.Name(0), pads];
        if (op.Node.Op == "PadV2")
        {
            inputs.Add(op.Name(2));
        }

        return OpContext.One(op.Add("Pad", inputs, OnnxAttributes.String("mode", mode)), input.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Reverse(OpContext op)
    {
        var axes = op.ConstantInts(1, "the axes");
        var input = op.Input(0);
        if (axes.Length == 0)
        {
            return [input];
        }

        // A step of -1 from the last element (start -1) past the first (end = int64 min).
        var starts = op.Graph.Int64(axes.Select(_ => -1L).ToArray());
        var ends = op.Graph.Int64(axes.Select(_ => long.MinValue).ToArray());
        var steps = op.Graph.Int64(axes.Select(_ => -1L).ToArray());
        return OpContext.One(op.Add("Slice", [op.Name(0), starts, ends, op.Graph.Int64(axes), steps]), input.DType, input.Dims);
    }

    private static IReadOnlyList<ConvertedTensor> OneHot(OpContext op)
    {
        var indices = op.Input(0);
        var builder = op.Graph.Builder;
        var name = op.Node.Name;
        var depth = op.Graph.AsInt64(op.Input(1));

        // TensorFlow maps negative indices to all-off rows; ONNX would count them from the end.
        var indices64 = op.Graph.AsInt64(indices);
        var negative = builder.AddNode("Less", [indices64, op.Graph.Int64([0], scalar: true)], name + "_negative");
        var safe = builder.AddNode("Where", [negative, depth, indices64], name + "_indices");
        var zero = op.Graph.Int64([0]);
        var values = builder.AddNode("Concat", [
            builder.AddNode("Unsqueeze", [op.Name(3), zero], name + "_off"),
            builder.AddNode("Unsqueeze", [op.Name(2), zero], name + "_on"),
        ], name + "_values", OnnxAttributes.Int("axis", 0));
        var axis = op.Node.Int("axis");
        IReadOnlyList<long>? dims = null;
        if (indices.Dims is { } d)
        {
            var at = (int)(axis < 0 ? d.Count : axis);
            var depthValue = op.Input(1).Constant?.ToInt64Array()[0] ?? -1;
            dims = [.. d.Take(at), depthValue, .. d.Skip(at)];
        }

        return OpContext.One(op.Add("OneHot", [safe, depth, values], OnnxAttributes.Int("axis", axis)), op.Input(2).DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Gather(OpContext op, string data, ConvertedTensor dataTensor, long axis)
    {
        if (op.Node.TryGetAttr("batch_dims") is { I: not 0 })
        {
            throw op.Unsupported("a gather with batch_dims");
        }

        var indexInput = op.Input(1);
        IReadOnlyList<long>? dims = null;
        if (dataTensor.Dims is { } d && indexInput.Dims is { } id)
        {
            var at = StaticShapes.Axis(axis, d.Count, op.Node.Name);
            dims = [.. d.Take(at), .. id, .. d.Skip(at + 1)];
        }

        return OpContext.One(op.Add("Gather", [data, op.Graph.Name(indexInput)], OnnxAttributes.Int("axis", axis)), dataTensor.DType, dims);
    }
}
