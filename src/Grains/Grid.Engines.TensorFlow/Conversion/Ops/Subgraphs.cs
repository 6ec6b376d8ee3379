using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Onnx;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>Helpers shared by the converters that build ONNX subgraphs (Loop bodies, If branches).</summary>
internal static class Subgraphs
{
    /// <summary>
    /// How a subgraph sees an outer value it reads unchanged: a constant stays known as a constant to
    /// the subgraph's converters but is stored once, as an initializer of the outer graph; other
    /// values (and resource handles) are the outer tensor itself, referenced by name.
    /// </summary>
    public static ConvertedTensor OuterValue(ConversionContext outer, ConvertedTensor value)
        => value.Constant is { } constant ? ConvertedTensor.Const(constant, outer.Name(value)) : value;

    /// <summary>The ONNX type of a value: a tensor of its element type, or a sequence of such tensors (shape left open).</summary>
    public static TypeProto ValueType(ConvertedTensor value)
    {
        var element = OnnxGraphBuilder.TensorType(TfDataTypes.ToOnnx(value.DType), null, "");
        return value.IsSequence ? new TypeProto { SequenceType = new TypeProto.Types.Sequence { ElemType = element } } : element;
    }
}
