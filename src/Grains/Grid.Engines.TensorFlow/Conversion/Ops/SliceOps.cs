using Grid.Engines.TensorFlow.Conversion.OnnxModel;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Slice and StridedSlice. StridedSlice's begin/end/strides must be constants; all five masks are
/// translated: begin/end masks open a bound, ellipsis expands to full slices (needs the input's
/// rank), new_axis inserts unit axes (Unsqueeze) and shrink_axis takes one element and drops the
/// axis (Squeeze). A StridedSlice of a 1-D constant (a shape vector) folds to a constant.
/// </summary>
internal static class SliceOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["Slice"] = Slice;
        table["StridedSlice"] = StridedSlice;
    }

    private static IReadOnlyList<ConvertedTensor> Slice(OpContext op)
    {
        var input = op.Input(0);
        var builder = op.Graph.Builder;
        var name = op.Node.Name;
        if (op.Input(1).Constant is { } beginConst && op.Input(2).Constant is { } sizeConst)
        {
            var begin = beginConst.ToInt64Array();
            var size = sizeConst.ToInt64Array();
            var end = begin.Select((b, i) => size[i] < 0 ? long.MaxValue : b + size[i]).ToArray();
            var axes = Enumerable.Range(0, begin.Length).Select(i => (long)i).ToArray();
            IReadOnlyList<long>? dims = input.Dims is { } d && d.Count == begin.Length
                ? d.Select((x, i) => size[i] >= 0 ? size[i] : x < 0 ? -1 : x - begin[i]).ToArray()
                : size.Select(s => s >= 0 ? s : -1).ToArray();
            return OpContext.One(op.Add("Slice", [op.Name(0), op.Graph.Int64(begin), op.Graph.Int64(end), op.Graph.Int64(axes)]), input.DType, dims);
        }

        // Computed bounds: end = begin + size, or the axis end where size is -1.
        var begin64 = op.Graph.AsInt64(op.Input(1));
        var size64 = op.Graph.AsInt64(op.Input(2));
        var toEnd = builder.AddNode("Less", [size64, op.Graph.Int64([0], scalar: true)], name + "_to_end");
        var sum = builder.AddNode("Add", [begin64, size64], name + "_sum");
        var ends = builder.AddNode("Where", [toEnd, op.Graph.Int64([long.MaxValue], scalar: true), sum], name + "_ends");
        return OpContext.One(op.Add("Slice", [op.Name(0), begin64, ends]), input.DType, StaticShapes.OfRank(input.Rank));
    }

    private static IReadOnlyList<ConvertedTensor> StridedSlice(OpContext op)
    {
        var input = op.Input(0);
        var begin = op.ConstantInts(1, "begin");
        var end = op.ConstantInts(2, "end");
        var strides = op.ConstantInts(3, "strides");
        var beginMask = op.Node.Int("begin_mask");
        var endMask = op.Node.Int("end_mask");
        var ellipsisMask = op.Node.Int("ellipsis_mask");
        var newAxisMask = op.Node.Int("new_axis_mask");
        var shrinkMask = op.Node.Int("shrink_axis_mask");
        if (begin.Length != end.Length || begin.Length != strides.Length)
        {
            throw op.Unsupported("begin, end and strides of different lengths");
        }

        var sliceAxes = new List<long>();
        var starts = new List<long>();
        var ends = new List<long>();
        var steps = new List<long>();
        var shrinkAxes = new List<long>();
        var newAxisPositions = new List<long>();
        var outputDims = new List<long>();
        var inputAxis = 0;
        var outputAxis = 0;
        var dims = input.Dims;
        for (var i = 0; i < begin.Length; i++)
        {
            var bit = 1L << i;
            if ((ellipsisMask & bit) != 0)
            {
                var rank = input.Rank ?? throw op.Unsupported("an ellipsis on an input of unknown rank");
                var laterAxes = Enumerable.Range(i + 1, begin.Length - i - 1).Count(j => (newAxisMask & (1L << j)) == 0);
                var covered = rank - inputAxis - laterAxes;
                for (var k = 0; k < covered; k++)
                {
                    outputDims.Add(dims![inputAxis]);
                    inputAxis++;
                    outputAxis++;
                }

                continue;
            }

            if ((newAxisMask & bit) != 0)
            {
                newAxisPositions.Add(outputAxis);
                outputDims.Add(1);
                outputAxis++;
                continue;
            }

            var stride = strides[i];
            if (stride == 0)
            {
                throw ServingExceptionFor(op, "a stride of 0");
            }

            var dimension = dims is not null && inputAxis < dims.Count ? dims[inputAxis] : -1;
            if ((shrinkMask & bit) != 0)
            {
                var at = begin[i];
                sliceAxes.Add(inputAxis);
                starts.Add(at);
                ends.Add(at == -1 ? long.MaxValue : at + 1);
                steps.Add(1);
                shrinkAxes.Add(inputAxis);
                inputAxis++;
                continue;
            }

            var start = (beginMask & bit) != 0 ? (stride > 0 ? 0 : long.MaxValue) : begin[i];
            var stop = (endMask & bit) != 0 ? (stride > 0 ? long.MaxValue : long.MinValue) : end[i];
            sliceAxes.Add(inputAxis);
            starts.Add(start);
            ends.Add(stop);
            steps.Add(stride);
            outputDims.Add(SlicedLength(dimension, start, stop, stride));
            inputAxis++;
            outputAxis++;
        }

        if (dims is not null)
        {
            outputDims.AddRange(dims.Skip(inputAxis));
        }

        var knownDims = dims is null ? null : outputDims;
        if (input.Constant is { Rank: 1 } constant && newAxisPositions.Count == 0 && sliceAxes.Count == 1)
        {
            return [ConvertedTensor.Const(FoldVector(constant, starts[0], ends[0], steps[0], shrinkAxes.Count == 1))];
        }

        var value = op.Name(0);
        var builder = op.Graph.Builder;
        if (sliceAxes.Count > 0)
        {
            value = builder.AddNode("Slice", [value, op.Graph.Int64(starts), op.Graph.Int64(ends), op.Graph.Int64(sliceAxes), op.Graph.Int64(steps)],
                op.Node.Name + "_slice");
        }

        if (shrinkAxes.Count > 0)
        {
            value = builder.AddNode("Squeeze", [value, op.Graph.Int64(shrinkAxes)], op.Node.Name + "_shrink");
        }

        if (newAxisPositions.Count > 0)
        {
            value = builder.AddNode("Unsqueeze", [value, op.Graph.Int64(newAxisPositions)], op.Node.Name + "_newaxis");
        }

        if (value == op.Name(0))
        {
            return [input];
        }

        return OpContext.One(value, input.DType, knownDims);
    }

    /// <summary>Elements [start, stop) by step of a known length, clamped as Python and ONNX clamp; -1 when the length is unknown.</summary>
    private static long SlicedLength(long length, long start, long stop, long step)
    {
        if (length < 0)
        {
            return -1;
        }

        static long Clamp(long index, long length, long low, long high)
        {
            var at = index < 0 ? index + length : index;
            return Math.Clamp(at, low, high);
        }

        var first = step > 0 ? Clamp(start, length, 0, length) : Clamp(start, length, -1, length - 1);
        var last = step > 0 ? Clamp(stop, length, 0, length) : Clamp(stop, length, -1, length - 1);
        var count = step > 0 ? (last - first + step - 1) / step : (first - last - step - 1) / -step;
        return Math.Max(count, 0);
    }

    private static HostTensor FoldVector(HostTensor vector, long start, long stop, long step, bool shrink)
    {
        var values = vector.ToInt64Array();
        var length = values.Length;
        var picked = new List<long>();
        if (shrink)
        {
            picked.Add(values[start < 0 ? start + length : start]);
            return HostTensor.FromInt64([], picked).CastTo(vector.DType);
        }

        var count = SlicedLength(length, start, stop, step);
        var first = start == long.MaxValue ? length - 1 : Math.Clamp(start < 0 ? start + length : start, step > 0 ? 0 : -1, step > 0 ? length : length - 1);
        for (var k = 0; k < count; k++)
        {
            picked.Add(values[first + k * step]);
        }

        return HostTensor.FromInt64([picked.Count], picked).CastTo(vector.DType);
    }

    private static Grid.Serving.ServingException ServingExceptionFor(OpContext op, string what)
        => Grid.Serving.ServingException.InvalidArgument($"node {op.Node}: {what}");
}
