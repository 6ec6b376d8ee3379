using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Onnx;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Data-format handling shared by convolutions, pools and batch norm. ONNX's are channels-first
/// (NCHW, NCDHW); TensorFlow's usually channels-last (NHWC, NDHWC), so a channels-last op is
/// wrapped in Transposes (ONNX Runtime's transpose optimizer cancels back-to-back pairs).
/// </summary>
internal static class Layout
{
    /// <summary>True for NHWC/NDHWC/NWC; false for NCHW/NCDHW; throws for other formats.</summary>
    public static bool IsChannelsLast(OpContext op, string format) => format switch
    {
        "NHWC" or "NDHWC" or "NWC" => true,
        "NCHW" or "NCDHW" or "NCW" => false,
        _ => throw op.Unsupported($"data_format {format}"),
    };

    /// <summary>Permutation taking channels-last to channels-first for a tensor of <paramref name="rank"/>.</summary>
    public static long[] ToFirst(int rank) => [0, rank - 1, .. Enumerable.Range(1, rank - 2).Select(i => (long)i)];

    /// <summary>Permutation taking channels-first back to channels-last.</summary>
    public static long[] ToLast(int rank) => [0, .. Enumerable.Range(2, rank - 2).Select(i => (long)i), 1];

    /// <summary>The spatial entries of a per-dimension attribute (strides, ksize, dilations) in data-format order.</summary>
    public static long[] Spatial(OpContext op, IReadOnlyList<long> values, bool channelsLast, int rank, string what)
    {
        if (values.Count != rank)
        {
            throw op.Unsupported($"{what} with {values.Count} entries for a rank-{rank} op");
        }

        return channelsLast ? values.Skip(1).Take(rank - 2).ToArray() : values.Skip(2).ToArray();
    }

    /// <summary>
    /// ONNX padding attributes for TensorFlow's <c>padding</c>: SAME → auto_pad SAME_UPPER (TensorFlow
    /// also puts the odd pixel at the end), VALID → VALID, EXPLICIT → pads from <c>explicit_paddings</c>.
    /// </summary>
    public static AttributeProto Padding(OpContext op, bool channelsLast, int rank)
    {
        var padding = op.Node.String("padding");
        switch (padding)
        {
            case "SAME":
                return OnnxAttributes.String("auto_pad", "SAME_UPPER");
            case "VALID":
                return OnnxAttributes.String("auto_pad", "VALID");
            case "EXPLICIT":
                var (begins, ends) = ExplicitPads(op, channelsLast, rank);
                return OnnxAttributes.Ints("pads", [.. begins, .. ends]);
            default:
                throw op.Unsupported($"padding {padding}");
        }
    }

    /// <summary>The spatial (begin, end) pads of an EXPLICIT-padding op.</summary>
    public static (long[] Begins, long[] Ends) ExplicitPads(OpContext op, bool channelsLast, int rank)
    {
        var explicitPads = op.Node.Ints("explicit_paddings");
        if (explicitPads.Count != 2 * rank)
        {
            throw op.Unsupported($"explicit_paddings with {explicitPads.Count} entries for a rank-{rank} op");
        }

        var axes = channelsLast ? Enumerable.Range(1, rank - 2) : Enumerable.Range(2, rank - 2);
        return (axes.Select(a => explicitPads[2 * a]).ToArray(), axes.Select(a => explicitPads[2 * a + 1]).ToArray());
    }

    /// <summary>
    /// The output size of one spatial axis, or -1 when unknown: SAME ceil(in/stride), VALID
    /// ceil((in - effective kernel + 1)/stride), EXPLICIT floor((in + pads - effective kernel)/stride) + 1.
    /// </summary>
    public static long OutputSize(string padding, long input, long kernel, long stride, long dilation, long padTotal)
    {
        if (input < 0 || kernel < 0)
        {
            return padding == "SAME" && input >= 0 ? (input + stride - 1) / stride : -1;
        }

        var effective = (kernel - 1) * dilation + 1;
        return padding switch
        {
            "SAME" => (input + stride - 1) / stride,
            "VALID" => (input - effective + stride) / stride,
            _ => (input + padTotal - effective) / stride + 1,
        };
    }

    /// <summary>Input value in channels-first layout.</summary>
    public static string InputFirst(OpContext op, int index, bool channelsLast, int rank)
        => channelsLast ? op.Graph.Transpose(op.Name(index), ToFirst(rank), op.Node.Name + "_nchw") : op.Name(index);

    /// <summary>An op result back in the op's data format.</summary>
    public static string OutputLast(OpContext op, string value, bool channelsLast, int rank)
        => channelsLast ? op.Graph.Transpose(value, ToLast(rank), op.Node.Name) : value;
}
