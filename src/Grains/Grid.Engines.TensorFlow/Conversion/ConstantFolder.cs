using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// Computes, at conversion time, tensors that a graph builds from constants only: the keys,
/// values and defaults a host stage or a lookup table needs as values, not as ONNX nodes
/// (ParseExample's <c>dense_defaults</c>, often a Reshape of a Const; a table's keys, often a
/// Cast of a Range). Handles Const, the pass-throughs (Identity, Snapshot, StopGradient), Cast,
/// Range, Reshape, ExpandDims and Squeeze; anything else is not a constant here and throws an
/// Unimplemented <see cref="ServingException"/> naming the node and <paramref name="what"/>.
/// </summary>
internal static class ConstantFolder
{
    /// <summary>The value of <paramref name="tensor"/>; <paramref name="what"/> says what it is for, in errors.</summary>
    public static HostTensor Fold(TensorRef tensor, string what)
    {
        var node = tensor.Node;
        if (tensor.Index != 0 && node.Op != "IdentityN")
        {
            throw NotConstant(node, what);
        }

        switch (node.Op)
        {
            case "Const":
                return HostTensor.FromProto(node.Attr("value").Tensor);
            case "Identity" or "Snapshot" or "StopGradient" or "PreventGradient":
                return Fold(node.Inputs[0], what);
            case "IdentityN":
                return Fold(node.Inputs[tensor.Index], what);
            case "Cast":
            {
                var value = Fold(node.Inputs[0], what);
                return value.DType == DataType.DtString ? value : value.CastTo(node.Type("DstT"));
            }
            case "Range":
            {
                var start = Fold(node.Inputs[0], what);
                var limit = Fold(node.Inputs[1], what);
                var delta = Fold(node.Inputs[2], what);
                return Range(node, start, limit, delta);
            }
            case "Reshape":
            {
                var value = Fold(node.Inputs[0], what);
                var shape = Fold(node.Inputs[1], what).ToInt64Array();
                var known = shape.Where(d => d >= 0).Aggregate(1L, (a, b) => a * b);
                var resolved = shape.Select(d => d >= 0 ? d : known == 0 ? 0 : value.ElementCount / known).ToArray();
                return value.Reshape(resolved);
            }
            case "ExpandDims":
            {
                var value = Fold(node.Inputs[0], what);
                var axis = (int)Fold(node.Inputs[1], what).ToInt64Array()[0];
                axis = axis < 0 ? axis + value.Rank + 1 : axis;
                var shape = value.Shape.ToList();
                shape.Insert(axis, 1);
                return value.Reshape(shape);
            }
            case "Squeeze":
            {
                var value = Fold(node.Inputs[0], what);
                var dims = node.Ints("squeeze_dims").Select(d => d < 0 ? d + value.Rank : d).ToHashSet();
                return value.Reshape(value.Shape.Where((d, i) => !(d == 1 && (dims.Count == 0 || dims.Contains(i)))).ToArray());
            }
            default:
                throw NotConstant(node, what);
        }
    }

    private static HostTensor Range(TfNode node, HostTensor start, HostTensor limit, HostTensor delta)
    {
        var dtype = node.TryGetAttr("Tidx")?.Type ?? start.DType;
        if (TfDataTypes.IsInteger(dtype))
        {
            var (s, l, d) = (start.ToInt64Array()[0], limit.ToInt64Array()[0], delta.ToInt64Array()[0]);
            if (d == 0)
            {
                throw ServingException.InvalidArgument($"node {node}: Requires delta != 0: {d}");
            }

            var values = new List<long>();
            for (var v = s; d > 0 ? v < l : v > l; v += d)
            {
                values.Add(v);
            }

            var result = HostTensor.FromInt64([values.Count], values);
            return dtype == DataType.DtInt64 ? result : result.CastTo(dtype);
        }

        var (fs, fl, fd) = (start.ToDoubleArray()[0], limit.ToDoubleArray()[0], delta.ToDoubleArray()[0]);
        var count = (long)Math.Ceiling(Math.Abs((fl - fs) / fd));
        var floats = new float[count];
        for (var i = 0; i < count; i++)
        {
            floats[i] = (float)(fs + (i * fd));
        }

        return HostTensor.FromFloat([count], floats);
    }

    private static ServingException NotConstant(TfNode node, string what)
        => new(ServingStatusCode.Unimplemented,
            $"{what} must be computed from constants only, but node {node} is not one Grid can evaluate at load time");
}
