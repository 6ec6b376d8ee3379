using System.Text;
using Grid.Models;
using Grid.Serving.Inference;
using Grid.Testing;
using Grid.Tensors;

namespace Grid.Serving.Tests.Inference;

public sealed class OnnxModelEngineTests : IDisposable
{
    private readonly OnnxModelEngine _engine = new(new OnnxRuntimeOptions());
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static NamedTensor Tensor<T>(string name, TensorDType dtype, long[] shape, params T[] values) where T : unmanaged
        => new(name, TensorData.FromSpan<T>(dtype, shape, values));

    [Fact]
    public void Name_Always_IsTritonsPlatformName()
    {
        // Act
        var name = _engine.Name;

        // Assert
        Assert.Equal("onnxruntime_onnx", name);
    }

    [Fact]
    public void CanLoad_DirectoryWithModelFile_ReturnsTrue()
    {
        // Act
        var canLoad = _engine.CanLoad(RepoPaths.ExampleModel("half_plus_two", 123));

        // Assert
        Assert.True(canLoad);
    }

    [Fact]
    public void CanLoad_DirectoryWithoutModelFile_ReturnsFalse()
    {
        // Act
        var canLoad = _engine.CanLoad(_temp.Path);

        // Assert
        Assert.False(canLoad);
    }

    [Fact]
    public void Load_HalfPlusTwo_DerivesServingDefaultSignature()
    {
        // Act
        using var session = _engine.Load(RepoPaths.ExampleModel("half_plus_two", 123));

        // Assert
        var signature = Assert.Single(session.Signatures);
        Assert.Equal("serving_default", signature.Key);
        Assert.Equal("tensorflow/serving/predict", signature.MethodName);
        var input = Assert.Single(signature.Inputs);
        Assert.Equal("x", input.Alias);
        Assert.Equal(TensorDType.Float, input.DType);
        Assert.NotNull(input.Shape);
        Assert.Equal([-1L, 1L], input.Shape);
        var output = Assert.Single(signature.Outputs);
        Assert.Equal("y", output.Alias);
        Assert.Equal(TensorDType.Float, output.DType);
    }

    [Fact]
    public void Run_HalfPlusTwo_ComputesHalfPlusTwo()
    {
        // Arrange
        using var session = _engine.Load(RepoPaths.ExampleModel("half_plus_two", 123));
        var signature = session.Signatures[0];
        NamedTensor[] inputs = [Tensor<float>("x", TensorDType.Float, [3, 1], 1f, 2f, 5f)];

        // Act
        var outputs = session.Run(signature, inputs, ["y"]);

        // Assert
        var y = Assert.Single(outputs);
        Assert.Equal("y", y.Name);
        Assert.Equal(TensorDType.Float, y.Tensor.DType);
        Assert.Equal([3L, 1L], y.Tensor.Shape);
        Assert.Equal([2.5f, 3f, 4.5f], y.Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Run_RankMismatch_ThrowsInvalidArgument()
    {
        // Arrange
        using var session = _engine.Load(RepoPaths.ExampleModel("half_plus_two", 123));
        NamedTensor[] inputs = [Tensor<float>("x", TensorDType.Float, [3], 1f, 2f, 5f)];

        // Act
        var error = Assert.Throws<ServingException>(() => session.Run(session.Signatures[0], inputs, ["y"]));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Load_DTypesModel_ExposesEveryDType()
    {
        // Act
        using var session = _engine.Load(RepoPaths.TestModel("dtypes"));

        // Assert
        var signature = session.Signatures[0];
        Assert.Equal(
            ["float_in", "double_in", "int32_in", "int64_in", "uint8_in", "int8_in", "int16_in", "bool_in"],
            signature.Inputs.Select(i => i.Alias));
        Assert.Equal(
            [TensorDType.Float, TensorDType.Double, TensorDType.Int32, TensorDType.Int64, TensorDType.UInt8, TensorDType.Int8, TensorDType.Int16, TensorDType.Bool],
            signature.Inputs.Select(i => i.DType));
        Assert.All(signature.Inputs, i => Assert.Equal([-1L, -1L], Assert.IsType<long[]>(i.Shape)));
        Assert.Equal(signature.Inputs.Select(i => i.DType), signature.Outputs.Select(o => o.DType));
    }

    [Fact]
    public void Run_DTypesModel_RoundTripsEveryDTypeExactly()
    {
        // Arrange
        using var session = _engine.Load(RepoPaths.TestModel("dtypes"));
        long[] shape = [2, 2];
        NamedTensor[] inputs =
        [
            Tensor("float_in", TensorDType.Float, shape, 1.5f, -0.25f, float.MaxValue, 3.1415927f),
            Tensor("double_in", TensorDType.Double, shape, 1.0 / 3.0, -2.5, double.Epsilon, 1e300),
            Tensor("int32_in", TensorDType.Int32, shape, int.MinValue, -1, 0, int.MaxValue),
            Tensor("int64_in", TensorDType.Int64, shape, long.MinValue, -7L, 9_007_199_254_740_993L, long.MaxValue),
            Tensor<byte>("uint8_in", TensorDType.UInt8, shape, 0, 1, 128, 255),
            Tensor<sbyte>("int8_in", TensorDType.Int8, shape, -128, -1, 0, 127),
            Tensor<short>("int16_in", TensorDType.Int16, shape, short.MinValue, -300, 300, short.MaxValue),
            Tensor<byte>("bool_in", TensorDType.Bool, shape, 1, 0, 0, 1),
        ];
        var aliases = inputs.Select(i => i.Name.Replace("_in", "_out", StringComparison.Ordinal)).ToArray();

        // Act
        var outputs = session.Run(session.Signatures[0], inputs, aliases);

        // Assert
        Assert.Equal(aliases, outputs.Select(o => o.Name));
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(inputs[i].Tensor.DType, outputs[i].Tensor.DType);
            Assert.Equal(shape, outputs[i].Tensor.Shape);
            Assert.Equal(inputs[i].Tensor.Data, outputs[i].Tensor.Data);
        }
    }

    [Fact]
    public void Run_DTypesModelWithOutputFilter_ReturnsRequestedOutputsInRequestedOrder()
    {
        // Arrange
        using var session = _engine.Load(RepoPaths.TestModel("dtypes"));
        long[] shape = [1, 1];
        NamedTensor[] inputs =
        [
            Tensor("float_in", TensorDType.Float, shape, 2f),
            Tensor("double_in", TensorDType.Double, shape, 3.0),
            Tensor("int32_in", TensorDType.Int32, shape, 4),
            Tensor("int64_in", TensorDType.Int64, shape, 5L),
            Tensor<byte>("uint8_in", TensorDType.UInt8, shape, 6),
            Tensor<sbyte>("int8_in", TensorDType.Int8, shape, 7),
            Tensor<short>("int16_in", TensorDType.Int16, shape, 8),
            Tensor<byte>("bool_in", TensorDType.Bool, shape, 1),
        ];

        // Act
        var outputs = session.Run(session.Signatures[0], inputs, ["int64_out", "float_out"]);

        // Assert
        Assert.Equal(["int64_out", "float_out"], outputs.Select(o => o.Name));
        Assert.Equal([5L], outputs[0].Tensor.AsSpan<long>().ToArray());
        Assert.Equal([2f], outputs[1].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Run_StringsModel_EchoesBytesAndUppercases()
    {
        // Arrange
        using var session = _engine.Load(RepoPaths.TestModel("strings"));
        var signature = session.Signatures[0];
        byte[][] values = [Encoding.UTF8.GetBytes("hello"), Encoding.UTF8.GetBytes("Grid 42"), []];
        NamedTensor[] inputs = [new("text", TensorData.FromStrings([3], values))];

        // Act
        var outputs = session.Run(signature, inputs, ["echo", "upper"]);

        // Assert
        Assert.Equal(TensorDType.String, Assert.Single(signature.Inputs).DType);
        var echo = outputs[0].Tensor;
        var upper = outputs[1].Tensor;
        Assert.Equal(TensorDType.String, echo.DType);
        Assert.Equal([3L], echo.Shape);
        Assert.Equal(values, echo.ReadStrings().Select(s => s.ToArray()));
        Assert.Equal([3L], upper.Shape);
        Assert.Equal(["HELLO", "GRID 42", ""], upper.ReadStrings().Select(s => Encoding.UTF8.GetString(s.Span)));
    }

    [Fact]
    public void Run_MultiIoModel_ReturnsSumAndDifference()
    {
        // Arrange
        using var session = _engine.Load(RepoPaths.TestModel("multi_io"));
        var signature = session.Signatures[0];
        NamedTensor[] inputs =
        [
            Tensor("a", TensorDType.Float, [2, 2], 1f, 2f, 3f, 4f),
            Tensor("b", TensorDType.Float, [2, 2], 10f, 20f, 30f, 40f),
        ];

        // Act
        var outputs = session.Run(signature, inputs, ["sum", "diff"]);

        // Assert
        Assert.Equal(["a", "b"], signature.Inputs.Select(i => i.Alias));
        Assert.Equal(["sum", "diff"], signature.Outputs.Select(o => o.Alias));
        Assert.Equal([-1L, 2L], Assert.IsType<long[]>(signature.Inputs[0].Shape));
        Assert.Equal([2L, 2L], outputs[0].Tensor.Shape);
        Assert.Equal([11f, 22f, 33f, 44f], outputs[0].Tensor.AsSpan<float>().ToArray());
        Assert.Equal([-9f, -18f, -27f, -36f], outputs[1].Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Load_GarbageModelFile_ThrowsServingException()
    {
        // Arrange
        var bytes = new byte[256];
        new Random(1234).NextBytes(bytes);
        _temp.WriteFile("model.onnx", bytes);

        // Act
        var error = Assert.Throws<ServingException>(() => _engine.Load(_temp.Path));

        // Assert
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("Failed to load ONNX model", error.Message);
    }

    [Fact]
    public void Load_DirectoryWithoutModelFile_ThrowsServingException()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => _engine.Load(_temp.Path));

        // Assert
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("model.onnx", error.Message);
    }
}
