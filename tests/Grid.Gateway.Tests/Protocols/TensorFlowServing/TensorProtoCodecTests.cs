using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Grid.Gateway.Protocols.TensorFlowServing;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Gateway.Tests.Protocols.TensorFlowServing;

public class TensorProtoCodecTests
{
    private static TensorShapeProto Shape(params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        }
        return shape;
    }

    private static TensorProto Proto(DataType dtype, params long[] dims) => new() { Dtype = dtype, TensorShape = Shape(dims) };

    private static byte[] Bytes<T>(params T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    [Fact]
    public void Decode_FloatTensorContent_CopiesRawBytes()
    {
        // Arrange
        var proto = Proto(DataType.DtFloat, 2, 2);
        proto.TensorContent = ByteString.CopyFrom(Bytes(1f, 2f, 3.5f, -4f));

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Float, tensor.DType);
        Assert.Equal([2L, 2L], tensor.Shape);
        Assert.Equal([1f, 2f, 3.5f, -4f], tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Decode_FloatVal_ReadsTypedValues()
    {
        // Arrange
        var proto = Proto(DataType.DtFloat, 3, 1);
        proto.FloatVal.Add([1f, 2f, 5f]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Float, tensor.DType);
        Assert.Equal([3L, 1L], tensor.Shape);
        Assert.Equal([1f, 2f, 5f], tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Decode_DoubleVal_ReadsTypedValues()
    {
        // Arrange
        var proto = Proto(DataType.DtDouble, 2);
        proto.DoubleVal.Add([0.1, -1e300]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Double, tensor.DType);
        Assert.Equal([0.1, -1e300], tensor.AsSpan<double>().ToArray());
    }

    [Fact]
    public void Decode_Int32Val_ReadsTypedValues()
    {
        // Arrange
        var proto = Proto(DataType.DtInt32, 3);
        proto.IntVal.Add([int.MinValue, 0, int.MaxValue]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Int32, tensor.DType);
        Assert.Equal([int.MinValue, 0, int.MaxValue], tensor.AsSpan<int>().ToArray());
    }

    [Fact]
    public void Decode_Int64Val_ReadsTypedValues()
    {
        // Arrange
        var proto = Proto(DataType.DtInt64, 2);
        proto.Int64Val.Add([long.MinValue, 9_007_199_254_740_993L]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Int64, tensor.DType);
        Assert.Equal([long.MinValue, 9_007_199_254_740_993L], tensor.AsSpan<long>().ToArray());
    }

    [Fact]
    public void Decode_UInt8InIntVal_NarrowsToBytes()
    {
        // Arrange
        var proto = Proto(DataType.DtUint8, 3);
        proto.IntVal.Add([0, 128, 255]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.UInt8, tensor.DType);
        Assert.Equal(new byte[] { 0, 128, 255 }, tensor.Data);
    }

    [Fact]
    public void Decode_Int8InIntVal_NarrowsToSignedBytes()
    {
        // Arrange
        var proto = Proto(DataType.DtInt8, 3);
        proto.IntVal.Add([-128, -1, 127]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Int8, tensor.DType);
        Assert.Equal(new sbyte[] { -128, -1, 127 }, tensor.AsSpan<sbyte>().ToArray());
    }

    [Fact]
    public void Decode_Int16InIntVal_NarrowsToShorts()
    {
        // Arrange
        var proto = Proto(DataType.DtInt16, 3);
        proto.IntVal.Add([short.MinValue, 300, short.MaxValue]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Int16, tensor.DType);
        Assert.Equal(new short[] { short.MinValue, 300, short.MaxValue }, tensor.AsSpan<short>().ToArray());
    }

    [Fact]
    public void Decode_BoolVal_WritesOneByteEach()
    {
        // Arrange
        var proto = Proto(DataType.DtBool, 3);
        proto.BoolVal.Add([true, false, true]);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Bool, tensor.DType);
        Assert.Equal(new byte[] { 1, 0, 1 }, tensor.Data);
    }

    [Fact]
    public void Decode_StringVal_KeepsRawBytes()
    {
        // Arrange
        var proto = Proto(DataType.DtString, 2);
        proto.StringVal.Add(ByteString.CopyFromUtf8("héllo"));
        proto.StringVal.Add(ByteString.CopyFrom(0xff, 0x00));

        // Act
        var tensor = TensorProtoCodec.Decode("text", proto);

        // Assert
        Assert.Equal(TensorDType.String, tensor.DType);
        Assert.Equal([2L], tensor.Shape);
        var strings = tensor.ReadStrings();
        Assert.Equal(Encoding.UTF8.GetBytes("héllo"), strings[0].ToArray());
        Assert.Equal(new byte[] { 0xff, 0x00 }, strings[1].ToArray());
    }

    [Fact]
    public void Decode_SingleFloatValue_IsBroadcastOverShape()
    {
        // Arrange
        var proto = Proto(DataType.DtFloat, 2, 3);
        proto.FloatVal.Add(7f);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal([2L, 3L], tensor.Shape);
        Assert.Equal([7f, 7f, 7f, 7f, 7f, 7f], tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Decode_SingleStringValue_IsBroadcastOverShape()
    {
        // Arrange
        var proto = Proto(DataType.DtString, 3);
        proto.StringVal.Add(ByteString.CopyFromUtf8("ab"));

        // Act
        var tensor = TensorProtoCodec.Decode("text", proto);

        // Assert
        Assert.Equal(["ab", "ab", "ab"], tensor.ReadStrings().Select(s => Encoding.UTF8.GetString(s.Span)));
    }

    [Fact]
    public void Decode_WrongValueCount_ThrowsInvalidArgument()
    {
        // Arrange
        var proto = Proto(DataType.DtFloat, 3);
        proto.FloatVal.Add([1f, 2f]);

        // Act
        var error = Assert.Throws<ServingException>(() => TensorProtoCodec.Decode("x", proto));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Input 'x' has 2 values but its shape needs 3", error.Message);
    }

    [Fact]
    public void Decode_WrongStringCount_ThrowsInvalidArgument()
    {
        // Arrange
        var proto = Proto(DataType.DtString, 3);
        proto.StringVal.Add([ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b")]);

        // Act
        var error = Assert.Throws<ServingException>(() => TensorProtoCodec.Decode("text", proto));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Decode_TensorContentLengthMismatch_ThrowsInvalidArgument()
    {
        // Arrange
        var proto = Proto(DataType.DtFloat, 3);
        proto.TensorContent = ByteString.CopyFrom(Bytes(1f, 2f));

        // Act
        var error = Assert.Throws<ServingException>(() => TensorProtoCodec.Decode("x", proto));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Input 'x': tensor_content has 8 bytes but shape [3] of DT_FLOAT needs 12", error.Message);
    }

    [Fact]
    public void Decode_NegativeDimension_ThrowsInvalidArgument()
    {
        // Arrange
        var proto = Proto(DataType.DtFloat, -1, 1);
        proto.FloatVal.Add(1f);

        // Act
        var error = Assert.Throws<ServingException>(() => TensorProtoCodec.Decode("x", proto));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Decode_UnknownRank_ThrowsInvalidArgument()
    {
        // Arrange
        var proto = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { UnknownRank = true } };

        // Act
        var error = Assert.Throws<ServingException>(() => TensorProtoCodec.Decode("x", proto));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Decode_ShapeTooLargeForByteSize_ThrowsInvalidArgument()
    {
        // Arrange: the element count fits in int64 but its byte size does not
        var proto = Proto(DataType.DtFloat, 1L << 62);

        // Act
        var error = Record.Exception(() => TensorProtoCodec.Decode("x", proto));

        // Assert
        var serving = Assert.IsType<ServingException>(error);
        Assert.Equal(ServingStatusCode.InvalidArgument, serving.Code);
    }

    [Theory]
    [InlineData(DataType.DtComplex64)]
    [InlineData(DataType.DtInvalid)]
    [InlineData(DataType.DtBfloat16)]
    public void Decode_UnsupportedDType_ThrowsInvalidArgument(DataType dtype)
    {
        // Arrange
        var proto = Proto(dtype, 1);

        // Act
        var error = Assert.Throws<ServingException>(() => TensorProtoCodec.Decode("x", proto));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Input 'x' has unsupported dtype", error.Message);
    }

    [Fact]
    public void Decode_ReferenceDType_TreatedAsItsValueType()
    {
        // Arrange
        var proto = Proto(DataType.DtFloatRef, 1);
        proto.FloatVal.Add(2f);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Equal(TensorDType.Float, tensor.DType);
        Assert.Equal([2f], tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Decode_NoShape_IsScalar()
    {
        // Arrange
        var proto = new TensorProto { Dtype = DataType.DtInt64 };
        proto.Int64Val.Add(42L);

        // Act
        var tensor = TensorProtoCodec.Decode("x", proto);

        // Assert
        Assert.Empty(tensor.Shape);
        Assert.Equal([42L], tensor.AsSpan<long>().ToArray());
    }

    public static TheoryData<TensorData> RoundTripTensors() => new()
    {
        TensorData.FromFloats([2, 2], [1.5f, -2f, float.MaxValue, 0f]),
        TensorData.FromSpan<double>(TensorDType.Double, [3], [1.0 / 3.0, -1e300, double.Epsilon]),
        TensorData.FromSpan<int>(TensorDType.Int32, [2], [int.MinValue, int.MaxValue]),
        TensorData.FromSpan<long>(TensorDType.Int64, [2], [long.MinValue, long.MaxValue]),
        TensorData.FromSpan<byte>(TensorDType.UInt8, [3], [0, 128, 255]),
        TensorData.FromSpan<sbyte>(TensorDType.Int8, [3], [-128, 0, 127]),
        TensorData.FromSpan<short>(TensorDType.Int16, [3], [short.MinValue, -1, short.MaxValue]),
        TensorData.FromSpan<ushort>(TensorDType.UInt16, [2], [0, ushort.MaxValue]),
        TensorData.FromSpan<uint>(TensorDType.UInt32, [2], [0u, uint.MaxValue]),
        TensorData.FromSpan<ulong>(TensorDType.UInt64, [2], [0ul, ulong.MaxValue]),
        TensorData.FromSpan<Half>(TensorDType.Half, [2], [(Half)1.5f, (Half)(-0.25f)]),
        TensorData.FromSpan<byte>(TensorDType.Bool, [1, 3], [1, 0, 1]),
        TensorData.FromStrings([2], [Encoding.UTF8.GetBytes("grid"), [0xff, 0x00, 0x7f]]),
    };

    [Theory]
    [MemberData(nameof(RoundTripTensors))]
    public void EncodeThenDecode_EveryDType_RoundTripsExactly(TensorData original)
    {
        // Act
        var decoded = TensorProtoCodec.Decode("x", TensorProtoCodec.Encode(original));

        // Assert
        Assert.Equal(original.DType, decoded.DType);
        Assert.Equal(original.Shape, decoded.Shape);
        Assert.Equal(original.Data, decoded.Data);
    }

    [Fact]
    public void Encode_Float_WritesFloatValNotTensorContent()
    {
        // Arrange
        var tensor = TensorData.FromFloats([3, 1], [2.5f, 3f, 4.5f]);

        // Act
        var proto = TensorProtoCodec.Encode(tensor);

        // Assert
        Assert.Equal(DataType.DtFloat, proto.Dtype);
        Assert.True(proto.TensorContent.IsEmpty);
        Assert.Equal([2.5f, 3f, 4.5f], proto.FloatVal);
        Assert.Equal([3L, 1L], proto.TensorShape.Dim.Select(d => d.Size));
    }

    [Fact]
    public void Encode_SmallIntegers_WritesIntVal()
    {
        // Arrange
        var tensor = TensorData.FromSpan<sbyte>(TensorDType.Int8, [2], [-5, 6]);

        // Act
        var proto = TensorProtoCodec.Encode(tensor);

        // Assert
        Assert.Equal(DataType.DtInt8, proto.Dtype);
        Assert.True(proto.TensorContent.IsEmpty);
        Assert.Equal([-5, 6], proto.IntVal);
    }

    [Fact]
    public void Encode_TypedFields_UsesFieldOfEachDType()
    {
        // Act
        var doubles = TensorProtoCodec.Encode(TensorData.FromSpan<double>(TensorDType.Double, [1], [0.5]));
        var longs = TensorProtoCodec.Encode(TensorData.FromSpan<long>(TensorDType.Int64, [1], [7L]));
        var bools = TensorProtoCodec.Encode(TensorData.FromSpan<byte>(TensorDType.Bool, [2], [0, 1]));
        var strings = TensorProtoCodec.Encode(TensorData.FromStrings([1], [Encoding.UTF8.GetBytes("s")]));

        // Assert
        Assert.Equal([0.5], doubles.DoubleVal);
        Assert.Equal([7L], longs.Int64Val);
        Assert.Equal([false, true], bools.BoolVal);
        Assert.Equal("s", Assert.Single(strings.StringVal).ToStringUtf8());
        Assert.All([doubles, longs, bools, strings], p => Assert.True(p.TensorContent.IsEmpty));
    }

    [Fact]
    public void EncodeShape_UnknownRank_SetsUnknownRank()
    {
        // Act
        var shape = TensorProtoCodec.EncodeShape(null);

        // Assert
        Assert.True(shape.UnknownRank);
        Assert.Empty(shape.Dim);
    }

    [Fact]
    public void EncodeShape_UnknownDimension_KeepsMinusOne()
    {
        // Act
        var shape = TensorProtoCodec.EncodeShape([-1, 784]);

        // Assert
        Assert.False(shape.UnknownRank);
        Assert.Equal([-1L, 784L], shape.Dim.Select(d => d.Size));
    }
}
