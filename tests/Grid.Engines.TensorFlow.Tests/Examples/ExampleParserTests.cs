using Google.Protobuf;
using Grid.Engines.TensorFlow.Examples;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Tests.Examples;

public sealed class ExampleParserTests
{
    private static Feature Floats(params float[] values) => new() { FloatList = new FloatList { Value = { values } } };

    private static Feature Ints(params long[] values) => new() { Int64List = new Int64List { Value = { values } } };

    private static Feature Bytes(params string[] values) => new() { BytesList = new BytesList { Value = { values.Select(ByteString.CopyFromUtf8) } } };

    private static byte[] Example(params (string Key, Feature Value)[] features)
    {
        var example = new Example { Features = new Features() };
        foreach (var (key, value) in features)
        {
            example.Features.Feature[key] = value;
        }
        return example.ToByteArray();
    }

    private static TensorData FloatTensor(long[] shape, params float[] values) => TensorData.FromFloats(shape, values);

    private static ExampleSpec XSpec(TensorData? defaultValue = null)
        => ExampleSpec.Create([new DenseFeature("x", TensorDType.Float, [1], defaultValue)]);

    [Fact]
    public void Parse_FloatFeature_ReturnsBatchByShapeTensor()
    {
        var spec = XSpec();

        var result = ExampleParser.ParseDense(spec, [Example(("x", Floats(2f))), Example(("x", Floats(-1.5f)))]);

        var x = Assert.Single(result);
        Assert.Equal(TensorDType.Float, x.DType);
        Assert.Equal([2L, 1L], x.Shape);
        Assert.Equal([2f, -1.5f], x.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Parse_Int64AndStringFeatures_KeepSpecOrderAndShapes()
    {
        var spec = ExampleSpec.Create([
            new DenseFeature("s", TensorDType.String, []),
            new DenseFeature("i", TensorDType.Int64, [2, 2]),
        ]);

        var result = ExampleParser.ParseDense(spec, [Example(("i", Ints(1, -2, 3, long.MaxValue)), ("s", Bytes("héllo")))]);

        Assert.Equal([1L], result[0].Shape);
        Assert.Equal("héllo", System.Text.Encoding.UTF8.GetString(result[0].ReadStrings()[0].Span));
        Assert.Equal([1L, 2L, 2L], result[1].Shape);
        Assert.Equal([1L, -2L, 3L, long.MaxValue], result[1].AsSpan<long>().ToArray());
    }

    [Fact]
    public void Parse_MissingFeatureWithDefault_UsesTheDefault()
    {
        var spec = ExampleSpec.Create([
            new DenseFeature("x", TensorDType.Float, [1]),
            new DenseFeature("x2", TensorDType.Float, [1], FloatTensor([1], 0f)),
            new DenseFeature("label", TensorDType.String, [], TensorData.FromStrings([], ["missing"u8.ToArray()])),
        ]);

        var result = ExampleParser.ParseDense(spec, [Example(("x", Floats(1f))), Example(("x", Floats(2f)), ("x2", Floats(7f)))]);

        Assert.Equal([0f, 7f], result[1].AsSpan<float>().ToArray());
        Assert.Equal(["missing", "missing"], result[2].ReadStrings().Select(s => System.Text.Encoding.UTF8.GetString(s.Span)));
    }

    [Fact]
    public void Parse_MissingRequiredFeature_IsTensorFlowsInvalidArgument()
    {
        var spec = XSpec();

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(spec, [Example(("other", Floats(1f)))]));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Name: <unknown>, Feature: x (data type: float) is required but could not be found.", error.Message);
    }

    [Fact]
    public void Parse_EmptyFeatureValue_CountsAsMissing()
    {
        var spec = XSpec(FloatTensor([1], 9f));

        var result = ExampleParser.ParseDense(spec, [Example(("x", new Feature()))]);

        Assert.Equal([9f], result[0].AsSpan<float>().ToArray());
    }

    [Fact]
    public void Parse_WrongType_IsTensorFlowsDataTypeError()
    {
        var spec = XSpec();

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(spec, [Example(("x", Floats(1f))), Example(("x", Ints(2)))]));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Name: <unknown>, Key: x, Index: 1.  Data types don't match. Data type: int64 but expected type: float", error.Message);
    }

    [Fact]
    public void Parse_WrongCount_IsTensorFlowsValuesSizeError()
    {
        var spec = XSpec();

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(spec, [Example(("x", Floats(1f, 2f)))]));

        Assert.Equal("Name: <unknown>, Key: x, Index: 0.  Number of float values != expected.  Values size: 2 but output shape: [1]", error.Message);
    }

    [Fact]
    public void Parse_NamesGiven_LabelsTheFailingExample()
    {
        var spec = XSpec();
        var serialized = TensorData.FromStrings([1], [Example(("y", Floats(1f)))]);

        var error = Assert.Throws<ServingException>(() => ExampleParser.Parse(spec, serialized, ["row-7"]));

        Assert.StartsWith("Name: row-7, Feature: x", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x0A })]             // features claims 5 bytes, 1 follows
    [InlineData(new byte[] { 0x0A, 0x02, 0x12, 0x00 })]       // map entry that is not field 1
    [InlineData(new byte[] { 0x0B })]                         // start of a group
    [InlineData(new byte[] { 0x0A, 0x04, 0x0A, 0x02, 0x0A, 0x00 })] // entry with a key but no value
    public void Parse_CorruptBytes_IsCouldNotParseExample(byte[] corrupt)
    {
        var spec = XSpec();

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(spec, [corrupt]));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Could not parse example input, value: '", error.Message);
    }

    [Fact]
    public void Parse_TruncatedFeatureList_IsCantParseSerializedExample()
    {
        // x → float_list whose declared length runs past the feature's end.
        var feature = new byte[] { 0x12, 0x05, 0x0D, 0x00, 0x00 };
        var entry = new List<byte> { 0x0A, 0x01, (byte)'x', 0x12, (byte)feature.Length };
        entry.AddRange(feature);
        var example = new List<byte> { 0x0A, (byte)(entry.Count + 2), 0x0A, (byte)entry.Count };
        example.AddRange(entry);

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(XSpec(), [example.ToArray()]));

        Assert.Equal("Name: <unknown>, Key: x, Index: 0.  Can't parse serialized Example.", error.Message);
    }

    [Fact]
    public void Parse_ConcatenatedExamples_LastOccurrenceWins()
    {
        // TF Serving merges a context into each example by concatenating their bytes.
        var context = Example(("x", Floats(1f)), ("shared", Floats(5f)));
        var example = Example(("x", Floats(2f)));
        var spec = ExampleSpec.Create([new DenseFeature("x", TensorDType.Float, [1]), new DenseFeature("shared", TensorDType.Float, [1])]);

        var result = ExampleParser.ParseDense(spec, [[.. context, .. example]]);

        Assert.Equal([2f], result[0].AsSpan<float>().ToArray());
        Assert.Equal([5f], result[1].AsSpan<float>().ToArray());
    }

    [Fact]
    public void Parse_UnpackedFloatsAndInts_AreRead()
    {
        // Non-packed encodings (one tag per value), which some writers produce.
        byte[] floatList = [0x0D, .. BitConverter.GetBytes(1.5f), 0x0D, .. BitConverter.GetBytes(-2f)];
        byte[] intList = [0x08, 0x05, 0x08, 0x07];
        byte[] Entry(string key, byte tag, byte[] list)
        {
            byte[] feature = [tag, (byte)list.Length, .. list];
            return [0x0A, (byte)(4 + key.Length + feature.Length), 0x0A, (byte)key.Length, .. System.Text.Encoding.ASCII.GetBytes(key), 0x12, (byte)feature.Length, .. feature];
        }
        byte[] entries = [.. Entry("f", 0x12, floatList), .. Entry("i", 0x1A, intList)];
        byte[] example = [0x0A, (byte)entries.Length, .. entries];
        var spec = ExampleSpec.Create([new DenseFeature("f", TensorDType.Float, [2]), new DenseFeature("i", TensorDType.Int64, [2])]);

        var result = ExampleParser.ParseDense(spec, [example]);

        Assert.Equal([1.5f, -2f], result[0].AsSpan<float>().ToArray());
        Assert.Equal([5L, 7L], result[1].AsSpan<long>().ToArray());
    }

    [Fact]
    public void Parse_UnknownFeatureKind_IsUnsupportedDatatype()
    {
        // x → a Feature whose first field is number 4 (no such list kind).
        byte[] example = [0x0A, 0x09, 0x0A, 0x07, 0x0A, 0x01, (byte)'x', 0x12, 0x02, 0x22, 0x00];

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(XSpec(), [example]));

        Assert.Equal("Unsupported datatype.", error.Message);
    }

    [Fact]
    public void Parse_VariableLengthFeature_PadsToTheLongestExample()
    {
        var spec = ExampleSpec.Create([new DenseFeature("seq", TensorDType.Int64, [-1, 2], TensorData.FromSpan<long>(TensorDType.Int64, [], [-1]))]);

        var result = ExampleParser.ParseDense(spec, [Example(("seq", Ints(1, 2, 3, 4))), Example(), Example(("seq", Ints(5, 6)))]);

        Assert.Equal([3L, 2L, 2L], result[0].Shape);
        Assert.Equal([1L, 2, 3, 4, -1, -1, -1, -1, 5, 6, -1, -1], result[0].AsSpan<long>().ToArray());
    }

    [Fact]
    public void Parse_VariableLengthNotMultipleOfStride_IsTensorFlowsError()
    {
        var spec = ExampleSpec.Create([new DenseFeature("seq", TensorDType.Float, [-1, 2], FloatTensor([], 0f))]);

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(spec, [Example(("seq", Floats(1f, 2f, 3f)))]));

        Assert.Equal("Name: <unknown>, Key: seq, Index: 0.  Number of float values is not a multiple of stride length. Saw 3 values but output shape is: [?,2]", error.Message);
    }

    [Fact]
    public void Parse_SparseFeature_ReturnsIndicesValuesAndShape()
    {
        var spec = ExampleSpec.Create([], [new SparseFeature("ids", TensorDType.Int64)]);
        var serialized = new[] { Example(("ids", Ints(4, 5))), Example(), Example(("ids", Ints(6))) }.Select(b => new ReadOnlyMemory<byte>(b)).ToList();

        var result = ExampleParser.Parse(spec, serialized);

        var ids = Assert.Single(result.Sparse);
        Assert.Equal([3L, 2L], ids.Indices.Shape);
        Assert.Equal([0L, 0, 0, 1, 2, 0], ids.Indices.AsSpan<long>().ToArray());
        Assert.Equal([4L, 5, 6], ids.Values.AsSpan<long>().ToArray());
        Assert.Equal([3L, 2L], ids.DenseShape.AsSpan<long>().ToArray());
    }

    [Fact]
    public void Parse_SparseFeatureWrongType_IsTensorFlowsError()
    {
        var spec = ExampleSpec.Create([], [new SparseFeature("ids", TensorDType.Int64)]);

        var error = Assert.Throws<ServingException>(() => ExampleParser.ParseDense(spec, [Example(("ids", Bytes("a")))]));

        Assert.Equal("Name: <unknown>, Key: ids, Index: 0.  Data types don't match. Expected type: int64, Actual type: string", error.Message);
    }

    [Fact]
    public void Parse_EmptyBatch_ReturnsEmptyTensors()
    {
        var result = ExampleParser.ParseDense(XSpec(), []);

        Assert.Equal([0L, 1L], result[0].Shape);
        Assert.Empty(result[0].Data);
    }

    [Fact]
    public void Parse_SerializedMatrix_IsRefused()
    {
        var serialized = TensorData.FromStrings([1, 1], [Example(("x", Floats(1f)))]);

        var error = Assert.Throws<ServingException>(() => ExampleParser.Parse(XSpec(), serialized));

        Assert.Equal("Expected serialized to be a vector, got shape: [1,1]", error.Message);
    }

    [Fact]
    public void Parse_ScalarSerialized_OutputsHaveNoBatchDimension()
    {
        var spec = ExampleSpec.Create([new DenseFeature("x", TensorDType.Float, [1])], [new SparseFeature("ids", TensorDType.Int64)]);
        var serialized = TensorData.FromStrings([], [Example(("x", Floats(4f)), ("ids", Ints(7, 8)))]);

        var result = ExampleParser.Parse(spec, serialized);

        Assert.Equal([1L], result.Dense[0].Shape);
        Assert.Equal([4f], result.Dense[0].AsSpan<float>().ToArray());
        Assert.Equal([2L, 1L], result.Sparse[0].Indices.Shape);
        Assert.Equal([0L, 1L], result.Sparse[0].Indices.AsSpan<long>().ToArray());
        Assert.Equal([2L], result.Sparse[0].DenseShape.AsSpan<long>().ToArray());
    }

    [Fact]
    public void Create_DefaultOfWrongShape_IsRefused()
    {
        var error = Assert.Throws<ServingException>(() => ExampleSpec.Create([new DenseFeature("x", TensorDType.Float, [2], FloatTensor([1], 0f))]));

        Assert.Equal("def_value[0].shape() == [1] is not compatible with dense_shapes_[0] == [2]", error.Message);
    }

    [Fact]
    public void Create_UnsupportedDType_IsRefused()
    {
        var error = Assert.Throws<ServingException>(() => ExampleSpec.Create([new DenseFeature("x", TensorDType.Int32, [1])]));

        Assert.Equal("Invalid config dtype: int32", error.Message);
    }

    [Fact]
    public void Create_VariableLengthWithoutPadding_IsRefused()
    {
        var error = Assert.Throws<ServingException>(() => ExampleSpec.Create([new DenseFeature("x", TensorDType.Float, [-1])]));

        Assert.StartsWith("dense_shape[0] is a variable length shape: [?]", error.Message);
    }
}
