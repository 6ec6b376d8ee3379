using Grid.Bench.Results;

namespace Grid.Bench.Tests.Results;

public sealed class MarkdownReportTests
{
    [Fact]
    public void Render_CompleteReport_HasSideBySideTablesPerModelAndProtocol()
    {
        // Arrange
        var report = SamplePoints.Report(SamplePoints.Complete());

        // Act
        var md = MarkdownReport.Render(report);

        // Assert
        Assert.Contains("## fashion · gRPC · closed loop", md);
        Assert.Contains("| clients | empty | minimal | grid | grid-batching | grid-cluster |", md);
        Assert.Contains("| 64 | 10,000 | 5,000 | 4,000 | 7,000 | 2,000 |", md);
        Assert.Contains("| 1 | – | 3,000 | 2,000 | – | 1,000 |", md);
        Assert.Contains("| 1 | – | 0.200 / 0.400 / 0.800 | 0.400 / 0.800 / 1.600 | – | 0.800 / 1.600 / 3.200 |", md);
        Assert.Contains("## convnet · gRPC · closed loop", md);
        Assert.True(md.IndexOf("## fashion", StringComparison.Ordinal) < md.IndexOf("## convnet", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_CompleteReport_ListsEveryRatioLine()
    {
        var report = SamplePoints.Report(SamplePoints.Complete());

        var md = MarkdownReport.Render(report);

        Assert.Contains("## Ratios", md);
        foreach (var ratio in report.Ratios)
        {
            Assert.Contains("- " + ratio.ToLine(), md);
        }
        Assert.Contains("grid-batching samples/s ÷ raw ONNX samples/s at its best batch size (16) = **0.84**", md);
        Assert.Contains("- fashion, 64 concurrent gRPC clients: grid-cluster ÷ grid samples/s = **0.50** (2,000 ÷ 4,000; no target)", md);
    }

    [Fact]
    public void Render_OnnxPoints_HasTheBatchSweepAndTheBest()
    {
        var md = MarkdownReport.Render(SamplePoints.Report(SamplePoints.Complete()));

        Assert.Contains("## Raw ONNX Runtime (in-process, one session, default options)", md);
        Assert.Contains("| batch | convnet samples/s | convnet ms/batch |", md);
        Assert.Contains("| 16 | 500 | 32.00 |", md);
        Assert.Contains("- convnet: best 500 samples/s at batch 16.", md);
    }

    [Fact]
    public void Render_ErrorsAndFailures_AreShownNotHidden()
    {
        // Arrange
        var points = SamplePoints.Complete();
        points.Add(SamplePoints.Closed(BenchConfigs.Grid, "fashion", 128, 900, errors: 3));
        var report = SamplePoints.Report(points, new BenchFailure(BenchConfigs.GridBatching, "grid exited with code 2 | see log"));

        // Act
        var md = MarkdownReport.Render(report);

        // Assert
        Assert.Contains("## Failed configurations", md);
        Assert.Contains("- **grid-batching**: grid exited with code 2 \\| see log", md);
        Assert.Contains("| 128 | – | – | 900 (3 err) | – | – |", md);
        Assert.Contains("- grid · fashion · gRPC · c=128: 3 errors, 0 dropped; first: `gRPC Unavailable: queue full`", md);
    }

    [Fact]
    public void Render_NoErrors_SaysSo()
    {
        var md = MarkdownReport.Render(SamplePoints.Report(SamplePoints.Complete()));

        Assert.Contains("None: every request of every point was answered successfully.", md);
        Assert.DoesNotContain("## Failed configurations", md);
    }

    [Fact]
    public void Render_OpenLoopPoint_HasItsOwnTable()
    {
        var points = SamplePoints.Complete();
        points.Add(SamplePoints.Closed(BenchConfigs.Grid, "fashion", 1, 500) with { Mode = BenchModes.Open, Concurrency = null, Rate = 500, Dropped = 2, SendLagP99Ms = 0.05 });

        var md = MarkdownReport.Render(SamplePoints.Report(points));

        Assert.Contains("## fashion · gRPC · open loop", md);
        Assert.Contains("| grid | 500 | 500 | 1.000 | 2.000 | 4.000 | 0.050 | 0 | 2 |", md);
    }

    [Fact]
    public void Render_SameReport_SameText()
    {
        var report = SamplePoints.Report(SamplePoints.Complete());

        Assert.Equal(MarkdownReport.Render(report), MarkdownReport.Render(report));
    }
}
