using System.Globalization;

namespace Grid.Bench.Results;

/// <summary>
/// Puts each point measured on another engine or device beside the same point on ONNX Runtime on
/// the CPU (the figure every run measured before engines could be chosen). Pure.
/// </summary>
public static class EngineComparison
{
    /// <summary>
    /// The ONNX Runtime CPU point <paramref name="point"/> compares with: the same model, protocol,
    /// mode and load (clients, rate or batch size), in config <c>onnx</c> for raw libtorch and in
    /// the same config otherwise. Null when there is none, or when <paramref name="point"/> is one.
    /// </summary>
    public static BenchPoint? Baseline(IReadOnlyList<BenchPoint> points, BenchPoint point)
    {
        // The ONNX Runtime CPU series carries the plain config name (points recorded without an engine too).
        var baseline = point.Config == BenchConfigs.Torch ? BenchConfigs.Onnx : point.Config;
        if (point.Series == baseline)
        {
            return null;
        }
        return points.FirstOrDefault(b => b.Series == baseline && b.Model == point.Model && b.Protocol == point.Protocol
                                          && b.Mode == point.Mode && b.Concurrency == point.Concurrency && b.Rate == point.Rate
                                          && b.BatchSize == point.BatchSize);
    }

    /// <summary>Samples/s of <paramref name="point"/> ÷ samples/s of its <see cref="Baseline"/>; null without one, or when either answered nothing.</summary>
    public static double? VersusOnnxCpu(IReadOnlyList<BenchPoint> points, BenchPoint point) =>
        Baseline(points, point) is { SamplesPerSecond: > 0 } baseline && point.SamplesPerSecond > 0
            ? point.SamplesPerSecond / baseline.SamplesPerSecond
            : null;

    /// <summary>"1,234 (0.52×)": samples/s and the ratio to ONNX Runtime on the CPU; the plain figure when there is nothing to compare.</summary>
    public static string Cell(IReadOnlyList<BenchPoint> points, BenchPoint point) =>
        MarkdownReport.Rps(point.SamplesPerSecond)
        + (VersusOnnxCpu(points, point) is { } ratio ? $" ({ratio.ToString("0.00", CultureInfo.InvariantCulture)}×)" : "");

    /// <summary>True when the run measured (or meant to measure) anything but ONNX Runtime on the CPU.</summary>
    public static bool HasOtherEngines(BenchReport report) =>
        report.Points.Any(p => p.Series != p.Config)
        || report.Failures.Any(f => f.Series != f.Config)
        || report.Settings.Variants.Any(v => !v.IsDefault)
        || report.Settings.Configs.Contains(BenchConfigs.Torch);
}
