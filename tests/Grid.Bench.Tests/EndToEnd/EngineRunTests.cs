using System.Text.Json;
using Grid.Bench.Results;
using Grid.Testing;

namespace Grid.Bench.Tests.EndToEnd;

/// <summary>
/// grid-bench with both engines on both devices, on a machine whose libtorch is the bundled CPU
/// build: ONNX Runtime and libtorch on the CPU are measured, raw and through grid serve with
/// batching, and every GPU series is reported as failed with the reason, without a crash.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class EngineRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Main_BothEnginesOnCpuAndGpuWithoutCuda_MeasuresCpuAndFailsGpuWithTheReason()
    {
        // Arrange
        using var temp = new TempDirectory();
        var outDir = temp.Combine("out");

        // Act
        var (exit, stderr) = await BenchProcess.RunAsync(
            ["--quick", "--models", "fashion", "--configs", "onnx,torch,grid-batching", "--engines", "onnxruntime_onnx,pytorch_libtorch",
             "--devices", "cpu,gpu", "--protocols", "grpc", "--batch_sizes", "1,16", "--out", outDir], RunTimeout).WithTimeout(RunTimeout + TimeSpan.FromSeconds(10));
        output.WriteLine(stderr);

        // Assert: a configuration failed, so exit 1, but the run went on
        Assert.True(exit == 1, $"grid-bench exited with {exit}:\n{stderr}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, ReportWriter.JsonFile)).DefaultTimeout());
        var root = json.RootElement;
        var points = root.GetProperty("points").EnumerateArray().ToList();
        foreach (var (series, engine, device, count) in new[]
                 {
                     ("onnx", "onnxruntime_onnx", "cpu", 2), ("torch-cpu", "pytorch_libtorch", "cpu", 2),
                     ("grid-batching", "onnxruntime_onnx", "cpu", 2), ("grid-batching+torch-cpu", "pytorch_libtorch", "cpu", 2),
                 })
        {
            var measured = points.Where(p => p.GetProperty("series").GetString() == series).ToList();
            Assert.True(measured.Count == count, $"{series}: {measured.Count} points:\n{stderr}");
            Assert.All(measured, p =>
            {
                Assert.Equal(engine, p.GetProperty("engine").GetString());
                Assert.Equal(device, p.GetProperty("device").GetString());
                Assert.True(p.GetProperty("samplesPerSecond").GetDouble() > 0 && p.GetProperty("errors").GetInt64() == 0, p.ToString());
            });
        }
        Assert.DoesNotContain(points, p => p.GetProperty("device").GetString() == "gpu");

        // ...every GPU series failed, each saying why: ONNX Runtime is the CPU build, libtorch the bundled CPU one
        var failures = root.GetProperty("failures").EnumerateArray().ToList();
        Assert.Equal(["onnx-gpu", "torch-gpu", "grid-batching+onnx-gpu", "grid-batching+torch-gpu"], failures.Select(f => f.GetProperty("series").GetString()));
        Assert.All(failures, f =>
        {
            Assert.Equal("gpu", f.GetProperty("device").GetString());
            Assert.StartsWith("no usable GPU", f.GetProperty("reason").GetString());
        });
        Assert.Equal("no usable GPU for ONNX Runtime: this build's ONNX Runtime has no CUDA execution provider (build with -p:GridOnnxRuntime=cuda)", failures[0].GetProperty("reason").GetString());
        Assert.Contains("libtorch-cpu", root.GetProperty("machine").GetProperty("libTorch").GetString());

        // ...and results.md puts the engines side by side
        var md = await File.ReadAllTextAsync(Path.Combine(outDir, ReportWriter.MarkdownFile)).DefaultTimeout();
        Assert.Contains("## Engines and devices side by side", md);
        Assert.Contains("| batch | onnx | onnx-gpu | torch-cpu | torch-gpu |", md);
        Assert.Contains("| clients | grid-batching | grid-batching+onnx-gpu | grid-batching+torch-cpu | grid-batching+torch-gpu |", md);
        Assert.Contains("- **grid-batching+torch-gpu**: no usable GPU: ", md);
        Assert.Contains("fashion, 64 concurrent gRPC clients: grid-batching+torch-cpu ÷ grid-batching samples/s = **", md);
    }

    [Fact]
    public async Task Main_LibTorchPathThatIsNotLibTorch_FailsEverySeriesThatLoadsItWithTheReason()
    {
        // Arrange: a directory, but no libtorch in it
        using var temp = new TempDirectory();
        var outDir = temp.Combine("out");
        var notLibTorch = temp.Combine("lib");
        Directory.CreateDirectory(notLibTorch);

        // Act
        var (exit, stderr) = await BenchProcess.RunAsync(
            ["--quick", "--models", "fashion", "--configs", "onnx,torch,grid", "--engines", "onnxruntime_onnx,pytorch_libtorch", "--protocols", "grpc",
             "--batch_sizes", "1", "--libtorch_path", notLibTorch, "--out", outDir], RunTimeout).WithTimeout(RunTimeout + TimeSpan.FromSeconds(10));
        output.WriteLine(stderr);

        // Assert: raw ONNX Runtime still measured; raw torch and every grid (whose process gets the same --libtorch_path) failed, each saying why
        Assert.True(exit == 1, $"grid-bench exited with {exit}:\n{stderr}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, ReportWriter.JsonFile)).DefaultTimeout());
        var root = json.RootElement;
        Assert.Equal(["onnx"], root.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("series").GetString()).Distinct());
        var failures = root.GetProperty("failures").EnumerateArray().ToDictionary(f => f.GetProperty("series").GetString()!, f => f.GetProperty("reason").GetString()!);
        Assert.Equal(["torch-cpu", "grid", "grid+torch-cpu"], failures.Keys);
        Assert.All(failures.Values, reason => Assert.Contains("no libtorch.so there", reason));   // grid-bench's own load, and grid serve's
    }

    [Theory]
    [InlineData(new[] { "--engines", "onnxruntime_onnx,tensorflow" },
                "grid-bench: --engines: unknown 'tensorflow' (expected some of onnxruntime_onnx, pytorch_libtorch)")]
    [InlineData(new[] { "--devices", "tpu" },
                "grid-bench: --devices: unknown 'tpu' (expected some of cpu, gpu)")]
    [InlineData(new[] { "--configs", "minimal,empty", "--devices", "cpu,gpu" },
                "grid-bench: --devices gpu: nothing selected runs on gpu (add a grid configuration, or onnx or torch to --configs)")]
    [InlineData(new[] { "--configs", "torch", "--libtorch_path", "/nonexistent/torch/lib" },
                "grid-bench: --libtorch_path '/nonexistent/torch/lib' is not a directory")]
    public async Task Main_BadEngineOption_ExitsTwoWithOneLine(string[] args, string expected)
    {
        var (exit, stderr) = await BenchProcess.RunAsync(args, TimeSpan.FromSeconds(60)).WithTimeout(TimeSpan.FromSeconds(70));

        Assert.Equal(2, exit);
        Assert.Equal(expected, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
