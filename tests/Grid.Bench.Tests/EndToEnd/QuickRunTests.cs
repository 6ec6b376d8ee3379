using System.Buffers.Binary;
using System.Text.Json;
using Grid.Bench.Results;
using Grid.Testing;

namespace Grid.Bench.Tests.EndToEnd;

/// <summary>
/// The built grid-bench in quick mode as a child process, against real servers on 127.0.0.1:
/// raw ONNX, the empty and minimal servers, grid serve, grid serve with batching, and a
/// Redis + grid silo + grid gateway cluster. gRPC only and a low open-loop rate, to stay
/// around a minute.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class QuickRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(180);
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Main_QuickRun_MeasuresEveryConfigurationWithoutErrorsAndWritesTheReport()
    {
        // Arrange
        using var temp = new TempDirectory();
        var outDir = temp.Combine("out");

        // Act
        var (exit, stderr) = await RunAsync(["--quick", "--protocols", "grpc", "--rate", "50", "--out", outDir]).WithTimeout(RunTimeout);
        output.WriteLine(stderr);

        // Assert: every configuration a–f has a point that answered, without errors (raw torch runs only when asked for)
        Assert.True(exit == 0, $"grid-bench exited with {exit}:\n{stderr}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, ReportWriter.JsonFile)).DefaultTimeout());
        var root = json.RootElement;
        Assert.Empty(root.GetProperty("failures").EnumerateArray());
        var points = root.GetProperty("points").EnumerateArray().ToList();
        foreach (var config in BenchConfigs.Default)
        {
            Assert.True(
                points.Any(p => p.GetProperty("config").GetString() == config
                                && p.GetProperty("throughputRps").GetDouble() > 0
                                && p.GetProperty("errors").GetInt64() == 0),
                $"no successful error-free point for {config}:\n{stderr}");
        }
        Assert.Contains(points, p => p.GetProperty("mode").GetString() == BenchModes.Open && p.GetProperty("config").GetString() == BenchConfigs.Grid);

        // ...including the cluster, through its gateway, at every closed-loop point of the quick mode
        var cluster = points.Where(p => p.GetProperty("config").GetString() == BenchConfigs.GridCluster
                                        && p.GetProperty("mode").GetString() == BenchModes.Closed).ToList();
        Assert.Equal(4, cluster.Count);   // 2 models × clients 1 and 64
        Assert.All(cluster, p => Assert.True(p.GetProperty("throughputRps").GetDouble() > 0 && p.GetProperty("errors").GetInt64() == 0, p.ToString()));
        Assert.True(root.GetProperty("machine").GetProperty("cpuCount").GetInt32() > 0);

        // ...the ratios come from the same run, every one of them computed
        var ratios = root.GetProperty("ratios").EnumerateArray().ToList();
        Assert.Equal(7, ratios.Count);
        Assert.All(ratios, r => Assert.True(r.TryGetProperty("value", out var v) && v.GetDouble() > 0, r.ToString()));

        // ...results.md has the side-by-side tables and the ratio lines
        var md = await File.ReadAllTextAsync(Path.Combine(outDir, ReportWriter.MarkdownFile)).DefaultTimeout();
        Assert.Contains("## fashion · gRPC · closed loop", md);
        Assert.Contains("## convnet · gRPC · closed loop", md);
        Assert.Contains("| clients | empty | minimal | grid | grid-batching | grid-cluster |", md);
        Assert.Contains("## Raw ONNX Runtime", md);
        Assert.Contains("## Ratios", md);
        foreach (var r in ratios)
        {
            Assert.Contains($"- {r.GetProperty("description").GetString()} = **", md);
        }

        // ...and throughput.png is a PNG with a real size
        var png = await File.ReadAllBytesAsync(Path.Combine(outDir, ReportWriter.ChartFile)).DefaultTimeout();
        Assert.True(png.Length > 1000);
        Assert.Equal(PngSignature, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.True(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)) >= 640);
        Assert.True(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)) >= 480);
    }

    [Fact]
    public async Task Main_UnknownConfig_ExitsTwoWithOneLine()
    {
        var (exit, stderr) = await RunAsync(["--configs", "grid,triton"]).WithTimeout(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("grid-bench: --configs: unknown 'triton' (expected some of onnx, torch, empty, minimal, grid, grid-batching, grid-cluster)", line);
    }

    [Fact]
    public async Task Main_UnknownFlag_ExitsTwoWithOneLine()
    {
        var (exit, stderr) = await RunAsync(["--no_such_flag"]).WithTimeout(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("grid-bench: ", line);
        Assert.Contains("--no_such_flag", line);
    }

    private static Task<(int ExitCode, string StdErr)> RunAsync(string[] args) => BenchProcess.RunAsync(args, RunTimeout);
}
