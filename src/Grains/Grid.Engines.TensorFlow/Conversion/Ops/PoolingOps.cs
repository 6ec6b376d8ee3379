using Grid.Engines.TensorFlow.Conversion.OnnxModel;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Max and average pooling, 2-D and 3-D, in either data format. SAME padding maps to
/// auto_pad SAME_UPPER; padded cells never win a max and are not counted in an average
/// (TensorFlow's and ONNX's default <c>count_include_pad=0</c> agree).
/// </summary>
internal static class PoolingOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["MaxPool"] = op => Pool(op, "MaxPool");
        table["MaxPool3D"] = op => Pool(op, "MaxPool");
        table["AvgPool"] = op => Pool(op, "AveragePool");
        table["AvgPool3D"] = op => Pool(op, "AveragePool");
        table["MaxPoolV2"] = op => Pool(op, "MaxPool");
    }

    private static IReadOnlyList<ConvertedTensor> Pool(OpContext op, string onnxOp)
    {
        var format = op.Node.String("data_format");
        var channelsLast = Layout.IsChannelsLast(op, format);
        var rank = format.Length;
        var input = op.Input(0);
        var (ksizeAll, stridesAll) = op.Node.Op == "MaxPoolV2"
            ? (op.ConstantInts(1, "ksize"), op.ConstantInts(2, "strides"))
            : (op.Node.Ints("ksize").ToArray(), op.Node.Ints("strides").ToArray());
        var ksize = Layout.Spatial(op, ksizeAll, channelsLast, rank, "ksize");
        var strides = Layout.Spatial(op, stridesAll, channelsLast, rank, "strides");
        if (ksizeAll[0] != 1 || stridesAll[0] != 1 || ksizeAll[channelsLast ? rank - 1 : 1] != 1)
        {
            throw op.Unsupported("pooling across the batch or channel axis");
        }

        var x = Layout.InputFirst(op, 0, channelsLast, rank);
        var y = op.Graph.Builder.AddNode(onnxOp, [x], op.Node.Name + "_pool",
            OnnxAttributes.Ints("kernel_shape", ksize), OnnxAttributes.Ints("strides", strides), Layout.Padding(op, channelsLast, rank));
        var padding = op.Node.String("padding");
        IReadOnlyList<long>? dims = StaticShapes.OfRank(rank);
        if (input.Dims is { } d && d.Count == rank && padding != "EXPLICIT")
        {
            var spatial = ksize.Select((k, i) => Layout.OutputSize(padding, d[channelsLast ? i + 1 : i + 2], k, strides[i], 1, 0)).ToArray();
            dims = channelsLast ? [d[0], .. spatial, d[rank - 1]] : [d[0], d[1], .. spatial];
        }

        return OpContext.One(Layout.OutputLast(op, y, channelsLast, rank), input.DType, dims);
    }
}
