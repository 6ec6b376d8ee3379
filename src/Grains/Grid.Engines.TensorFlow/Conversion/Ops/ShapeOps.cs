using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Shape manipulation: Reshape, Shape/Size/Rank, ExpandDims/Squeeze, Transpose, BroadcastTo, Fill,
/// Tile, Range and Where (indices of true elements). TensorFlow's int32 shape tensors are cast to
/// int64 where ONNX wants int64 and results cast back to TensorFlow's declared type, so every ONNX
/// value keeps its TensorFlow dtype. Shapes of fully static tensors fold to constants.
/// </summary>
internal static class ShapeOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["Reshape"] = Reshape;
        table["Shape"] = Shape;
        table["Size"] = Size;
        table["Rank"] = Rank;
        table["ExpandDims"] = ExpandDims;
        table["Squeeze"] = Squeeze;
        table["Transpose"] = Transpose;
        table["BroadcastTo"] = op => OpContext.One(op.Add("Expand", [op.Name(0), op.Graph.AsInt64(op.Input(1))]), op.Input(0).DType, ConstantDims(op.Input(1)));
        table["Fill"] = op => OpContext.One(op.Add("Expand", [op.Name(1), op.Graph.AsInt64(op.Input(0))]), op.Input(1).DType, ConstantDims(op.Input(0)));
        table["Tile"] = op => OpContext.One(op.Add("Tile", [op.Name(0), op.Graph.AsInt64(op.Input(1))]), op.Input(0).DType, StaticShapes.OfRank(op.Input(0).Rank));
        table["Range"] = op => OpContext.One(op.Add("Range", [op.Name(0), op.Name(1), op.Name(2)]), op.Input(0).DType, [-1]);
        table["Where"] = op =>
        {
            var nonZero = op.Graph.Builder.AddNode("NonZero", [op.Name(0)], op.Node.Name + "_nonzero");
            return OpContext.One(op.Graph.Transpose(nonZero, [1, 0], op.Node.Name), DataType.DtInt64, [-1, op.Input(0).Rank ?? -1]);
        };
    }

    /// <summary>A constant 1-D shape tensor's values as dims (-1 stays unknown), else an unknown shape of the vector's length.</summary>
    public static IReadOnlyList<long>? ConstantDims(ConvertedTensor shape)
        => shape.Constant is { } constant
            ? constant.ToInt64Array()
            : shape.Dims is [var length] && length >= 0 ? StaticShapes.OfRank((int)length) : null;

    private static IReadOnlyList<ConvertedTensor> Reshape(OpContext op)
    {
        var input = op.Input(0);
        IReadOnlyList<long>? dims = ConstantDims(op.Input(1));
        if (dims is not null && input.Dims is { } inDims && inDims.All(d => d >= 0) && dims.Count(d => d < 0) == 1)
        {
            var known = dims.Where(d => d >= 0).Aggregate(1L, (a, b) => a * b);
            var total = inDims.Aggregate(1L, (a, b) => a * b);
            dims = dims.Select(d => d < 0 && known > 0 ? total / known : d).ToArray();
        }

        if (input.Constant is { } constant && dims is not null && dims.All(d => d >= 0))
        {
            return [ConvertedTensor.Const(constant.Reshape(dims))];
        }

        // allowzero=1: a 0 in TensorFlow's shape is an empty dimension, not ONNX's "copy this dimension".
        return OpContext.One(op.Add("Reshape", [op.Name(0), op.Graph.AsInt64(op.Input(1))], OnnxAttributes.Int("allowzero", 1)),
            input.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Shape(OpContext op)
    {
        var outType = TfDataTypes.BaseType(op.Node.Type("out_type"));
        var input = op.Input(0);
        if (input.Dims is { } dims && dims.All(d => d >= 0))
        {
            return [ConvertedTensor.Const(HostTensor.FromInt64([dims.Count], dims).CastTo(outType))];
        }

        var shape = op.Graph.Builder.AddNode("Shape", [op.Name(0)], op.Node.Name + "_i64");
        return OpContext.One(outType == DataType.DtInt64 ? shape : op.Graph.Cast(shape, outType, op.Node.Name), outType, [input.Rank ?? -1]);
    }

    private static IReadOnlyList<ConvertedTensor> Size(OpContext op)
    {
        var outType = TfDataTypes.BaseType(op.Node.Type("out_type"));
        var size = op.Graph.Builder.AddNode("Size", [op.Name(0)], op.Node.Name + "_i64");
        return OpContext.One(outType == DataType.DtInt64 ? size : op.Graph.Cast(size, outType, op.Node.Name), outType, []);
    }

    private static IReadOnlyList<ConvertedTensor> Rank(OpContext op)
    {
        if (op.Input(0).Rank is { } rank)
        {
            return [ConvertedTensor.Const(HostTensor.FromInt32([], [rank]))];
        }

        var shape = op.Graph.Builder.AddNode("Shape", [op.Name(0)], op.Node.Name + "_shape");
        var size = op.Graph.Builder.AddNode("Size", [shape], op.Node.Name + "_i64");
        return OpContext.One(op.Graph.Cast(size, DataType.DtInt32, op.Node.Name), DataType.DtInt32, []);
    }

    private static IReadOnlyList<ConvertedTensor> ExpandDims(OpContext op)
    {
        var input = op.Input(0);
        var axis = op.ConstantInts(1, "the axis").Single();
        IReadOnlyList<long>? dims = null;
        if (input.Dims is { } d)
        {
            var at = (int)(axis < 0 ? axis + d.Count + 1 : axis);
            dims = [.. d.Take(at), 1, .. d.Skip(at)];
        }

        if (input.Constant is { } constant && dims is not null)
        {
            return [ConvertedTensor.Const(constant.Reshape(dims))];
        }

        return OpContext.One(op.Add("Unsqueeze", [op.Name(0), op.Graph.Int64([axis])]), input.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Squeeze(OpContext op)
    {
        var input = op.Input(0);
        var axes = op.Node.Ints("squeeze_dims");
        if (axes.Count == 0)
        {
            if (input.Dims is { } known && known.All(d => d >= 0))
            {
                axes = known.Select((d, i) => (d, (long)i)).Where(p => p.d == 1).Select(p => p.Item2).ToArray();
            }
            else
            {
                // Squeeze every unit axis, decided at run time as TensorFlow does for unknown shapes.
                return OpContext.One(op.Add("Squeeze", [op.Name(0)]), input.DType, null);
            }
        }

        IReadOnlyList<long>? dims = null;
        if (input.Dims is { } d)
        {
            var normalized = axes.Select(a => (long)StaticShapes.Axis(a, d.Count, op.Node.Name)).ToHashSet();
            dims = d.Where((_, i) => !normalized.Contains(i)).ToArray();
        }

        return OpContext.One(op.Add("Squeeze", [op.Name(0), op.Graph.Int64(axes)]), input.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> Transpose(OpContext op)
    {
        var perm = op.ConstantInts(1, "the permutation");
        var input = op.Input(0);
        if (input.Constant is { } constant)
        {
            return [ConvertedTensor.Const(constant.Transpose(perm.Select(p => (int)p).ToArray()))];
        }

        return OpContext.One(op.Graph.Transpose(op.Name(0), perm, op.Node.Name), input.DType, StaticShapes.Permute(input.Dims, perm));
    }
}
