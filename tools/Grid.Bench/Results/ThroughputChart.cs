using System.Globalization;
using ScottPlot;

namespace Grid.Bench.Results;

/// <summary>
/// throughput.png: one panel per model and protocol (closed-loop samples/s against clients, one
/// line per series: a colour per configuration, a line pattern per engine and device; raw ONNX
/// Runtime as dashed reference lines), and one panel with the raw batch sweeps (ONNX Runtime,
/// libtorch per device). The y axes are logarithmic: the servers and the in-process compute
/// limit differ by orders of magnitude.
/// </summary>
public static class ThroughputChart
{
    private const int PanelWidth = 720;
    private const int PanelHeight = 480;

    private static readonly Dictionary<string, Color> ConfigColors = new()
    {
        [BenchConfigs.Empty] = Colors.Gray,
        [BenchConfigs.Minimal] = Colors.DarkOrange,
        [BenchConfigs.Grid] = Colors.SteelBlue,
        [BenchConfigs.GridBatching] = Colors.ForestGreen,
        [BenchConfigs.GridCluster] = Colors.MediumPurple,
        [BenchConfigs.Onnx] = Colors.Crimson,
        [BenchConfigs.Torch] = Colors.DarkRed,
    };

    public static void Save(BenchReport report, string path)
    {
        var closed = report.Points.Where(p => p.Mode == BenchModes.Closed && p.ThroughputRps > 0).ToList();
        var raw = report.Points.Where(p => p.Mode == BenchModes.Batch && p.SamplesPerSecond > 0).ToList();
        var onnx = raw.Where(p => p.Config == BenchConfigs.Onnx).ToList();
        var series = closed.Select(p => p.Series).Distinct()
            .OrderBy(x => IndexOf(BenchSeries.Servers(report.Settings.Configs, report.Settings.Variants), x)).ToList();
        var panels = closed.Select(p => (p.Model, p.Protocol)).Distinct()
            .OrderBy(k => IndexOf(report.Settings.Models, k.Model)).ThenBy(k => IndexOf(BenchProtocols.Network, k.Protocol))
            .ToList();
        var count = panels.Count + (raw.Count > 0 ? 1 : 0);
        if (count == 0)
        {
            count = 1;   // still a valid image that says there is nothing to show
        }
        var columns = Math.Min(2, count);
        var rows = (count + columns - 1) / columns;

        var multiplot = new Multiplot();
        multiplot.AddPlots(count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        var plots = multiplot.GetPlots();
        for (var i = 0; i < panels.Count; i++)
        {
            var (model, protocol) = panels[i];
            DrawPanel(plots[i], model, protocol, series, closed.Where(p => p.Model == model && p.Protocol == protocol).ToList(),
                      onnx.Where(p => p.Model == model).ToList());
        }
        if (raw.Count > 0)
        {
            DrawRaw(plots[panels.Count], raw, report.Settings.Models);
        }
        else if (panels.Count == 0)
        {
            plots[0].Title("no successful point to plot");
        }
        multiplot.SavePng(path, columns * PanelWidth, rows * PanelHeight);
    }

    private static void DrawPanel(Plot plot, string model, string protocol, List<string> seriesOrder, List<BenchPoint> points, List<BenchPoint> onnx)
    {
        var loads = points.Select(p => p.Concurrency!.Value).Distinct().Order().ToList();
        var x = loads.ToDictionary(c => c, c => (double)loads.IndexOf(c));
        var all = new List<double>();
        foreach (var name in seriesOrder)
        {
            var series = points.Where(p => p.Series == name).OrderBy(p => p.Concurrency).ToList();
            if (series.Count == 0)
            {
                continue;
            }
            var ys = series.Select(p => p.SamplesPerSecond).ToArray();
            all.AddRange(ys);
            var scatter = plot.Add.Scatter(series.Select(p => x[p.Concurrency!.Value]).ToArray(), ys.Select(Math.Log10).ToArray());
            scatter.LegendText = name;
            scatter.Color = ConfigColors.GetValueOrDefault(series[0].Config, Colors.Black);
            scatter.LinePattern = Pattern(series[0]);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
        }
        if (onnx.Count > 0)
        {
            var best = onnx.MaxBy(p => p.SamplesPerSecond)!;
            Reference(plot, best.SamplesPerSecond, $"raw ONNX, best batch ({best.BatchSize})", LinePattern.Dashed);
            all.Add(best.SamplesPerSecond);
            if (onnx.FirstOrDefault(p => p.BatchSize == 1) is { } one && one != best)
            {
                Reference(plot, one.SamplesPerSecond, "raw ONNX, batch 1", LinePattern.Dotted);
                all.Add(one.SamplesPerSecond);
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            loads.Select(c => x[c]).ToArray(), loads.Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsX(-0.3, Math.Max(1, loads.Count - 1) + 0.3);
        LogY(plot, all);
        plot.Title($"{model} · {BenchProtocols.Display(protocol)} · closed loop, batch-1 requests");
        plot.XLabel("concurrent clients");
        plot.YLabel("samples/s (log)");
        plot.ShowLegend(Edge.Right);
    }

    private static void DrawRaw(Plot plot, List<BenchPoint> raw, IReadOnlyList<string> modelOrder)
    {
        var sizes = raw.Select(p => p.BatchSize).Distinct().Order().ToList();
        var all = new List<double>();
        var palette = new[] { Colors.Crimson, Colors.Purple, Colors.Teal, Colors.Brown };
        var models = raw.Select(p => p.Model).Distinct().OrderBy(m => IndexOf(modelOrder, m)).ToList();
        var rawSeries = raw.Select(p => p.Series).Distinct().OrderBy(s => s == BenchConfigs.Onnx ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal).ToList();
        for (var i = 0; i < models.Count; i++)
        {
            foreach (var name in rawSeries)
            {
                var series = raw.Where(p => p.Model == models[i] && p.Series == name).OrderBy(p => p.BatchSize).ToList();
                if (series.Count == 0)
                {
                    continue;
                }
                all.AddRange(series.Select(p => p.SamplesPerSecond));
                var scatter = plot.Add.Scatter(series.Select(p => (double)sizes.IndexOf(p.BatchSize)).ToArray(),
                                               series.Select(p => Math.Log10(p.SamplesPerSecond)).ToArray());
                scatter.LegendText = rawSeries.Count == 1 ? models[i] : $"{models[i]} {name}";
                scatter.Color = palette[i % palette.Length];
                scatter.LinePattern = Pattern(series[0]);
                scatter.LineWidth = 2;
                scatter.MarkerSize = 7;
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            sizes.Select((_, i) => (double)i).ToArray(), sizes.Select(b => b.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsX(-0.3, Math.Max(1, sizes.Count - 1) + 0.3);
        LogY(plot, all);
        plot.Title(rawSeries.Count == 1 && rawSeries[0] == BenchConfigs.Onnx ? "raw ONNX Runtime in-process: the compute limit" : "raw in-process batch sweeps: the compute limits");
        plot.XLabel("batch size");
        plot.YLabel("samples/s (log)");
        plot.ShowLegend(Edge.Right);
    }

    /// <summary>Solid for ONNX Runtime on the CPU (and the servers without an engine), dashed for libtorch on the CPU, dotted on the GPU.</summary>
    private static LinePattern Pattern(BenchPoint p) => (p.Engine, p.Device) switch
    {
        (BenchEngines.LibTorch, BenchDevices.Gpu) => LinePattern.Dotted,
        (BenchEngines.LibTorch, _) => LinePattern.Dashed,
        _ => LinePattern.Solid,
    };

    private static void Reference(Plot plot, double samplesPerSecond, string label, LinePattern pattern)
    {
        var line = plot.Add.HorizontalLine(Math.Log10(samplesPerSecond));
        line.LegendText = label;
        line.LinePattern = pattern;
        line.Color = ConfigColors[BenchConfigs.Onnx];
        line.LineWidth = 1.5f;
    }

    /// <summary>Log10 y axis with labels in real units and decade ticks.</summary>
    private static void LogY(Plot plot, List<double> values)
    {
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("#,0", CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
        var positive = values.Where(v => v > 0).ToList();
        if (positive.Count > 0)
        {
            plot.Axes.SetLimitsY(Math.Floor(Math.Log10(positive.Min())), Math.Ceiling(Math.Log10(positive.Max()) + 0.05));
        }
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }
        return int.MaxValue;
    }
}
