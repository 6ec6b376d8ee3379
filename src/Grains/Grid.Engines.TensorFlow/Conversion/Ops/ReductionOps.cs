using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Reductions (Sum, Mean, Max, Min, Prod, All, Any with keep_dims), ArgMax/ArgMin, TopKV2 and
/// Cumsum. Reduction axes may be a scalar, a vector or computed; an empty axis list reduces
/// nothing, as in TensorFlow (ONNX's <c>noop_with_empty_axes=1</c>). All/Any reduce a 0/1 cast.
/// </summary>
internal static class ReductionOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        foreach (var (tf, onnx) in new[] { ("Sum", "ReduceSum"), ("Mean", "ReduceMean"), ("Max", "ReduceMax"), ("Min", "ReduceMin"), ("Prod", "ReduceProd") })
        {
            table[tf] = op => Reduce(op, onnx);
        }

        table["All"] = op => Logical(op, "ReduceMin");
        table["Any"] = op => Logical(op, "ReduceMax");
        table["ArgMax"] = op => ArgReduce(op, "ArgMax");
        table["ArgMin"] = op => ArgReduce(op, "ArgMin");
        table["TopKV2"] = TopK;
        table["Cumsum"] = op => OpContext.One(
            op.Add("CumSum", [op.Name(0), op.Graph.AsInt64(op.Input(1))],
                OnnxAttributes.Int("exclusive", op.Node.Bool("exclusive") ? 1 : 0), OnnxAttributes.Int("reverse", op.Node.Bool("reverse") ? 1 : 0)),
            op.Input(0).DType, op.Input(0).Dims);
    }

    private static IReadOnlyList<ConvertedTensor> Reduce(OpContext op, string onnx)
    {
        var (axes, dims) = Axes(op);
        var keep = op.Node.Bool("keep_dims");
        return OpContext.One(
            op.Add(onnx, [op.Name(0), axes], OnnxAttributes.Int("keepdims", keep ? 1 : 0), OnnxAttributes.Int("noop_with_empty_axes", 1)),
            op.Input(0).DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Logical(OpContext op, string onnx)
    {
        var (axes, dims) = Axes(op);
        var keep = op.Node.Bool("keep_dims");
        var asInt = op.Graph.Cast(op.Name(0), DataType.DtInt32, op.Node.Name + "_int");
        var reduced = op.Graph.Builder.AddNode(onnx, [asInt, axes], op.Node.Name + "_reduced",
            OnnxAttributes.Int("keepdims", keep ? 1 : 0), OnnxAttributes.Int("noop_with_empty_axes", 1));
        return OpContext.One(op.Graph.Cast(reduced, DataType.DtBool, op.Node.Name), DataType.DtBool, dims);
    }

    /// <summary>The axes as a 1-D int64 ONNX value, and the static result shape when the axes are constant.</summary>
    private static (string Axes, IReadOnlyList<long>? Dims) Axes(OpContext op)
    {
        var input = op.Input(0);
        var keep = op.Node.Bool("keep_dims");
        if (op.Input(1).Constant is { } constant)
        {
            var axes = constant.ToInt64Array();
            IReadOnlyList<long>? dims = null;
            if (input.Rank is { } rank)
            {
                var normalized = axes.Select(a => (long)StaticShapes.Axis(a, rank, op.Node.Name)).ToHashSet();
                dims = StaticShapes.Reduce(input.Dims, normalized, keep);
            }

            return (op.Graph.Int64(axes), dims);
        }

        var vector = op.Graph.Builder.AddNode("Reshape", [op.Graph.AsInt64(op.Input(1)), op.Graph.Int64([-1])], op.Node.Name + "_axes");
        return (vector, keep ? StaticShapes.OfRank(input.Rank) : null);
    }

    private static IReadOnlyList<ConvertedTensor> ArgReduce(OpContext op, string onnx)
    {
        var input = op.Input(0);
        var axis = op.ConstantInts(1, "the dimension").Single();
        var outType = TfDataTypes.BaseType(op.Node.Type("output_type"));
        var reduced = op.Graph.Builder.AddNode(onnx, [op.Name(0)], op.Node.Name + "_i64",
            OnnxAttributes.Int("axis", axis), OnnxAttributes.Int("keepdims", 0));
        var dims = input.Rank is { } rank ? StaticShapes.Reduce(input.Dims, [StaticShapes.Axis(axis, rank, op.Node.Name)], false) : null;
        return OpContext.One(outType == DataType.DtInt64 ? reduced : op.Graph.Cast(reduced, outType, op.Node.Name), outType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> TopK(OpContext op)
    {
        var input = op.Input(0);
        var k = op.Graph.Builder.AddNode("Reshape", [op.Graph.AsInt64(op.Input(1)), op.Graph.Int64([1])], op.Node.Name + "_k");
        var outputs = op.AddMulti("TopK", [op.Name(0), k], 2,
            OnnxAttributes.Int("axis", -1), OnnxAttributes.Int("largest", 1), OnnxAttributes.Int("sorted", op.Node.Bool("sorted") ? 1 : 0));
        IReadOnlyList<long>? dims = input.Dims is { Count: > 0 } d
            ? [.. d.Take(d.Count - 1), op.Input(1).Constant?.ToInt64Array()[0] ?? -1]
            : null;
        var indices = op.Graph.Cast(outputs[1], DataType.DtInt32, op.Node.Name + "_indices");
        return [ConvertedTensor.Value(outputs[0], input.DType, dims), ConvertedTensor.Value(indices, DataType.DtInt32, dims)];
    }
}
