using Grid.Bench.Results;

namespace Grid.Bench.Tests.Results;

public sealed class EngineVariantTests
{
    [Fact]
    public void Combine_EnginesAndDevicesInAnyOrder_ReturnsTheCanonicalOrder()
    {
        var variants = EngineVariant.Combine(["pytorch_libtorch", "onnxruntime_onnx"], ["gpu", "cpu"]);

        Assert.Equal(["onnx-cpu", "onnx-gpu", "torch-cpu", "torch-gpu"], variants.Select(v => v.Name));
    }

    [Fact]
    public void Combine_OnnxRuntimeOnGpu_IsAVariant()
    {
        Assert.Equal([new EngineVariant("onnxruntime_onnx", "gpu")], EngineVariant.Combine(["onnxruntime_onnx"], ["gpu"]));
    }

    [Fact]
    public void IsDefault_OnlyOnnxRuntimeOnCpu()
    {
        Assert.True(EngineVariant.OnnxCpu.IsDefault);
        Assert.True(new EngineVariant("onnxruntime_onnx", "cpu").IsDefault);
        Assert.False(new EngineVariant("pytorch_libtorch", "cpu").IsDefault);
    }

    [Theory]
    [InlineData("grid", "onnxruntime_onnx", "cpu", "grid")]
    [InlineData("grid", "pytorch_libtorch", "cpu", "grid+torch-cpu")]
    [InlineData("grid-batching", "pytorch_libtorch", "gpu", "grid-batching+torch-gpu")]
    [InlineData("grid-cluster", "pytorch_libtorch", "cpu", "grid-cluster+torch-cpu")]
    [InlineData("onnx", "onnxruntime_onnx", "cpu", "onnx")]
    [InlineData("onnx", "onnxruntime_onnx", "gpu", "onnx-gpu")]
    [InlineData("grid-batching", "onnxruntime_onnx", "gpu", "grid-batching+onnx-gpu")]
    [InlineData("torch", "pytorch_libtorch", "cpu", "torch-cpu")]
    [InlineData("torch", "pytorch_libtorch", "gpu", "torch-gpu")]
    [InlineData("minimal", "onnxruntime_onnx", "cpu", "minimal")]
    [InlineData("empty", null, null, "empty")]
    public void Name_ConfigEngineDevice_IsTheSeriesName(string config, string? engine, string? device, string expected)
    {
        Assert.Equal(expected, BenchSeries.Name(config, engine, device));
    }

    [Fact]
    public void Series_OfAPoint_FollowsItsEngineAndDevice()
    {
        var point = SamplePoints.Closed("grid-batching", "fashion", 64, 100) with { Engine = "pytorch_libtorch", Device = "gpu" };

        Assert.Equal("grid-batching+torch-gpu", point.Series);
    }

    [Fact]
    public void Raw_OnnxAndTorchOnBothDevices_OnnxFirst()
    {
        Assert.Equal(["onnx", "onnx-gpu", "torch-cpu", "torch-gpu"], BenchSeries.Raw(["torch", "onnx", "grid"], ["gpu", "cpu"]));
        Assert.Equal(["onnx", "onnx-gpu"], BenchSeries.Raw(["onnx"], ["gpu"]));
        Assert.Equal(["onnx"], BenchSeries.Raw(["onnx"], ["cpu"]));
    }
}
