using Grid.Engines.TensorFlow.Conversion.OnnxModel;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// FusedBatchNorm (V1–V3) in inference form (<c>is_training=false</c>): ONNX BatchNormalization with
/// TensorFlow's epsilon. Outputs: y, then batch_mean and batch_variance, which in inference mode are
/// the given mean and variance; the reserve-space outputs exist only for training and are not
/// produced (a graph consuming them fails to convert). Training-mode batch norm is unsupported.
/// </summary>
internal static class NormalizationOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["FusedBatchNorm"] = BatchNorm;
        table["FusedBatchNormV2"] = BatchNorm;
        table["FusedBatchNormV3"] = BatchNorm;
    }

    private static IReadOnlyList<ConvertedTensor> BatchNorm(OpContext op)
    {
        if (op.Node.Bool("is_training"))
        {
            throw op.Unsupported("FusedBatchNorm with is_training=true (batch statistics)");
        }

        var format = op.Node.String("data_format");
        var channelsLast = Layout.IsChannelsLast(op, format);
        var rank = format.Length;
        var input = op.Input(0);
        var x = Layout.InputFirst(op, 0, channelsLast, rank);
        var parameters = Enumerable.Range(1, 4).Select(i => Float(op, i)).ToArray();
        var y = op.Graph.Builder.AddNode("BatchNormalization", [x, .. parameters], op.Node.Name + "_bn",
            OnnxAttributes.Float("epsilon", op.Node.Float("epsilon")));
        return
        [
            ConvertedTensor.Value(Layout.OutputLast(op, y, channelsLast, rank), input.DType, input.Dims ?? StaticShapes.OfRank(rank)),
            op.Input(3),
            op.Input(4),
        ];
    }

    /// <summary>Scale, offset, mean and variance are float even for half inputs; ONNX wants the input's type.</summary>
    private static string Float(OpContext op, int index)
        => op.Input(index).DType == op.Input(0).DType
            ? op.Name(index)
            : op.Graph.Cast(op.Name(index), op.Input(0).DType, op.Node.Name + "_param");
}
