using Grid.Inference;
using Grid.Models;
using Grid.Serving.Inference;
using Grid.Tensors;

namespace Grid.Serving.Tests.Inference;

public class SignatureValidatorTests
{
    private static readonly ModelSignature HalfPlusTwo = new(
        ModelSignature.DefaultKey,
        ModelSignature.PredictMethodName,
        [new TensorSpec("x", "x:0", TensorDType.Float, [-1, 1])],
        [new TensorSpec("y", "y:0", TensorDType.Float, [-1, 1])]);

    private static readonly ModelSignature TwoInputs = new(
        ModelSignature.DefaultKey,
        ModelSignature.PredictMethodName,
        [new TensorSpec("a", "a", TensorDType.Float, [-1, 2]), new TensorSpec("b", "b", TensorDType.Float, [-1, 2])],
        [new TensorSpec("sum", "sum", TensorDType.Float, [-1, 2]), new TensorSpec("diff", "diff", TensorDType.Float, [-1, 2])]);

    private static NamedTensor Floats(string name, long[] shape, params float[] values)
        => new(name, TensorData.FromFloats(shape, values));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void ResolveSignature_NoName_ReturnsDefaultSignature(string? name)
    {
        // Arrange
        var other = HalfPlusTwo with { Key = "other" };

        // Act
        var signature = SignatureValidator.ResolveSignature([other, HalfPlusTwo], name);

        // Assert
        Assert.Equal("serving_default", signature.Key);
        Assert.Same(HalfPlusTwo, signature);
    }

    [Fact]
    public void ResolveSignature_NamedSignature_ReturnsIt()
    {
        // Arrange
        var other = HalfPlusTwo with { Key = "other" };

        // Act
        var signature = SignatureValidator.ResolveSignature([HalfPlusTwo, other], "other");

        // Assert
        Assert.Same(other, signature);
    }

    [Fact]
    public void ResolveSignature_UnknownName_ThrowsFailedPrecondition()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ResolveSignature([HalfPlusTwo], "foo"));

        // Assert
        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.Equal("Serving signature key \"foo\" not found.", error.Message);
    }

    [Fact]
    public void ValidateInputs_MatchingInput_DoesNotThrow()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("x", [3, 1], 1, 2, 5)];

        // Act
        var error = Record.Exception(() => SignatureValidator.ValidateInputs(HalfPlusTwo, inputs));

        // Assert
        Assert.Null(error);
    }

    [Fact]
    public void ValidateInputs_UnknownAlias_ThrowsInvalidArgument()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("z", [1, 1], 1)];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(HalfPlusTwo, inputs));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("input tensor alias not found in signature: ", error.Message);
        Assert.Contains("z", error.Message);
    }

    [Fact]
    public void ValidateInputs_MissingInput_ThrowsInvalidArgumentNamingIt()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("a", [1, 2], 1, 2)];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(TwoInputs, inputs));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("Missing but required: {b}", error.Message);
    }

    [Fact]
    public void ValidateInputs_DuplicateInput_ThrowsInvalidArgument()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("a", [1, 2], 1, 2), Floats("a", [1, 2], 3, 4)];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(TwoInputs, inputs));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void ValidateInputs_WrongDType_ThrowsTensorFlowMessage()
    {
        // Arrange
        NamedTensor[] inputs = [new("x", TensorData.FromSpan<double>(TensorDType.Double, [1, 1], [1.0]))];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(HalfPlusTwo, inputs));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Expects arg[0] to be float but double is provided", error.Message);
    }

    [Fact]
    public void ValidateInputs_WrongDTypeOnSecondInput_NamesItsIndex()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("a", [1, 2], 1, 2), new("b", TensorData.FromSpan<int>(TensorDType.Int32, [1, 2], [1, 2]))];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(TwoInputs, inputs));

        // Assert
        Assert.Equal("Expects arg[1] to be float but int32 is provided", error.Message);
    }

    [Fact]
    public void ValidateInputs_WrongShape_ThrowsInvalidArgument()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("x", [1, 2], 1, 2)];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(HalfPlusTwo, inputs));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Input 'x' has shape [1,2] but the signature requires [-1,1]", error.Message);
    }

    [Fact]
    public void ValidateInputs_DataLengthDisagreesWithShape_ThrowsInvalidArgument()
    {
        // Arrange: shape [2,1] needs 8 bytes of float, 4 are given
        NamedTensor[] inputs = [new("x", new TensorData(TensorDType.Float, [2, 1], new byte[4]))];

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateInputs(HalfPlusTwo, inputs));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Input 'x' has 4 bytes but shape [2,1] of DT_FLOAT needs 8", error.Message);
    }

    [Fact]
    public void ValidateEncoding_StringCountDisagreesWithShape_ThrowsInvalidArgument()
    {
        // Arrange
        var tensor = TensorData.FromStrings([3], [[1], [2]]);

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateEncoding("text", tensor));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("Input 'text' has 2 strings but shape [3] needs 3", error.Message);
    }

    [Fact]
    public void ValidateEncoding_TruncatedStringEncoding_ThrowsInvalidArgument()
    {
        // Arrange: declares a 10-byte element but carries 2 bytes
        var tensor = new TensorData(TensorDType.String, [1], [10, 0, 0, 0, 65, 66]);

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateEncoding("text", tensor));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Input 'text': ", error.Message);
    }

    [Fact]
    public void ValidateEncoding_NegativeDimension_ThrowsInvalidArgument()
    {
        // Arrange
        var tensor = new TensorData(TensorDType.Float, [-1, 1], []);

        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ValidateEncoding("x", tensor));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void ResolveOutputs_EmptyFilter_ReturnsAllOutputsInSignatureOrder()
    {
        // Act
        var outputs = SignatureValidator.ResolveOutputs(TwoInputs, []);

        // Assert
        Assert.Equal(["sum", "diff"], outputs);
    }

    [Fact]
    public void ResolveOutputs_Filter_ReturnsFilterOrder()
    {
        // Act
        var outputs = SignatureValidator.ResolveOutputs(TwoInputs, ["diff", "sum"]);

        // Assert
        Assert.Equal(["diff", "sum"], outputs);
    }

    [Fact]
    public void ResolveOutputs_UnknownAlias_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ResolveOutputs(TwoInputs, ["product"]));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("output tensor alias not found in signature: product", error.Message);
    }

    [Fact]
    public void ResolveOutputs_DuplicateAlias_ThrowsInvalidArgument()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => SignatureValidator.ResolveOutputs(TwoInputs, ["sum", "sum"]));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Equal("duplicate output tensor alias: sum", error.Message);
    }

    [Fact]
    public void RestoreTrailingUnitDimension_OneShortOfUnitDimension_AppendsIt()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("x", [3], 1, 2, 5)];

        // Act
        var (restored, wasRestored) = SignatureValidator.RestoreTrailingUnitDimension(HalfPlusTwo, inputs);

        // Assert
        Assert.True(wasRestored);
        var input = Assert.Single(restored);
        Assert.Equal("x", input.Name);
        Assert.Equal([3L, 1L], input.Tensor.Shape);
        Assert.Equal([1f, 2f, 5f], input.Tensor.AsSpan<float>().ToArray());
        Assert.Equal([3L], inputs[0].Tensor.Shape);   // the request itself is not mutated
    }

    [Fact]
    public void RestoreTrailingUnitDimension_ShapeAlreadyMatches_LeavesInputsUnchanged()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("x", [3, 1], 1, 2, 5)];

        // Act
        var (restored, wasRestored) = SignatureValidator.RestoreTrailingUnitDimension(HalfPlusTwo, inputs);

        // Assert
        Assert.False(wasRestored);
        Assert.Same(inputs, restored);
        Assert.Equal([3L, 1L], restored[0].Tensor.Shape);
    }

    [Fact]
    public void RestoreTrailingUnitDimension_NonUnitTrailingDimension_LeavesInputsUnchanged()
    {
        // Arrange
        NamedTensor[] inputs = [Floats("x", [3, 2], 1, 2, 3, 4, 5, 6)];

        // Act
        var (restored, wasRestored) = SignatureValidator.RestoreTrailingUnitDimension(HalfPlusTwo, inputs);

        // Assert
        Assert.False(wasRestored);
        Assert.Equal([3L, 2L], restored[0].Tensor.Shape);
    }

    [Fact]
    public void RestoreTrailingUnitDimension_ScalarInput_LeavesInputsUnchanged()
    {
        // Arrange
        var signature = HalfPlusTwo with { Inputs = [new TensorSpec("x", "x", TensorDType.Float, [1])] };
        NamedTensor[] inputs = [Floats("x", [], 4)];

        // Act
        var (restored, wasRestored) = SignatureValidator.RestoreTrailingUnitDimension(signature, inputs);

        // Assert
        Assert.False(wasRestored);
        Assert.Empty(restored[0].Tensor.Shape);
    }

    [Fact]
    public void DropTrailingUnitDimension_TrailingOne_RemovesIt()
    {
        // Arrange
        var output = Floats("y", [3, 1], 2.5f, 3, 4.5f);

        // Act
        var dropped = SignatureValidator.DropTrailingUnitDimension(output);

        // Assert
        Assert.Equal("y", dropped.Name);
        Assert.Equal([3L], dropped.Tensor.Shape);
        Assert.Equal([2.5f, 3f, 4.5f], dropped.Tensor.AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData(new long[] { 3 })]
    [InlineData(new long[] { 3, 2 })]
    [InlineData(new long[] { 1 })]
    public void DropTrailingUnitDimension_NoDroppableDimension_ReturnsSameShape(long[] shape)
    {
        // Arrange
        var count = (int)TensorData.CountElements(shape);
        var output = Floats("y", shape, new float[count]);

        // Act
        var dropped = SignatureValidator.DropTrailingUnitDimension(output);

        // Assert
        Assert.Equal(shape, dropped.Tensor.Shape);
    }

    [Fact]
    public void Prepare_RankOneInputForUnitSignature_RestoresAndResolvesOutputs()
    {
        // Arrange
        var request = new InferenceRequest(ModelSignature.DefaultKey, [Floats("x", [3], 1, 2, 5)], []);

        // Act
        var prepared = SignatureValidator.Prepare(HalfPlusTwo, request);

        // Assert
        Assert.True(prepared.RestoredUnitDimension);
        Assert.Equal([3L, 1L], Assert.Single(prepared.Inputs).Tensor.Shape);
        Assert.Equal(["y"], prepared.OutputAliases);
    }
}
