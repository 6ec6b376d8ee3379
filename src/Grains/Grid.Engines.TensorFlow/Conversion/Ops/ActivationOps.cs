using Grid.Engines.TensorFlow.Conversion.OnnxModel;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Activations. TensorFlow's Softmax and LogSoftmax work on the last axis, as ONNX's do from
/// opset 13 on (<c>axis=-1</c>). ONNX Selu's default alpha and gamma are TensorFlow's constants.
/// Keras' exact GELU is built from Erf and arithmetic, which <see cref="ElementwiseOps"/> covers.
/// </summary>
internal static class ActivationOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        foreach (var (tf, onnx) in new[]
                 {
                     ("Relu", "Relu"), ("Elu", "Elu"), ("Selu", "Selu"), ("Softplus", "Softplus"),
                     ("Softsign", "Softsign"), ("Sigmoid", "Sigmoid"), ("Tanh", "Tanh"),
                 })
        {
            table[tf] = op => Same(op, op.Add(onnx, [op.Name(0)]));
        }

        table["Relu6"] = op => Same(op, op.Add("Clip", [op.Name(0), op.Graph.Scalar(op.Input(0).DType, 0), op.Graph.Scalar(op.Input(0).DType, 6)]));
        table["LeakyRelu"] = op => Same(op, op.Add("LeakyRelu", [op.Name(0)], OnnxAttributes.Float("alpha", op.Node.Float("alpha"))));
        table["Softmax"] = op => Same(op, op.Add("Softmax", [op.Name(0)], OnnxAttributes.Int("axis", -1)));
        table["LogSoftmax"] = op => Same(op, op.Add("LogSoftmax", [op.Name(0)], OnnxAttributes.Int("axis", -1)));
    }

    private static IReadOnlyList<ConvertedTensor> Same(OpContext op, string output)
        => OpContext.One(output, op.Input(0).DType, op.Input(0).Dims);
}
