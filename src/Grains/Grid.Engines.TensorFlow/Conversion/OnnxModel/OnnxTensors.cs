using Google.Protobuf;
using Onnx;

namespace Grid.Engines.TensorFlow.Conversion.OnnxModel;

/// <summary>Constructors for small ONNX tensors (initializers and attribute values), stored as raw little-endian bytes.</summary>
public static class OnnxTensors
{
    /// <summary>A tensor of <paramref name="elementType"/> with <paramref name="dims"/> over <paramref name="rawData"/> (little-endian, row-major).</summary>
    public static TensorProto FromRaw(TensorProto.Types.DataType elementType, IReadOnlyList<long> dims, ReadOnlySpan<byte> rawData)
    {
        var tensor = new TensorProto { DataType = (int)elementType, RawData = ByteString.CopyFrom(rawData) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>A 1-D int64 tensor.</summary>
    public static TensorProto Int64Vector(IReadOnlyList<long> values)
        => FromRaw(TensorProto.Types.DataType.Int64, [values.Count], Bytes(values.ToArray()));

    /// <summary>A 0-D int64 tensor.</summary>
    public static TensorProto Int64Scalar(long value)
        => FromRaw(TensorProto.Types.DataType.Int64, [], Bytes(new[] { value }));

    /// <summary>A 0-D float tensor.</summary>
    public static TensorProto FloatScalar(float value)
        => FromRaw(TensorProto.Types.DataType.Float, [], Bytes(new[] { value }));

    /// <summary>A 0-D bool tensor.</summary>
    public static TensorProto BoolScalar(bool value)
        => FromRaw(TensorProto.Types.DataType.Bool, [], [value ? (byte)1 : (byte)0]);

    private static byte[] Bytes<T>(T[] values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this host is not.");
        }

        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
