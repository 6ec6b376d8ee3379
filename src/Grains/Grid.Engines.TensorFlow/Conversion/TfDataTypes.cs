using Grid.Serving;
using Tensorflow;
using OnnxType = Onnx.TensorProto.Types.DataType;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>TensorFlow <see cref="DataType"/> facts the converter needs: the ONNX twin and the element size.</summary>
public static class TfDataTypes
{
    /// <summary>The value type of a reference type (<c>DT_FLOAT_REF</c> → <c>DT_FLOAT</c>); other types unchanged.</summary>
    public static DataType BaseType(DataType type) => (int)type > 100 ? (DataType)((int)type - 100) : type;

    /// <summary>True when ONNX has a tensor element type for <paramref name="type"/>.</summary>
    public static bool HasOnnxType(DataType type) => TryToOnnx(type, out _);

    /// <summary>The ONNX element type of <paramref name="type"/>; throws for types ONNX has no tensor of (resource, variant, quantized).</summary>
    public static OnnxType ToOnnx(DataType type) => TryToOnnx(type, out var onnx)
        ? onnx
        : throw new ServingException(ServingStatusCode.Unimplemented, $"TensorFlow dtype {type} has no ONNX tensor type");

    public static bool TryToOnnx(DataType type, out OnnxType onnx)
    {
        onnx = BaseType(type) switch
        {
            DataType.DtFloat => OnnxType.Float,
            DataType.DtDouble => OnnxType.Double,
            DataType.DtHalf => OnnxType.Float16,
            DataType.DtBfloat16 => OnnxType.Bfloat16,
            DataType.DtInt8 => OnnxType.Int8,
            DataType.DtInt16 => OnnxType.Int16,
            DataType.DtInt32 => OnnxType.Int32,
            DataType.DtInt64 => OnnxType.Int64,
            DataType.DtUint8 => OnnxType.Uint8,
            DataType.DtUint16 => OnnxType.Uint16,
            DataType.DtUint32 => OnnxType.Uint32,
            DataType.DtUint64 => OnnxType.Uint64,
            DataType.DtBool => OnnxType.Bool,
            DataType.DtString => OnnxType.String,
            _ => OnnxType.Undefined,
        };
        return onnx != OnnxType.Undefined;
    }

    /// <summary>Bytes per element of a fixed-size type; 0 for strings and types without a fixed size.</summary>
    public static int ElementSize(DataType type) => BaseType(type) switch
    {
        DataType.DtFloat or DataType.DtInt32 or DataType.DtUint32 => 4,
        DataType.DtDouble or DataType.DtInt64 or DataType.DtUint64 or DataType.DtComplex64 => 8,
        DataType.DtHalf or DataType.DtBfloat16 or DataType.DtInt16 or DataType.DtUint16 => 2,
        DataType.DtInt8 or DataType.DtUint8 or DataType.DtBool => 1,
        DataType.DtComplex128 => 16,
        _ => 0,
    };

    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloat(DataType type) => BaseType(type) is DataType.DtFloat or DataType.DtDouble or DataType.DtHalf or DataType.DtBfloat16;

    /// <summary>True for the signed and unsigned integer types.</summary>
    public static bool IsInteger(DataType type) => BaseType(type) is DataType.DtInt8 or DataType.DtInt16 or DataType.DtInt32
        or DataType.DtInt64 or DataType.DtUint8 or DataType.DtUint16 or DataType.DtUint32 or DataType.DtUint64;
}
