using Grid.Bench.Cli;
using Grid.Bench.Results;

namespace Grid.Bench.Tests.Cli;

/// <summary>--engines, --devices and --libtorch_path: the defaults, the checks and what they make a run do.</summary>
public sealed class EngineOptionsTests
{
    private static BenchSettings Settings(IReadOnlyList<string> configs, IReadOnlyList<string> engines, IReadOnlyList<string> devices, string? libtorch = null) => new()
    {
        Models = BenchModel.Defaults,
        Configs = configs,
        Protocols = [BenchProtocols.Grpc],
        Concurrency = [1, 64],
        BatchSizes = [1, 16, 64, 256],
        Rate = 0,
        OutputDirectory = "/tmp/out",
        Examples = "/tmp/examples",
        GridDll = "/tmp/grid.dll",
        Engines = engines,
        Devices = devices,
        LibTorchPath = libtorch,
    };

    [Fact]
    public void ParseNames_UnknownEngine_NamesItAndTheKnownOnes()
    {
        var (values, error) = BenchSettings.ParseNames("--engines", "onnxruntime_onnx,tensorrt_plan", BenchEngines.All);

        Assert.Null(values);
        Assert.Equal("--engines: unknown 'tensorrt_plan' (expected some of onnxruntime_onnx, pytorch_libtorch)", error);
    }

    [Fact]
    public void ParseNames_DevicesInAnyOrder_ReturnsCpuThenGpu()
    {
        var (values, error) = BenchSettings.ParseNames("--devices", "gpu,cpu", BenchDevices.All);

        Assert.Null(error);
        Assert.Equal(["cpu", "gpu"], values);
    }

    [Fact]
    public void DefaultConfigs_OnnxRuntimeOnly_IsTheSixConfigurationsWithoutTorch()
    {
        var configs = BenchSettings.DefaultConfigs([BenchEngines.OnnxRuntime]);

        Assert.Equal(["onnx", "empty", "minimal", "grid", "grid-batching", "grid-cluster"], configs);
        Assert.Equal(BenchConfigs.Default, configs);
    }

    [Fact]
    public void DefaultConfigs_WithLibTorch_AddsRawTorchAfterOnnx()
    {
        var configs = BenchSettings.DefaultConfigs([BenchEngines.OnnxRuntime, BenchEngines.LibTorch]);

        Assert.Equal(["onnx", "torch", "empty", "minimal", "grid", "grid-batching", "grid-cluster"], configs);
    }

    [Fact]
    public void CheckEngines_Defaults_IsValid()
    {
        Assert.Null(BenchSettings.CheckEngines(BenchConfigs.Default, [BenchEngines.OnnxRuntime], [BenchDevices.Cpu]));
    }

    [Fact]
    public void CheckEngines_EveryEngineOnEveryDevice_IsValid()
    {
        Assert.Null(BenchSettings.CheckEngines(["onnx", "torch", "grid", "grid-batching"], BenchEngines.All, BenchDevices.All));
    }

    [Fact]
    public void CheckEngines_OnnxRuntimeOnGpuOnly_IsValid()
    {
        Assert.Null(BenchSettings.CheckEngines(["grid"], [BenchEngines.OnnxRuntime], [BenchDevices.Gpu]));
    }

    [Fact]
    public void CheckEngines_GpuThatNothingSelectedUses_IsAnError()
    {
        var error = BenchSettings.CheckEngines(["minimal", "empty"], [BenchEngines.OnnxRuntime], [BenchDevices.Cpu, BenchDevices.Gpu]);

        Assert.Equal("--devices gpu: nothing selected runs on gpu (add a grid configuration, or onnx or torch to --configs)", error);
    }

    [Fact]
    public void CheckEngines_GpuForRawOnnxOnly_IsValid()
    {
        Assert.Null(BenchSettings.CheckEngines(["onnx"], [BenchEngines.OnnxRuntime], [BenchDevices.Gpu]));
    }

    [Fact]
    public void CheckEngines_GpuForRawTorchOnly_IsValid()
    {
        Assert.Null(BenchSettings.CheckEngines(["onnx", "torch"], [BenchEngines.OnnxRuntime], [BenchDevices.Gpu]));
    }

    [Fact]
    public void CheckEngines_NoGridConfigurationAndOnlyGpuForOnnxRuntime_IsValid()
    {
        // Without a grid configuration the engines choose nothing; raw torch uses the GPU.
        Assert.Null(BenchSettings.CheckEngines(["torch", "empty"], [BenchEngines.OnnxRuntime], [BenchDevices.Gpu]));
    }

    [Fact]
    public void Variants_BothEnginesBothDevices_IsEveryPair()
    {
        var settings = Settings(["grid"], BenchEngines.All, BenchDevices.All);

        Assert.Equal(
            [new EngineVariant("onnxruntime_onnx", "cpu"), new EngineVariant("onnxruntime_onnx", "gpu"), new EngineVariant("pytorch_libtorch", "cpu"), new EngineVariant("pytorch_libtorch", "gpu")],
            settings.Variants);
    }

    [Fact]
    public void ServerSeries_GridConfigsOncePerVariant_OthersOnce()
    {
        var settings = Settings(["onnx", "torch", "empty", "grid", "grid-batching"], BenchEngines.All, BenchDevices.All);

        Assert.Equal(
            ["empty", "grid", "grid+onnx-gpu", "grid+torch-cpu", "grid+torch-gpu", "grid-batching", "grid-batching+onnx-gpu", "grid-batching+torch-cpu", "grid-batching+torch-gpu"],
            settings.ServerSeries);
        Assert.Equal(["cpu", "gpu"], settings.TorchDevices);
    }

    [Fact]
    public void PlannedPoints_EnginesAndDevices_CountsEverySeries()
    {
        // Arrange: 2 models, 4 batch sizes, 2 client counts, gRPC only, no open loop
        var settings = Settings(["onnx", "torch", "grid", "grid-batching"], BenchEngines.All, BenchDevices.All);

        // Act
        var planned = settings.PlannedPoints();

        // Assert: onnx 2 devices × 2×4, torch 2 devices × 2×4, 8 grid series × 2 models × 2 client counts
        Assert.Equal(16 + 16 + 32, planned);
    }

    [Fact]
    public void PlannedPoints_Defaults_AreTheSameAsBeforeEngines()
    {
        var settings = Settings(BenchConfigs.Default, [BenchEngines.OnnxRuntime], [BenchDevices.Cpu]);

        // onnx 2×4, then empty, minimal, grid, grid-batching, grid-cluster × 2 models × 2 client counts
        Assert.Equal(8 + 5 * 4, settings.PlannedPoints());
    }

    [Fact]
    public void ToRecord_EnginesDevicesAndPath_AreRecorded()
    {
        var record = Settings(["torch", "grid"], BenchEngines.All, [BenchDevices.Gpu], "/opt/torch/lib").ToRecord();

        Assert.Equal(BenchEngines.All, record.Engines);
        Assert.Equal(["gpu"], record.Devices);
        Assert.Equal("/opt/torch/lib", record.LibTorchPath);
        Assert.Equal([new EngineVariant("onnxruntime_onnx", "gpu"), new EngineVariant("pytorch_libtorch", "gpu")], record.Variants);
    }

    [Fact]
    public void GridArguments_LibTorchVariantWithPath_AddsLibTorchPath()
    {
        var settings = Settings(["grid"], BenchEngines.All, BenchDevices.All, "/opt/torch/lib") with { GridArgs = ["--tensorflow_intra_op_parallelism", "1"] };

        var args = BenchRunner.GridArguments(settings, new EngineVariant(BenchEngines.LibTorch, BenchDevices.Gpu));

        Assert.Equal(["--tensorflow_intra_op_parallelism", "1", "--libtorch_path", "/opt/torch/lib"], args);
    }

    [Fact]
    public void GridArguments_OnnxRuntimeVariantWithPath_AlsoGetsTheProcessLibTorch()
    {
        var settings = Settings(["grid"], BenchEngines.All, BenchDevices.All, "/opt/torch/lib");

        Assert.Equal(["--libtorch_path", "/opt/torch/lib"], BenchRunner.GridArguments(settings, EngineVariant.OnnxCpu));
    }

    [Fact]
    public void GridArguments_NotAGridConfiguration_AddsNothing()
    {
        var settings = Settings(["minimal"], BenchEngines.All, BenchDevices.All, "/opt/torch/lib");

        Assert.Empty(BenchRunner.GridArguments(settings, null));
    }

    [Fact]
    public void GridArguments_LibTorchWithoutPath_AddsNothing()
    {
        var settings = Settings(["grid"], BenchEngines.All, BenchDevices.All);

        Assert.Empty(BenchRunner.GridArguments(settings, new EngineVariant(BenchEngines.LibTorch, BenchDevices.Cpu)));
    }
}
