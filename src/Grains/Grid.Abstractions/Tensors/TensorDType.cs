namespace Grid.Tensors;

/// <summary>
/// Element type of a tensor. Values equal TensorFlow's <c>DataType</c> numbers so protocol
/// adapters convert by cast; only the types Grid can serve are listed.
/// </summary>
[GenerateSerializer]
public enum TensorDType
{
    Invalid = 0,
    Float = 1,
    Double = 2,
    Int32 = 3,
    UInt8 = 4,
    Int16 = 5,
    Int8 = 6,
    String = 7,
    Int64 = 9,
    Bool = 10,
    UInt16 = 17,
    Half = 19,
    UInt32 = 22,
    UInt64 = 23,
}

public static class TensorDTypeExtensions
{
    /// <summary>Bytes per element in the raw little-endian encoding; 0 for variable-size strings.</summary>
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.Float => 4,
        TensorDType.Double => 8,
        TensorDType.Int32 => 4,
        TensorDType.UInt8 => 1,
        TensorDType.Int16 => 2,
        TensorDType.Int8 => 1,
        TensorDType.Int64 => 8,
        TensorDType.Bool => 1,
        TensorDType.UInt16 => 2,
        TensorDType.Half => 2,
        TensorDType.UInt32 => 4,
        TensorDType.UInt64 => 8,
        _ => 0,
    };

    /// <summary>TensorFlow's enum name, e.g. <c>DT_FLOAT</c>.</summary>
    public static string TfName(this TensorDType dtype) => dtype switch
    {
        TensorDType.Float => "DT_FLOAT",
        TensorDType.Double => "DT_DOUBLE",
        TensorDType.Int32 => "DT_INT32",
        TensorDType.UInt8 => "DT_UINT8",
        TensorDType.Int16 => "DT_INT16",
        TensorDType.Int8 => "DT_INT8",
        TensorDType.String => "DT_STRING",
        TensorDType.Int64 => "DT_INT64",
        TensorDType.Bool => "DT_BOOL",
        TensorDType.UInt16 => "DT_UINT16",
        TensorDType.Half => "DT_HALF",
        TensorDType.UInt32 => "DT_UINT32",
        TensorDType.UInt64 => "DT_UINT64",
        _ => "DT_INVALID",
    };

    /// <summary>TensorFlow's short type name used in its error messages, e.g. <c>float</c>.</summary>
    public static string ShortName(this TensorDType dtype) => dtype switch
    {
        TensorDType.Float => "float",
        TensorDType.Double => "double",
        TensorDType.Int32 => "int32",
        TensorDType.UInt8 => "uint8",
        TensorDType.Int16 => "int16",
        TensorDType.Int8 => "int8",
        TensorDType.String => "string",
        TensorDType.Int64 => "int64",
        TensorDType.Bool => "bool",
        TensorDType.UInt16 => "uint16",
        TensorDType.Half => "half",
        TensorDType.UInt32 => "uint32",
        TensorDType.UInt64 => "uint64",
        _ => "invalid",
    };
}
