using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grid.Serving;
using Tensorflow;
using OnnxTensorProto = Onnx.TensorProto;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// A tensor value known at conversion time (a <c>Const</c>, a variable's value, a folded shape):
/// a TensorFlow dtype, a static shape and the elements as little-endian row-major bytes, or, for
/// <c>DT_STRING</c>, one byte string per element. Immutable.
/// </summary>
public sealed class HostTensor
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly IReadOnlyList<ByteString>? _strings;

    /// <summary>
    /// A fixed-size-element tensor over <paramref name="data"/> (not copied: the caller keeps it
    /// unchanged). Throws when the byte count does not match the shape and dtype.
    /// </summary>
    public HostTensor(DataType dtype, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        DType = TfDataTypes.BaseType(dtype);
        Shape = shape.ToArray();
        var size = TfDataTypes.ElementSize(DType);
        if (size == 0 || DType is DataType.DtComplex64 or DataType.DtComplex128)
        {
            throw new ServingException(ServingStatusCode.Unimplemented, $"constant tensors of {DType} are not supported");
        }

        if (data.Length != ElementCount * size)
        {
            throw ServingException.InvalidArgument(
                $"tensor of {DType} shape [{string.Join(",", Shape)}] needs {ElementCount * size} bytes, got {data.Length}");
        }

        _data = data;
    }

    /// <summary>A <c>DT_STRING</c> tensor with one byte string per element.</summary>
    public HostTensor(IReadOnlyList<long> shape, IReadOnlyList<ByteString> strings)
    {
        DType = DataType.DtString;
        Shape = shape.ToArray();
        if (strings.Count != ElementCount)
        {
            throw ServingException.InvalidArgument($"string tensor of shape [{string.Join(",", Shape)}] has {strings.Count} elements");
        }

        _strings = strings;
    }

    public DataType DType { get; }

    public IReadOnlyList<long> Shape { get; }

    public int Rank => Shape.Count;

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The elements of a <c>DT_STRING</c> tensor; null for other dtypes.</summary>
    public IReadOnlyList<ByteString>? Strings => _strings;

    /// <summary>The raw little-endian bytes (empty for strings).</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>Decodes a TensorFlow <see cref="TensorProto"/>: <c>tensor_content</c> or the typed value lists, whose last value repeats to fill the shape.</summary>
    public static HostTensor FromProto(TensorProto proto)
    {
        var dtype = TfDataTypes.BaseType(proto.Dtype);
        var shape = proto.TensorShape?.Dim.Select(d => d.Size).ToArray() ?? [];
        if (shape.Any(d => d < 0))
        {
            throw ServingException.InvalidArgument("a constant tensor has an unknown dimension");
        }

        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (dtype == DataType.DtString)
        {
            return new HostTensor(shape, Repeat(proto.StringVal, count, ByteString.Empty));
        }

        if (!proto.TensorContent.IsEmpty)
        {
            return new HostTensor(dtype, shape, proto.TensorContent.ToByteArray());
        }

        var size = TfDataTypes.ElementSize(dtype);
        var bytes = new byte[count * size];
        var span = bytes.AsSpan();
        for (var i = 0; i < count; i++)
        {
            var at = span[(i * size)..];
            switch (dtype)
            {
                case DataType.DtFloat: BinaryPrimitives.WriteSingleLittleEndian(at, Pick(proto.FloatVal, i)); break;
                case DataType.DtDouble: BinaryPrimitives.WriteDoubleLittleEndian(at, Pick(proto.DoubleVal, i)); break;
                case DataType.DtInt64: BinaryPrimitives.WriteInt64LittleEndian(at, Pick(proto.Int64Val, i)); break;
                case DataType.DtUint64: BinaryPrimitives.WriteUInt64LittleEndian(at, Pick(proto.Uint64Val, i)); break;
                case DataType.DtUint32: BinaryPrimitives.WriteUInt32LittleEndian(at, Pick(proto.Uint32Val, i)); break;
                case DataType.DtInt32: BinaryPrimitives.WriteInt32LittleEndian(at, Pick(proto.IntVal, i)); break;
                case DataType.DtInt16: case DataType.DtUint16: BinaryPrimitives.WriteInt16LittleEndian(at, (short)Pick(proto.IntVal, i)); break;
                case DataType.DtInt8: case DataType.DtUint8: at[0] = (byte)Pick(proto.IntVal, i); break;
                case DataType.DtBool: at[0] = Pick(proto.BoolVal, i) ? (byte)1 : (byte)0; break;
                case DataType.DtHalf: case DataType.DtBfloat16: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)Pick(proto.HalfVal, i)); break;
                default: throw new ServingException(ServingStatusCode.Unimplemented, $"constant tensors of {dtype} are not supported");
            }
        }

        return new HostTensor(dtype, shape, bytes);
    }

    /// <summary>An int64 tensor of <paramref name="shape"/>.</summary>
    public static HostTensor FromInt64(IReadOnlyList<long> shape, IReadOnlyList<long> values)
        => new(DataType.DtInt64, shape, MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray());

    /// <summary>An int32 tensor of <paramref name="shape"/>.</summary>
    public static HostTensor FromInt32(IReadOnlyList<long> shape, IReadOnlyList<int> values)
        => new(DataType.DtInt32, shape, MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray());

    /// <summary>A float tensor of <paramref name="shape"/>.</summary>
    public static HostTensor FromFloat(IReadOnlyList<long> shape, IReadOnlyList<float> values)
        => new(DataType.DtFloat, shape, MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray());

    /// <summary>The elements of an integer or bool tensor widened to int64; throws for other dtypes.</summary>
    public long[] ToInt64Array()
    {
        var span = _data.Span;
        var result = new long[ElementCount];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = DType switch
            {
                DataType.DtInt32 => BinaryPrimitives.ReadInt32LittleEndian(span[(i * 4)..]),
                DataType.DtInt64 => BinaryPrimitives.ReadInt64LittleEndian(span[(i * 8)..]),
                DataType.DtUint32 => BinaryPrimitives.ReadUInt32LittleEndian(span[(i * 4)..]),
                DataType.DtInt16 => BinaryPrimitives.ReadInt16LittleEndian(span[(i * 2)..]),
                DataType.DtUint16 => BinaryPrimitives.ReadUInt16LittleEndian(span[(i * 2)..]),
                DataType.DtInt8 => (sbyte)span[i],
                DataType.DtUint8 or DataType.DtBool => span[i],
                _ => throw ServingException.InvalidArgument($"expected an integer constant, got {DType}"),
            };
        }

        return result;
    }

    /// <summary>The elements of a float, double or integer tensor as doubles; throws for other dtypes.</summary>
    public double[] ToDoubleArray()
    {
        if (DType is DataType.DtFloat or DataType.DtDouble)
        {
            var span = _data.Span;
            var result = new double[ElementCount];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = DType == DataType.DtFloat
                    ? BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..])
                    : BinaryPrimitives.ReadDoubleLittleEndian(span[(i * 8)..]);
            }

            return result;
        }

        return ToInt64Array().Select(v => (double)v).ToArray();
    }

    /// <summary>The same values as <paramref name="dtype"/> (integer, float and bool types); integers to float round to nearest.</summary>
    public HostTensor CastTo(DataType dtype)
    {
        dtype = TfDataTypes.BaseType(dtype);
        if (dtype == DType)
        {
            return this;
        }

        if (dtype == DataType.DtInt64 && TfDataTypes.IsInteger(DType))
        {
            return FromInt64(Shape, ToInt64Array());
        }

        if (dtype == DataType.DtInt32 && TfDataTypes.IsInteger(DType))
        {
            return FromInt32(Shape, ToInt64Array().Select(v => checked((int)v)).ToArray());
        }

        if (dtype == DataType.DtFloat && DType is DataType.DtDouble or DataType.DtInt32 or DataType.DtInt64)
        {
            return FromFloat(Shape, ToDoubleArray().Select(v => (float)v).ToArray());
        }

        throw new ServingException(ServingStatusCode.Unimplemented, $"folding a cast of a constant from {DType} to {dtype} is not supported");
    }

    /// <summary>The tensor with its axes permuted: result axis i is this tensor's axis <paramref name="perm"/>[i].</summary>
    public HostTensor Transpose(IReadOnlyList<int> perm)
    {
        if (perm.Count != Rank || _strings is not null)
        {
            throw new ArgumentException($"cannot transpose a rank-{Rank} {DType} tensor by [{string.Join(",", perm)}]");
        }

        var size = TfDataTypes.ElementSize(DType);
        var outShape = perm.Select(p => Shape[p]).ToArray();
        var inStrides = new long[Rank];
        for (long i = Rank - 1, stride = 1; i >= 0; stride *= Shape[(int)i], i--)
        {
            inStrides[i] = stride;
        }

        var source = _data.Span;
        var result = new byte[_data.Length];
        var index = new long[Rank];
        for (long outFlat = 0; outFlat < ElementCount; outFlat++)
        {
            long inFlat = 0;
            for (var axis = 0; axis < Rank; axis++)
            {
                inFlat += index[axis] * inStrides[perm[axis]];
            }

            source.Slice((int)(inFlat * size), size).CopyTo(result.AsSpan((int)(outFlat * size), size));
            for (var axis = Rank - 1; axis >= 0; axis--)
            {
                if (++index[axis] < outShape[axis])
                {
                    break;
                }

                index[axis] = 0;
            }
        }

        return new HostTensor(DType, outShape, result);
    }

    /// <summary>The same elements under another shape of equal element count.</summary>
    public HostTensor Reshape(IReadOnlyList<long> shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != ElementCount)
        {
            throw new ArgumentException($"cannot reshape {ElementCount} elements to [{string.Join(",", shape)}]");
        }

        return _strings is not null ? new HostTensor(shape, _strings) : new HostTensor(DType, shape, _data);
    }

    /// <summary>The ONNX tensor of the same type, shape and values (the bytes are shared, not copied).</summary>
    public OnnxTensorProto ToOnnx()
    {
        var tensor = new OnnxTensorProto { DataType = (int)TfDataTypes.ToOnnx(DType) };
        tensor.Dims.AddRange(Shape);
        if (_strings is not null)
        {
            tensor.StringData.AddRange(_strings);
        }
        else
        {
            tensor.RawData = UnsafeByteOperations.UnsafeWrap(_data);
        }

        return tensor;
    }

    private static T Pick<T>(Google.Protobuf.Collections.RepeatedField<T> values, int index)
        => values.Count == 0 ? default! : values[Math.Min(index, values.Count - 1)];

    private static ByteString[] Repeat(Google.Protobuf.Collections.RepeatedField<ByteString> values, long count, ByteString empty)
    {
        var result = new ByteString[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = values.Count == 0 ? empty : values[(int)Math.Min(i, values.Count - 1)];
        }

        return result;
    }
}
