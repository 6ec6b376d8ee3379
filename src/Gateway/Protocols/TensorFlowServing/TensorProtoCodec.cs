using System.Runtime.InteropServices;
using Google.Protobuf;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Gateway.Protocols.TensorFlowServing;

/// <summary>
/// TensorFlow's <see cref="TensorProto"/> ↔ Grid's <see cref="TensorData"/>. Accepts both
/// <c>tensor_content</c> and the typed <c>*_val</c> fields (with TensorFlow's rule that a
/// single value fills the whole tensor); writes the typed fields, as TF Serving's Predict
/// does by default. Stateless and thread-safe.
/// </summary>
public static class TensorProtoCodec
{
    /// <summary>
    /// Upper bound on one decoded tensor. A single typed value broadcasts over the whole shape,
    /// so a tiny message could otherwise ask for an arbitrarily large allocation.
    /// </summary>
    public const long MaxDecodedBytes = 1L << 30;

    public static TensorData Decode(string alias, TensorProto proto)
    {
        var dtype = ToDType(alias, proto.Dtype);
        var shape = DecodeShape(alias, proto.TensorShape);
        long count;
        try
        {
            count = TensorData.CountElements(shape);
        }
        catch (OverflowException)
        {
            throw ServingException.InvalidArgument($"Input '{alias}' shape {TensorData.FormatShape(shape)} is too large");
        }
        if (dtype == TensorDType.String)
        {
            return DecodeStrings(alias, proto, shape, count);
        }
        var size = dtype.ElementSize();
        if (count > MaxDecodedBytes / size)
        {
            throw ServingException.InvalidArgument(
                $"Input '{alias}' shape {TensorData.FormatShape(shape)} of {dtype.TfName()} needs more than {MaxDecodedBytes} bytes");
        }
        if (!proto.TensorContent.IsEmpty)
        {
            if (proto.TensorContent.Length != count * size)
            {
                throw ServingException.InvalidArgument(
                    $"Input '{alias}': tensor_content has {proto.TensorContent.Length} bytes but shape {TensorData.FormatShape(shape)} of {dtype.TfName()} needs {count * size}");
            }
            return new TensorData(dtype, shape, proto.TensorContent.ToByteArray());
        }
        var data = new byte[checked(count * size)];
        switch (dtype)
        {
            case TensorDType.Float:
                Fill<float>(alias, proto.FloatVal, data, count, v => v);
                break;
            case TensorDType.Double:
                Fill<double>(alias, proto.DoubleVal, data, count, v => v);
                break;
            case TensorDType.Int64:
                Fill<long>(alias, proto.Int64Val, data, count, v => v);
                break;
            case TensorDType.Int32:
                Fill<int>(alias, proto.IntVal, data, count, v => v);
                break;
            case TensorDType.Int16:
                Fill<int, short>(alias, proto.IntVal, data, count, v => (short)v);
                break;
            case TensorDType.Int8:
                Fill<int, sbyte>(alias, proto.IntVal, data, count, v => (sbyte)v);
                break;
            case TensorDType.UInt8:
                Fill<int, byte>(alias, proto.IntVal, data, count, v => (byte)v);
                break;
            case TensorDType.UInt16:
                Fill<int, ushort>(alias, proto.IntVal, data, count, v => (ushort)v);
                break;
            case TensorDType.Half:
                Fill<int, ushort>(alias, proto.HalfVal, data, count, v => (ushort)v);
                break;
            case TensorDType.Bool:
                Fill<bool, byte>(alias, proto.BoolVal, data, count, v => v ? (byte)1 : (byte)0);
                break;
            case TensorDType.UInt32:
                Fill<uint>(alias, proto.Uint32Val, data, count, v => v);
                break;
            case TensorDType.UInt64:
                Fill<ulong>(alias, proto.Uint64Val, data, count, v => v);
                break;
            default:
                throw ServingException.InvalidArgument($"Input '{alias}' has unsupported dtype {proto.Dtype}");
        }
        return new TensorData(dtype, shape, data);
    }

    private static void Fill<T>(string alias, IReadOnlyList<T> values, byte[] data, long count, Func<T, T> map) where T : unmanaged
        => Fill<T, T>(alias, values, data, count, map);

    private static void Fill<TIn, TOut>(string alias, IReadOnlyList<TIn> values, byte[] data, long count, Func<TIn, TOut> map) where TOut : unmanaged
    {
        var target = MemoryMarshal.Cast<byte, TOut>(data.AsSpan());
        if (values.Count == count)
        {
            for (var i = 0; i < count; i++)
            {
                target[i] = map(values[i]);
            }
        }
        else if (values.Count == 1)
        {
            target.Fill(map(values[0]));   // TensorFlow: one value is repeated over the shape
        }
        else if (values.Count != 0)        // none: TensorFlow zero-fills
        {
            throw ServingException.InvalidArgument($"Input '{alias}' has {values.Count} values but its shape needs {count}");
        }
    }

    private static TensorData DecodeStrings(string alias, TensorProto proto, long[] shape, long count)
    {
        var values = proto.StringVal;
        List<byte[]> elements;
        if (values.Count == count)
        {
            elements = values.Select(v => v.ToByteArray()).ToList();
        }
        else if (values.Count == 1)
        {
            var one = values[0].ToByteArray();
            elements = Enumerable.Repeat(one, (int)count).ToList();
        }
        else if (values.Count == 0)
        {
            elements = Enumerable.Repeat(Array.Empty<byte>(), (int)count).ToList();
        }
        else
        {
            throw ServingException.InvalidArgument($"Input '{alias}' has {values.Count} strings but its shape needs {count}");
        }
        return TensorData.FromStrings(shape, elements);
    }

    public static long[] DecodeShape(string alias, TensorShapeProto? shape)
    {
        if (shape is null)
        {
            return [];
        }
        if (shape.UnknownRank)
        {
            throw ServingException.InvalidArgument($"Input '{alias}' has unknown rank; a request tensor needs a full shape");
        }
        var dims = new long[shape.Dim.Count];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = shape.Dim[i].Size;
            if (dims[i] < 0)
            {
                throw ServingException.InvalidArgument($"Input '{alias}' has dimension {dims[i]} at {i}; request dimensions must be known");
            }
        }
        return dims;
    }

    private static TensorDType ToDType(string alias, DataType dtype)
    {
        var value = (int)dtype;
        if (value > 100)
        {
            value -= 100;   // reference types carry the same values
        }
        var result = (TensorDType)value;
        if (!Enum.IsDefined(result) || result == TensorDType.Invalid)
        {
            throw ServingException.InvalidArgument($"Input '{alias}' has unsupported dtype {dtype}");
        }
        return result;
    }

    public static TensorShapeProto EncodeShape(IReadOnlyList<long>? shape)
    {
        var proto = new TensorShapeProto();
        if (shape is null)
        {
            proto.UnknownRank = true;
            return proto;
        }
        foreach (var d in shape)
        {
            proto.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        }
        return proto;
    }

    public static TensorProto Encode(TensorData tensor)
    {
        var proto = new TensorProto { Dtype = (DataType)(int)tensor.DType, TensorShape = EncodeShape(tensor.Shape) };
        switch (tensor.DType)
        {
            case TensorDType.Float:
                proto.FloatVal.AddRange(tensor.AsSpan<float>().ToArray());
                break;
            case TensorDType.Double:
                proto.DoubleVal.AddRange(tensor.AsSpan<double>().ToArray());
                break;
            case TensorDType.Int64:
                proto.Int64Val.AddRange(tensor.AsSpan<long>().ToArray());
                break;
            case TensorDType.Int32:
                proto.IntVal.AddRange(tensor.AsSpan<int>().ToArray());
                break;
            case TensorDType.Int16:
                foreach (var v in tensor.AsSpan<short>()) proto.IntVal.Add(v);
                break;
            case TensorDType.Int8:
                foreach (var v in tensor.AsSpan<sbyte>()) proto.IntVal.Add(v);
                break;
            case TensorDType.UInt8:
                foreach (var v in tensor.Data) proto.IntVal.Add(v);
                break;
            case TensorDType.UInt16:
                foreach (var v in tensor.AsSpan<ushort>()) proto.IntVal.Add(v);
                break;
            case TensorDType.Half:
                foreach (var v in tensor.AsSpan<ushort>()) proto.HalfVal.Add(v);
                break;
            case TensorDType.Bool:
                foreach (var v in tensor.Data) proto.BoolVal.Add(v != 0);
                break;
            case TensorDType.UInt32:
                proto.Uint32Val.AddRange(tensor.AsSpan<uint>().ToArray());
                break;
            case TensorDType.UInt64:
                proto.Uint64Val.AddRange(tensor.AsSpan<ulong>().ToArray());
                break;
            case TensorDType.String:
                foreach (var s in tensor.ReadStrings()) proto.StringVal.Add(ByteString.CopyFrom(s.Span));
                break;
            default:
                throw new ServingException(ServingStatusCode.Internal, $"Cannot encode dtype {tensor.DType}");
        }
        return proto;
    }
}
