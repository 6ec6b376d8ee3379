using Tensorflow;

namespace Grid.Engines.TensorFlow.Checkpoint;

/// <summary>
/// Bytes per element of the dtypes a checkpoint stores as plain little-endian arrays. DT_STRING
/// has its own encoding; DT_RESOURCE and DT_VARIANT are not plain data and are refused.
/// </summary>
public static class DataTypeSizes
{
    /// <summary>The element size, or null when <paramref name="dataType"/> is not stored as a fixed-size array.</summary>
    public static int? TryOf(DataType dataType) => dataType switch
    {
        DataType.DtBool or DataType.DtUint8 or DataType.DtInt8 or DataType.DtQint8 or DataType.DtQuint8 => 1,
        DataType.DtInt16 or DataType.DtUint16 or DataType.DtHalf or DataType.DtBfloat16
            or DataType.DtQint16 or DataType.DtQuint16 => 2,
        DataType.DtFloat or DataType.DtInt32 or DataType.DtUint32 or DataType.DtQint32 => 4,
        DataType.DtDouble or DataType.DtInt64 or DataType.DtUint64 or DataType.DtComplex64 => 8,
        DataType.DtComplex128 => 16,
        _ => null,
    };

    public static int Of(DataType dataType) =>
        TryOf(dataType) ?? throw new ArgumentException($"{dataType} has no fixed element size.", nameof(dataType));
}
