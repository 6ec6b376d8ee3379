using System.Text;
using System.Text.Json;
using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Grid.Models;
using Grid.Serving;
using Grid.Tensors;

namespace Grid.Gateway.Tests.Protocols.TensorFlowServing.Rest;

public class TfServingJsonCodecTests
{
    private static readonly ModelSignature HalfPlusTwo = Signature(
        [new TensorSpec("x", "x", TensorDType.Float, [-1, 1])],
        [new TensorSpec("y", "y", TensorDType.Float, [-1, 1])]);

    private static readonly ModelSignature TwoInputs = Signature(
        [new TensorSpec("a", "a", TensorDType.Float, [-1, 2]), new TensorSpec("b", "b", TensorDType.Float, [-1, 2])],
        [new TensorSpec("sum", "sum", TensorDType.Float, [-1, 2])]);

    private static ModelSignature Signature(TensorSpec[] inputs, TensorSpec[] outputs)
        => new("serving_default", "tensorflow/serving/predict", inputs, outputs);

    private static ModelSignature SingleInput(TensorDType dtype, long[]? shape = null)
        => Signature([new TensorSpec("x", "x", dtype, shape)], [new TensorSpec("y", "y", dtype, shape)]);

    private static RestPredictBody Parse(string json) => TfServingJsonCodec.ParseBody(Encoding.UTF8.GetBytes(json));

    private static NamedTensor[] Decode(string json, ModelSignature signature)
    {
        using var body = Parse(json);
        return TfServingJsonCodec.DecodeInputs(body, signature);
    }

    private static ServingException DecodeError(string json, ModelSignature signature)
        => Assert.Throws<ServingException>(() => Decode(json, signature));

    private static string Write(bool isRowFormat, params NamedTensor[] outputs)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            TfServingJsonCodec.WriteResponse(writer, isRowFormat, outputs);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static NamedTensor Floats(string name, long[] shape, params float[] values) => new(name, TensorData.FromFloats(shape, values));

    // ---- ParseBody ----

    [Fact]
    public void ParseBody_Instances_IsRowFormat()
    {
        // Act
        using var body = Parse("""{"signature_name": "sig", "instances": [1.0]}""");

        // Assert
        Assert.True(body.IsRowFormat);
        Assert.Equal("sig", body.SignatureName);
        Assert.Equal(JsonValueKind.Array, body.Payload.ValueKind);
    }

    [Fact]
    public void ParseBody_Inputs_IsColumnarFormatWithoutSignature()
    {
        // Act
        using var body = Parse("""{"inputs": {"x": [1.0]}}""");

        // Assert
        Assert.False(body.IsRowFormat);
        Assert.Null(body.SignatureName);
        Assert.Equal(JsonValueKind.Object, body.Payload.ValueKind);
    }

    [Fact]
    public void ParseBody_MalformedJson_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Parse("""{"instances": [1.0,"""));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("JSON Parse error: ", error.Message);
    }

    [Fact]
    public void ParseBody_NotAnObject_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Parse("[1, 2]"));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("JSON Value: not an object", error.Message);
    }

    [Fact]
    public void ParseBody_BothInstancesAndInputs_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Parse("""{"instances": [1], "inputs": [1]}"""));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Not formatted correctly expecting only one of 'inputs' or 'instances' keys exists", error.Message);
    }

    [Fact]
    public void ParseBody_NeitherInstancesNorInputs_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Parse("""{"signature_name": "serving_default"}"""));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Missing 'inputs' or 'instances' key", error.Message);
    }

    [Theory]
    [InlineData("""{"instances": []}""")]
    [InlineData("""{"instances": 1.0}""")]
    public void ParseBody_EmptyOrNonListInstances_ThrowsInvalidArgument(string json)
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Parse(json));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Expecting 'instances' to be a non-empty list/array", error.Message);
    }

    [Fact]
    public void ParseBody_NonStringSignatureName_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Parse("""{"signature_name": 5, "instances": [1]}"""));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("'signature_name' key must be a string value.", error.Message);
    }

    // ---- DecodeInputs: row format ----

    [Fact]
    public void DecodeInputs_RowFormatScalars_StacksIntoBatch()
    {
        // Act
        var inputs = Decode("""{"instances": [1.0, 2.0, 5.0]}""", HalfPlusTwo);

        // Assert
        var x = Assert.Single(inputs);
        Assert.Equal("x", x.Name);
        Assert.Equal(TensorDType.Float, x.Tensor.DType);
        Assert.Equal([3L], x.Tensor.Shape);
        Assert.Equal([1f, 2f, 5f], x.Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void DecodeInputs_RowFormatLists_AddsBatchDimension()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Float, [-1, 2]);

        // Act
        var inputs = Decode("""{"instances": [[1, 2], [3, 4]]}""", signature);

        // Assert
        var x = Assert.Single(inputs);
        Assert.Equal([2L, 2L], x.Tensor.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], x.Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void DecodeInputs_RowFormatNamedObjects_DecodesEachInput()
    {
        // Act
        var inputs = Decode("""{"instances": [{"a": [1, 2], "b": [10, 20]}, {"a": [3, 4], "b": [30, 40]}]}""", TwoInputs);

        // Assert
        Assert.Equal(["a", "b"], inputs.Select(i => i.Name));
        Assert.Equal([2L, 2L], inputs[0].Tensor.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], inputs[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal([2L, 2L], inputs[1].Tensor.Shape);
        Assert.Equal([10f, 20f, 30f, 40f], inputs[1].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void DecodeInputs_RowFormatObjectWithFewerKeys_ThrowsInvalidArgument()
    {
        // Act
        var error = DecodeError("""{"instances": [{"a": [1, 2], "b": [1, 2]}, {"a": [3, 4]}]}""", TwoInputs);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Failed to process element: 1 of 'instances' list. JSON object: has a different set of keys than item 0", error.Message);
    }

    [Fact]
    public void DecodeInputs_RowFormatObjectMissingKey_ThrowsInvalidArgument()
    {
        // Act
        var error = DecodeError("""{"instances": [{"a": [1, 2], "b": [1, 2]}, {"a": [3, 4], "c": [5, 6]}]}""", TwoInputs);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Failed to process element: 1 key: b of 'instances' list. Error: missing key", error.Message);
    }

    [Fact]
    public void DecodeInputs_RowFormatListForTwoInputSignature_ThrowsInvalidArgument()
    {
        // Act
        var error = DecodeError("""{"instances": [[1, 2]]}""", TwoInputs);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Expecting object but got list at item 0 of input list", error.Message);
    }

    [Fact]
    public void DecodeInputs_RaggedInstances_ThrowsInvalidArgument()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Float, [-1, -1]);

        // Act
        var error = DecodeError("""{"instances": [[1, 2], [3]]}""", signature);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Expecting tensor size: 2 but got: 1", error.Message);
    }

    [Fact]
    public void DecodeInputs_RaggedNestedList_ThrowsInvalidArgument()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Float);

        // Act
        var error = DecodeError("""{"inputs": [[1, 2], [3, [4]]]}""", signature);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Ragged list for input 'x'", error.Message);
    }

    [Fact]
    public void DecodeInputs_UnknownInputAlias_ThrowsInvalidArgument()
    {
        // Act
        var error = DecodeError("""{"instances": [{"z": 1.0}]}""", HalfPlusTwo);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("input tensor alias not found in signature: z. Inputs expected to be in the set {x}.", error.Message);
    }

    // ---- DecodeInputs: columnar format ----

    [Fact]
    public void DecodeInputs_ColumnarSingleValue_DecodesWholeTensor()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Float, [-1, 1]);

        // Act
        var inputs = Decode("""{"inputs": [[1.0], [2.0], [5.0]]}""", signature);

        // Assert
        var x = Assert.Single(inputs);
        Assert.Equal("x", x.Name);
        Assert.Equal([3L, 1L], x.Tensor.Shape);
        Assert.Equal([1f, 2f, 5f], x.Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void DecodeInputs_ColumnarScalar_DecodesScalar()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Int64, []);

        // Act
        var inputs = Decode("""{"inputs": 42}""", signature);

        // Assert
        var x = Assert.Single(inputs);
        Assert.Empty(x.Tensor.Shape);
        Assert.Equal([42L], x.Tensor.AsSpan<long>().ToArray());
    }

    [Fact]
    public void DecodeInputs_ColumnarObject_DecodesEachNamedInput()
    {
        // Act
        var inputs = Decode("""{"inputs": {"b": [[5, 6]], "a": [[1, 2]]}}""", TwoInputs);

        // Assert
        Assert.Equal(2, inputs.Length);
        var a = Assert.Single(inputs, i => i.Name == "a");
        var b = Assert.Single(inputs, i => i.Name == "b");
        Assert.Equal([1f, 2f], a.Tensor.AsSpan<float>().ToArray());
        Assert.Equal([5f, 6f], b.Tensor.AsSpan<float>().ToArray());
        Assert.Equal([1L, 2L], b.Tensor.Shape);
    }

    [Fact]
    public void DecodeInputs_ColumnarObjectMissingInput_ThrowsInvalidArgument()
    {
        // Act
        var error = DecodeError("""{"inputs": {"a": [[1, 2]]}}""", TwoInputs);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Missing named input: b in 'inputs' object.", error.Message);
    }

    // ---- DecodeInputs: element types ----

    [Fact]
    public void DecodeInputs_B64Strings_DecodeToBytes()
    {
        // Arrange
        var signature = SingleInput(TensorDType.String, [-1]);

        // Act
        var inputs = Decode("""{"instances": [{"b64": "AP8="}, "plain"]}""", signature);

        // Assert
        var x = Assert.Single(inputs);
        Assert.Equal(TensorDType.String, x.Tensor.DType);
        Assert.Equal([2L], x.Tensor.Shape);
        var strings = x.Tensor.ReadStrings();
        Assert.Equal(new byte[] { 0x00, 0xff }, strings[0].ToArray());
        Assert.Equal("plain"u8.ToArray(), strings[1].ToArray());
    }

    [Fact]
    public void DecodeInputs_InvalidBase64_ThrowsInvalidArgument()
    {
        // Arrange
        var signature = SingleInput(TensorDType.String, [-1]);

        // Act
        var error = DecodeError("""{"instances": [{"b64": "not base64!"}]}""", signature);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void DecodeInputs_IntegerDTypeGivenFraction_ThrowsInvalidArgument()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Int32, [-1]);

        // Act
        var error = DecodeError("""{"instances": [1, 1.5]}""", signature);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Input 'x' of DT_INT32 expects an integer", error.Message);
    }

    [Fact]
    public void DecodeInputs_IntegerOutOfRange_ThrowsInvalidArgument()
    {
        // Arrange
        var signature = SingleInput(TensorDType.UInt8, [-1]);

        // Act
        var error = DecodeError("""{"instances": [256]}""", signature);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Value 256 is out of range for DT_UINT8 input 'x'", error.Message);
    }

    [Fact]
    public void DecodeInputs_Integers_DecodeExactly()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Int64, [-1]);

        // Act
        var inputs = Decode("""{"instances": [9007199254740993, -9223372036854775808]}""", signature);

        // Assert
        Assert.Equal([9_007_199_254_740_993L, long.MinValue], inputs[0].Tensor.AsSpan<long>().ToArray());
    }

    [Fact]
    public void DecodeInputs_Bools_DecodeToBytes()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Bool, [-1]);

        // Act
        var inputs = Decode("""{"instances": [true, false, true]}""", signature);

        // Assert
        Assert.Equal(TensorDType.Bool, inputs[0].Tensor.DType);
        Assert.Equal(new byte[] { 1, 0, 1 }, inputs[0].Tensor.Data);
    }

    [Fact]
    public void DecodeInputs_BoolDTypeGivenNumber_ThrowsInvalidArgument()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Bool, [-1]);

        // Act
        var error = DecodeError("""{"instances": [1]}""", signature);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Input 'x' of DT_BOOL expects a bool", error.Message);
    }

    [Fact]
    public void DecodeInputs_FloatDTypeGivenString_ThrowsInvalidArgument()
    {
        // Act
        var error = DecodeError("""{"instances": ["1.0"]}""", HalfPlusTwo);

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Input 'x' of DT_FLOAT expects a number", error.Message);
    }

    [Fact]
    public void DecodeInputs_Doubles_KeepFullPrecision()
    {
        // Arrange
        var signature = SingleInput(TensorDType.Double, [-1]);

        // Act
        var inputs = Decode("""{"instances": [0.1, 1e300]}""", signature);

        // Assert
        Assert.Equal([0.1, 1e300], inputs[0].Tensor.AsSpan<double>().ToArray());
    }

    [Fact]
    public void DecodeInputs_NonFiniteNumberTokens_DecodeAsTensorFlowServingDoes()
    {
        // Arrange: TF Serving parses requests with rapidjson's kParseNanAndInfFlag
        var signature = SingleInput(TensorDType.Float, [-1]);

        // Act
        var inputs = Decode("""{"instances": [NaN, Infinity, -Infinity]}""", signature);

        // Assert
        Assert.Equal([float.NaN, float.PositiveInfinity, float.NegativeInfinity], inputs[0].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void DecodeInputs_FloatOutOfFloatRange_ThrowsInvalidArgument()
    {
        // Arrange: TF Serving rejects a value that cannot be a float without loss of precision
        var signature = SingleInput(TensorDType.Float, [-1]);

        // Act
        var error = Record.Exception(() => Decode("""{"instances": [1e39]}""", signature));

        // Assert
        var serving = Assert.IsType<ServingException>(error);
        Assert.Equal(ServingStatusCode.InvalidArgument, serving.Code);
    }

    // ---- WriteResponse ----

    [Fact]
    public void WriteResponse_RowFormatOneOutput_WritesBareList()
    {
        // Act
        var json = Write(true, Floats("y", [3], 2.5f, 3f, 4.5f));

        // Assert
        Assert.Equal("""{"predictions":[2.5,3.0,4.5]}""", json);
    }

    [Fact]
    public void WriteResponse_RowFormatNestedOutput_WritesNestedLists()
    {
        // Act
        var json = Write(true, Floats("y", [2, 1], 2.5f, 3f));

        // Assert
        Assert.Equal("""{"predictions":[[2.5],[3.0]]}""", json);
    }

    [Fact]
    public void WriteResponse_RowFormatTwoOutputs_WritesObjectPerRow()
    {
        // Act
        var json = Write(true, Floats("sum", [2, 2], 1, 2, 3, 4), new NamedTensor("id", TensorData.FromSpan<long>(TensorDType.Int64, [2], [7L, 8L])));

        // Assert
        Assert.Equal("""{"predictions":[{"sum":[1.0,2.0],"id":7},{"sum":[3.0,4.0],"id":8}]}""", json);
    }

    [Fact]
    public void WriteResponse_RowFormatInconsistentBatch_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Write(true, Floats("a", [2], 1, 2), Floats("b", [3], 1, 2, 3)));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Tensor name: b has inconsistent batch size: 3 expecting: 2", error.Message);
    }

    [Fact]
    public void WriteResponse_RowFormatScalarAmongSeveralOutputs_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Write(true, Floats("a", [2], 1, 2), Floats("b", [], 1)));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void WriteResponse_ColumnarOneOutput_WritesBareValue()
    {
        // Act
        var json = Write(false, Floats("y", [2, 1], 2.5f, 3f));

        // Assert
        Assert.Equal("""{"outputs":[[2.5],[3.0]]}""", json);
    }

    [Fact]
    public void WriteResponse_ColumnarScalarOutput_WritesBareNumber()
    {
        // Act
        var json = Write(false, Floats("y", [], 3f));

        // Assert
        Assert.Equal("""{"outputs":3.0}""", json);
    }

    [Fact]
    public void WriteResponse_ColumnarSeveralOutputs_WritesObject()
    {
        // Act
        var json = Write(false, Floats("sum", [1, 2], 11, 22), Floats("diff", [1, 2], -9, -18));

        // Assert
        Assert.Equal("""{"outputs":{"sum":[[11.0,22.0]],"diff":[[-9.0,-18.0]]}}""", json);
    }

    [Fact]
    public void WriteResponse_Floats_WriteShortestRoundTripDigits()
    {
        // Act
        var json = Write(false, Floats("y", [4], 3f, 2.5f, 0.1f, -0f));

        // Assert
        Assert.Equal("""{"outputs":[3.0,2.5,0.1,-0.0]}""", json);
    }

    [Fact]
    public void WriteResponse_Doubles_WriteShortestRoundTripDigits()
    {
        // Act
        var json = Write(false, new NamedTensor("y", TensorData.FromSpan<double>(TensorDType.Double, [3], [3.0, 0.1, 1.0 / 3.0])));

        // Assert
        Assert.Equal("""{"outputs":[3.0,0.1,0.3333333333333333]}""", json);
    }

    [Fact]
    public void WriteResponse_NonFiniteFloats_WriteTensorFlowTokens()
    {
        // Act
        var json = Write(false, Floats("y", [3], float.NaN, float.PositiveInfinity, float.NegativeInfinity));

        // Assert
        Assert.Equal("""{"outputs":[NaN,Infinity,-Infinity]}""", json);
    }

    [Fact]
    public void WriteResponse_IntegersAndBools_WriteJsonNumbersAndBooleans()
    {
        // Act
        var json = Write(
            false,
            new NamedTensor("i", TensorData.FromSpan<sbyte>(TensorDType.Int8, [2], [-3, 4])),
            new NamedTensor("b", TensorData.FromSpan<byte>(TensorDType.Bool, [2], [1, 0])));

        // Assert
        Assert.Equal("""{"outputs":{"i":[-3,4],"b":[true,false]}}""", json);
    }

    [Fact]
    public void WriteResponse_StringOutput_WritesUtf8Text()
    {
        // Act
        var json = Write(false, new NamedTensor("text", TensorData.FromStrings([1], ["héllo"u8.ToArray()])));

        // Assert
        Assert.Equal("""{"outputs":["h\u00E9llo"]}""", json);
    }

    [Fact]
    public void WriteResponse_StringOutputNamedBytes_WritesB64Object()
    {
        // Act
        var json = Write(false, new NamedTensor("image_bytes", TensorData.FromStrings([1], ["hi"u8.ToArray()])));

        // Assert
        Assert.Equal("""{"outputs":[{"b64":"aGk="}]}""", json);
    }

    [Fact]
    public void WriteResponse_NonUtf8StringOutput_WritesB64Object()
    {
        // Act
        var json = Write(false, new NamedTensor("text", TensorData.FromStrings([1], [[0xff, 0xfe]])));

        // Assert
        Assert.Equal("""{"outputs":[{"b64":"//4="}]}""", json);
    }
}
