using Google.Protobuf;
using Onnx;

namespace Grid.Engines.TensorFlow.Conversion.OnnxModel;

/// <summary>Typed constructors for ONNX node attributes (each sets the matching <c>type</c>).</summary>
public static class OnnxAttributes
{
    public static AttributeProto Int(string name, long value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto String(string name, ByteString value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = value };

    public static AttributeProto Strings(string name, IEnumerable<ByteString> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values);
        return attribute;
    }

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Floats(string name, IEnumerable<float> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        attribute.Floats.AddRange(values);
        return attribute;
    }

    public static AttributeProto Tensor(string name, TensorProto value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    public static AttributeProto Graph(string name, GraphProto value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = value };
}
