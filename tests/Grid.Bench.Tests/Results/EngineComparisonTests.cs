using Grid.Bench.Results;

namespace Grid.Bench.Tests.Results;

/// <summary>Other engines and devices against ONNX Runtime on the CPU: baselines, ratios, the ratio list and the report section.</summary>
public sealed class EngineComparisonTests
{
    private static List<BenchPoint> EnginePoints() =>
    [
        SamplePoints.Onnx("fashion", 1, 100_000),
        SamplePoints.Onnx("fashion", 16, 600_000),
        SamplePoints.Torch("fashion", 1, 40_000),
        SamplePoints.Torch("fashion", 16, 300_000),
        SamplePoints.Torch("fashion", 16, 900_000, BenchDevices.Gpu),
        SamplePoints.Closed(BenchConfigs.Grid, "fashion", 64, 10_000),
        SamplePoints.ClosedTorch(BenchConfigs.Grid, "fashion", 64, 5_000),
        SamplePoints.Closed(BenchConfigs.GridBatching, "fashion", 64, 20_000),
        SamplePoints.ClosedTorch(BenchConfigs.GridBatching, "fashion", 64, 15_000),
        SamplePoints.ClosedTorch(BenchConfigs.GridBatching, "fashion", 64, 30_000, BenchDevices.Gpu),
        SamplePoints.ClosedTorch(BenchConfigs.GridBatching, "fashion", 1, 2_000),
    ];

    private static BenchPoint Find(List<BenchPoint> points, string series, int? concurrency = null, int batch = 1) =>
        points.Single(p => p.Series == series && p.Concurrency == concurrency && p.BatchSize == batch);

    [Fact]
    public void Baseline_RawTorch_IsRawOnnxAtTheSameBatchSize()
    {
        var points = EnginePoints();

        var baseline = EngineComparison.Baseline(points, Find(points, "torch-gpu", batch: 16));

        Assert.Same(Find(points, "onnx", batch: 16), baseline);
    }

    [Fact]
    public void Baseline_GridOnLibTorch_IsTheSameConfigOnOnnxRuntimeAtTheSameClients()
    {
        var points = EnginePoints();

        var baseline = EngineComparison.Baseline(points, Find(points, "grid-batching+torch-cpu", 64));

        Assert.Same(Find(points, "grid-batching", 64), baseline);
    }

    [Fact]
    public void Baseline_OnnxRuntimeOnCpuItself_IsNone()
    {
        var points = EnginePoints();

        Assert.Null(EngineComparison.Baseline(points, Find(points, "grid", 64)));
        Assert.Null(EngineComparison.Baseline(points, Find(points, "onnx", batch: 1)));
    }

    [Fact]
    public void VersusOnnxCpu_PointWithBaseline_DividesSamplesPerSecond()
    {
        var points = EnginePoints();

        Assert.Equal(0.4, EngineComparison.VersusOnnxCpu(points, Find(points, "torch-cpu", batch: 1))!.Value, 9);
        Assert.Equal(1.5, EngineComparison.VersusOnnxCpu(points, Find(points, "grid-batching+torch-gpu", 64))!.Value, 9);
    }

    [Fact]
    public void VersusOnnxCpu_NoBaselinePoint_IsNull()
    {
        // Arrange: grid-batching on ONNX Runtime was not measured at one client
        var points = EnginePoints();

        // Act + Assert
        Assert.Null(EngineComparison.VersusOnnxCpu(points, Find(points, "grid-batching+torch-cpu", 1)));
    }

    [Fact]
    public void VersusOnnxCpu_BaselineWithoutSuccesses_IsNull()
    {
        var points = EnginePoints()
            .Select(p => p.Series == "grid" ? SamplePoints.Closed(BenchConfigs.Grid, "fashion", 64, 0, errors: 5) : p)
            .ToList();

        Assert.Null(EngineComparison.VersusOnnxCpu(points, Find(points, "grid+torch-cpu", 64)));
    }

    [Fact]
    public void Cell_WithAndWithoutBaseline_ShowsTheRatioOnlyWhenThereIsOne()
    {
        var points = EnginePoints();

        Assert.Equal("5,000 (0.50×)", EngineComparison.Cell(points, Find(points, "grid+torch-cpu", 64)));
        Assert.Equal("10,000", EngineComparison.Cell(points, Find(points, "grid", 64)));
        Assert.Equal("2,000", EngineComparison.Cell(points, Find(points, "grid-batching+torch-cpu", 1)));
    }

    [Fact]
    public void Compute_WithEngineSettings_AddsRatiosAgainstOnnxRuntimeOnCpu()
    {
        // Act
        var ratios = RatioCalculator.Compute(EnginePoints(), SamplePoints.EngineSettings());

        // Assert: the seven; per model raw onnx-gpu, torch-cpu and torch-gpu ÷ onnx, grid and
        // grid-batching on onnx-gpu, torch-cpu and torch-gpu ÷ the same on onnx; then per GPU
        // engine and model, grid-batching on the GPU ÷ the raw engine there, and GPU ÷ CPU raw
        Assert.Equal(7 + 2 * 9 + 2 * 2 * 2, ratios.Count);
        var raw = Assert.Single(ratios, r => r.Id == "fashion_torch-cpu_vs_onnx");
        Assert.Equal(300_000.0 / 600_000, raw.Value!.Value, 9);   // each at its best batch size
        Assert.Equal("fashion: raw torch-cpu ÷ raw onnx samples/s, each at its best batch size (16, 16)", raw.Description);
        Assert.Null(raw.Met);
        Assert.Equal(1.5, Assert.Single(ratios, r => r.Id == "fashion_torch-gpu_vs_onnx").Value!.Value, 9);
        Assert.Equal(0.5, Assert.Single(ratios, r => r.Id == "fashion_grid+torch-cpu_vs_grid").Value!.Value, 9);
        Assert.Equal(0.75, Assert.Single(ratios, r => r.Id == "fashion_grid-batching+torch-cpu_vs_grid-batching").Value!.Value, 9);
        Assert.Equal(1.5, Assert.Single(ratios, r => r.Id == "fashion_grid-batching+torch-gpu_vs_grid-batching").Value!.Value, 9);
        Assert.Equal("no grid+torch-gpu fashion gRPC c=64 point", Assert.Single(ratios, r => r.Id == "fashion_grid+torch-gpu_vs_grid").Missing);
        Assert.Equal("no raw torch-cpu convnet point", Assert.Single(ratios, r => r.Id == "convnet_torch-cpu_vs_onnx").Missing);
        var onGpu = Assert.Single(ratios, r => r.Id == "fashion_grid-batching+torch-gpu_vs_torch-gpu");
        Assert.Equal(30_000.0 / 900_000, onGpu.Value!.Value, 9);
        Assert.Null(onGpu.Target);
        Assert.Equal(0.8, Assert.Single(ratios, r => r.Id == "convnet_grid-batching+torch-gpu_vs_torch-gpu").Target);
        var gpuVsCpu = Assert.Single(ratios, r => r.Id == "convnet_torch-gpu_vs_torch-cpu");
        Assert.Equal(10.0, gpuVsCpu.Target);
        Assert.Equal("no raw torch-gpu convnet point at a batch ≥ 32 that torch-cpu measured too", gpuVsCpu.Missing);
    }

    [Fact]
    public void GpuRatios_OnnxRuntimeOnGpu_ComparesBatchingWithTheRawGpuAndTheGpuWithTheCpuAtTheLargestCommonBatch()
    {
        // Arrange: raw onnx on both devices at 1, 32 and 64 (the CPU did not finish 64), grid-batching on the GPU
        List<BenchPoint> points =
        [
            SamplePoints.Onnx("convnet", 1, 2_000),
            SamplePoints.Onnx("convnet", 32, 2_500),
            SamplePoints.Onnx("convnet", 64, 2_600) with { Errors = 1 },
            SamplePoints.Onnx("convnet", 1, 3_000) with { Engine = BenchEngines.OnnxRuntime, Device = BenchDevices.Gpu },
            SamplePoints.Onnx("convnet", 32, 40_000) with { Engine = BenchEngines.OnnxRuntime, Device = BenchDevices.Gpu },
            SamplePoints.Onnx("convnet", 64, 50_000) with { Engine = BenchEngines.OnnxRuntime, Device = BenchDevices.Gpu },
            SamplePoints.Closed(BenchConfigs.GridBatching, "convnet", 64, 42_000) with { Engine = BenchEngines.OnnxRuntime, Device = BenchDevices.Gpu },
        ];
        var settings = SamplePoints.EngineSettings([BenchConfigs.Onnx, BenchConfigs.GridBatching]) with
        {
            Models = ["convnet"], Engines = [BenchEngines.OnnxRuntime], Devices = BenchDevices.All,
        };

        // Act
        var ratios = RatioCalculator.GpuRatios(points, settings);

        // Assert
        Assert.Equal(2, ratios.Count);
        var batching = Assert.Single(ratios, r => r.Id == "convnet_grid-batching+onnx-gpu_vs_onnx-gpu");
        Assert.Equal(42_000.0 / 50_000, batching.Value!.Value, 9);
        Assert.True(batching.Met);
        var gpuVsCpu = Assert.Single(ratios, r => r.Id == "convnet_onnx-gpu_vs_onnx");
        Assert.Equal("convnet: raw onnx-gpu ÷ raw onnx samples/s at batch 32", gpuVsCpu.Description);
        Assert.Equal(16.0, gpuVsCpu.Value!.Value, 9);
        Assert.True(gpuVsCpu.Met);
    }

    [Fact]
    public void Compute_WithoutSettings_IsTheSevenOnly()
    {
        Assert.Equal(7, RatioCalculator.Compute(EnginePoints()).Count);
    }

    [Fact]
    public void Compute_OnnxRuntimeOnCpuOnly_AddsNothing()
    {
        var settings = SamplePoints.EngineSettings(BenchConfigs.Default) with { Engines = [BenchEngines.OnnxRuntime], Devices = [BenchDevices.Cpu] };

        Assert.Equal(7, RatioCalculator.Compute(EnginePoints(), settings).Count);
    }

    [Fact]
    public void Render_EngineRun_PutsEnginesSideBySideWithRatios()
    {
        // Arrange
        var report = SamplePoints.Report(EnginePoints(),
            new BenchFailure(BenchConfigs.Grid, "no usable GPU: the bundled libtorch is the CPU build") { Engine = BenchEngines.LibTorch, Device = BenchDevices.Gpu })
            with { Settings = SamplePoints.EngineSettings() };

        // Act
        var md = MarkdownReport.Render(report);

        // Assert: the closed-loop tables have one column per series
        Assert.Contains("| clients | grid | grid+onnx-gpu | grid+torch-cpu | grid+torch-gpu | grid-batching | grid-batching+onnx-gpu | grid-batching+torch-cpu | grid-batching+torch-gpu |", md);
        Assert.Contains("| 64 | 10,000 | – | 5,000 | – | 20,000 | – | 15,000 | 30,000 |", md);
        // ...each raw series has its own sweep
        Assert.Contains("## Raw libtorch on cpu (in-process TorchScript; input copied to the device and output back to the host every batch)", md);
        Assert.Contains("## Raw libtorch on gpu", md);
        // ...and the side-by-side section carries the ratios to ONNX Runtime on the CPU
        Assert.Contains("## Engines and devices side by side", md);
        Assert.Contains("| batch | onnx | onnx-gpu | torch-cpu | torch-gpu |", md);
        Assert.Contains("| 16 | 600,000 | – | 300,000 (0.50×) | 900,000 (1.50×) |", md);
        Assert.Contains("| 64 | 10,000, 1.000 ms | – | 5,000 (0.50×), 1.000 ms | – | 20,000, 1.000 ms | – | 15,000 (0.75×), 1.000 ms | 30,000 (1.50×), 1.000 ms |", md);
        // ...and the GPU failure is named by its series
        Assert.Contains("- **grid+torch-gpu**: no usable GPU: the bundled libtorch is the CPU build", md);
    }

    [Fact]
    public void Render_OnnxRuntimeOnCpuOnly_HasNoEngineSection()
    {
        var md = MarkdownReport.Render(SamplePoints.Report(SamplePoints.Complete()) with
        {
            Settings = SamplePoints.EngineSettings(BenchConfigs.Default) with { Engines = [BenchEngines.OnnxRuntime], Devices = [BenchDevices.Cpu] },
        });

        Assert.DoesNotContain("## Engines and devices", md);
        Assert.DoesNotContain("Raw libtorch", md);
    }
}
