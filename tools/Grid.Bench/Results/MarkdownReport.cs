using System.Globalization;
using System.Text;

namespace Grid.Bench.Results;

/// <summary>Renders a <see cref="BenchReport"/> as results.md. Pure: same report, same text.</summary>
public static class MarkdownReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(BenchReport report)
    {
        var md = new StringBuilder();
        var s = report.Settings;
        var m = report.Machine;
        md.AppendLine("# Grid benchmark");
        md.AppendLine();
        md.AppendLine($"Started {report.StartedAt.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC, {(s.Quick ? "quick" : "full")} mode, {report.WallSeconds.ToString("0", Inv)} s wall time.");
        md.AppendLine($"Machine: {m.CpuCount} CPUs{(m.CpuModel is null ? "" : $" ({m.CpuModel})")}, {m.Os}, {m.Dotnet}"
                      + $"{(m.OnnxRuntime is null ? "" : $", ONNX Runtime {m.OnnxRuntime}")}{(m.Commit is null ? "" : $", commit {m.Commit}")}"
                      + $"{(m.Gpus.Count == 0 ? ", no NVIDIA GPU" : $", GPU {string.Join(", ", m.Gpus)}")}{(m.LibTorch is null ? "" : $"; libtorch: {m.LibTorch}")}{(m.OnnxCuda is null ? "" : $"; ONNX Runtime: {m.OnnxCuda}")}"
                      + $"{(m.CpuBusyBeforeRun is not { } busy ? "" : $"; CPU {busy.ToString("P0", Inv)} busy in the half second before the run")}.");
        md.AppendLine($"Every network point: batch-1 Predict requests, {Seconds(s.WarmupSeconds)} warm-up then {Seconds(s.DurationSeconds)} measured; "
                      + $"gRPC over min(clients, {s.GrpcChannels}) channels with tensor_content, REST with a row-format JSON body; "
                      + "latency in ms (open loop: from the scheduled send time). The load generator and the server share the machine.");
        md.AppendLine();

        md.AppendLine("## Ratios");
        md.AppendLine();
        foreach (var r in report.Ratios)
        {
            md.AppendLine($"- {r.ToLine()}");
        }
        md.AppendLine();

        if (report.Failures.Count > 0)
        {
            md.AppendLine("## Failed configurations");
            md.AppendLine();
            foreach (var f in report.Failures)
            {
                md.AppendLine($"- **{f.Series}**: {Escape(f.Reason)}");
            }
            md.AppendLine();
        }

        var network = report.Points.Where(p => p.Mode != BenchModes.Batch).ToList();
        var configs = Ordered(network.Select(p => p.Series), BenchSeries.Servers(s.Configs, s.Variants), keepMissing: true);
        foreach (var model in Ordered(network.Select(p => p.Model), s.Models))
        {
            foreach (var protocol in Ordered(network.Where(p => p.Model == model).Select(p => p.Protocol), BenchProtocols.Network))
            {
                var points = network.Where(p => p.Model == model && p.Protocol == protocol).ToList();
                RenderClosed(md, model, protocol, configs, points.Where(p => p.Mode == BenchModes.Closed).ToList());
                RenderOpen(md, model, protocol, configs, points.Where(p => p.Mode == BenchModes.Open).ToList());
            }
        }

        var raw = report.Points.Where(p => p.Mode == BenchModes.Batch).ToList();
        foreach (var series in Ordered(raw.Select(p => p.Series), BenchSeries.Raw(s.Configs, s.Devices)))
        {
            RenderRaw(md, RawTitle(series), raw.Where(p => p.Series == series).ToList(), s.Models);
        }
        if (EngineComparison.HasOtherEngines(report))
        {
            RenderEngines(md, report);
        }

        var failed = report.Points.Where(p => p.Errors > 0 || p.Dropped > 0).ToList();
        md.AppendLine("## Errors");
        md.AppendLine();
        if (failed.Count == 0)
        {
            md.AppendLine("None: every request of every point was answered successfully.");
        }
        foreach (var p in failed)
        {
            md.AppendLine($"- {p.Series} · {p.Model} · {BenchProtocols.Display(p.Protocol)} · {p.Load}: {p.Errors} errors, {p.Dropped} dropped"
                          + (p.FirstError is null ? "" : $"; first: `{Escape(p.FirstError)}`"));
        }
        return md.ToString();
    }

    private static void RenderClosed(StringBuilder md, string model, string protocol, List<string> configs, List<BenchPoint> points)
    {
        if (points.Count == 0)
        {
            return;
        }
        var loads = points.Select(p => p.Concurrency!.Value).Distinct().Order().ToList();
        md.AppendLine($"## {model} · {BenchProtocols.Display(protocol)} · closed loop");
        md.AppendLine();
        md.AppendLine("Throughput, req/s (= samples/s):");
        md.AppendLine();
        LoadTable(md, configs, loads, points, p => Rps(p.ThroughputRps) + ErrorNote(p));
        md.AppendLine("Latency p50 / p90 / p99, ms:");
        md.AppendLine();
        LoadTable(md, configs, loads, points, Latencies);
    }

    private static void RenderOpen(StringBuilder md, string model, string protocol, List<string> configs, List<BenchPoint> points)
    {
        if (points.Count == 0)
        {
            return;
        }
        md.AppendLine($"## {model} · {BenchProtocols.Display(protocol)} · open loop");
        md.AppendLine();
        md.AppendLine("Latency from each request's scheduled send time; the send lag (how late the load generator sent, p99) is part of it.");
        md.AppendLine();
        md.AppendLine("| config | scheduled req/s | answered req/s | p50 ms | p90 ms | p99 ms | send lag p99 ms | errors | dropped |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in configs.SelectMany(c => points.Where(p => p.Series == c)))
        {
            md.AppendLine($"| {p.Series} | {Rps(p.Rate ?? 0)} | {Rps(p.ThroughputRps)} | {Ms(p.P50Ms)} | {Ms(p.P90Ms)} | {Ms(p.P99Ms)} | {Ms(p.SendLagP99Ms)} | {p.Errors} | {p.Dropped} |");
        }
        md.AppendLine();
    }

    private static string RawTitle(string series) => series switch
    {
        BenchConfigs.Onnx => "Raw ONNX Runtime (in-process, one session, default options)",
        _ when series.StartsWith(BenchConfigs.Torch + "-", StringComparison.Ordinal) =>
            $"Raw libtorch on {series[(BenchConfigs.Torch.Length + 1)..]} (in-process TorchScript; input copied to the device and output back to the host every batch)",
        _ => $"Raw {series}",
    };

    private static void RenderRaw(StringBuilder md, string title, List<BenchPoint> points, IReadOnlyList<string> modelOrder)
    {
        if (points.Count == 0)
        {
            return;
        }
        var models = Ordered(points.Select(p => p.Model), modelOrder);
        md.AppendLine($"## {title}");
        md.AppendLine();
        md.AppendLine("Samples/s per batch size, and the time of one batch (p50, ms):");
        md.AppendLine();
        md.Append("| batch |");
        foreach (var model in models)
        {
            md.Append($" {model} samples/s | {model} ms/batch |");
        }
        md.AppendLine();
        md.Append("|---:|");
        md.Append(string.Concat(Enumerable.Repeat("---:|---:|", models.Count)));
        md.AppendLine();
        foreach (var b in points.Select(p => p.BatchSize).Distinct().Order())
        {
            md.Append($"| {b} |");
            foreach (var model in models)
            {
                var p = points.FirstOrDefault(x => x.Model == model && x.BatchSize == b);
                md.Append(p is null ? " – | – |" : $" {Rps(p.SamplesPerSecond)}{ErrorNote(p)} | {Ms(p.P50Ms)} |");
            }
            md.AppendLine();
        }
        md.AppendLine();
        foreach (var model in models)
        {
            var best = points.Where(p => p.Model == model).MaxBy(p => p.SamplesPerSecond);
            if (best is not null)
            {
                md.AppendLine($"- {model}: best {Rps(best.SamplesPerSecond)} samples/s at batch {best.BatchSize}.");
            }
        }
        md.AppendLine();
    }

    /// <summary>One row per client count, one column per configuration; "–" where a point is missing.</summary>
    private static void LoadTable(StringBuilder md, List<string> configs, IReadOnlyList<int> loads, IReadOnlyList<BenchPoint> points, Func<BenchPoint, string> cell)
    {
        Header(md, "clients", configs);
        foreach (var c in loads)
        {
            md.Append($"| {c} |");
            foreach (var config in configs)
            {
                var p = points.FirstOrDefault(x => x.Series == config && x.Concurrency == c);
                md.Append($" {(p is null ? "–" : cell(p))} |");
            }
            md.AppendLine();
        }
        md.AppendLine();
    }

    private static void Header(StringBuilder md, string first, List<string> configs)
    {
        md.AppendLine($"| {first} | {string.Join(" | ", configs)} |");
        md.AppendLine($"|---:|{string.Concat(configs.Select(_ => "---:|"))}");
    }

    /// <summary>
    /// Values in the preferred order first, then any others in order of appearance;
    /// <paramref name="keepMissing"/>: preferred values that are absent too (a column of "–" for a configuration that failed).
    /// </summary>
    private static List<string> Ordered(IEnumerable<string> values, IEnumerable<string> preferred, bool keepMissing = false)
    {
        var present = values.Distinct().ToList();
        var first = preferred.Where(p => keepMissing || present.Contains(p)).ToList();
        return first.Concat(present.Where(v => !first.Contains(v))).ToList();
    }

    /// <summary>
    /// The engines side by side: raw samples/s per batch size (onnx, torch-cpu, torch-gpu), and
    /// each grid configuration's closed-loop req/s per client count on every variant, every
    /// figure with its ratio to ONNX Runtime on the CPU.
    /// </summary>
    private static void RenderEngines(StringBuilder md, BenchReport report)
    {
        var s = report.Settings;
        var points = report.Points;
        md.AppendLine("## Engines and devices side by side");
        md.AppendLine();
        md.AppendLine($"Engines {string.Join(", ", s.Engines)} on {string.Join(", ", s.Devices)}"
                      + $"{(s.LibTorchPath is null ? " (bundled libtorch-cpu)" : $" (libtorch from {s.LibTorchPath})")}. "
                      + "Each figure with its ratio (×) to the same point on ONNX Runtime on the CPU; – where a point is missing (see Failed configurations).");
        md.AppendLine();

        var raw = points.Where(p => p.Mode == BenchModes.Batch).ToList();
        var rawSeries = Ordered(raw.Select(p => p.Series), BenchSeries.Raw(s.Configs, s.Devices), keepMissing: true);
        if (rawSeries.Count > 1)
        {
            foreach (var model in Ordered(raw.Select(p => p.Model), s.Models))
            {
                md.AppendLine($"### {model} · raw in-process, samples/s");
                md.AppendLine();
                Header(md, "batch", rawSeries);
                foreach (var b in raw.Where(p => p.Model == model).Select(p => p.BatchSize).Distinct().Order())
                {
                    md.Append($"| {b} |");
                    foreach (var series in rawSeries)
                    {
                        var p = raw.FirstOrDefault(x => x.Series == series && x.Model == model && x.BatchSize == b);
                        md.Append($" {(p is null ? "–" : EngineComparison.Cell(points, p) + ErrorNote(p))} |");
                    }
                    md.AppendLine();
                }
                md.AppendLine();
            }
        }

        var grid = Ordered(Array.Empty<string>(), BenchSeries.Servers(s.Configs.Where(c => c is BenchConfigs.Grid or BenchConfigs.GridBatching).ToList(), s.Variants), keepMissing: true);
        var closed = points.Where(p => p.Mode == BenchModes.Closed && grid.Contains(p.Series)).ToList();
        foreach (var model in Ordered(closed.Select(p => p.Model), s.Models))
        {
            foreach (var protocol in Ordered(closed.Where(p => p.Model == model).Select(p => p.Protocol), BenchProtocols.Network))
            {
                var here = closed.Where(p => p.Model == model && p.Protocol == protocol).ToList();
                md.AppendLine($"### {model} · {BenchProtocols.Display(protocol)} · closed loop, req/s, p50");
                md.AppendLine();
                var loads = here.Select(p => p.Concurrency!.Value).Distinct().Order().ToList();
                LoadTable(md, grid, loads, here, p => $"{EngineComparison.Cell(points, p)}{ErrorNote(p)}, {Ms(p.P50Ms)} ms");
            }
        }
    }

    private static string ErrorNote(BenchPoint p) =>
        p.Errors == 0 && p.Dropped == 0 ? "" : $" ({p.Errors} err{(p.Dropped > 0 ? $", {p.Dropped} dropped" : "")})";

    private static string Latencies(BenchPoint p) => p.P50Ms is null ? "–" : $"{Ms(p.P50Ms)} / {Ms(p.P90Ms)} / {Ms(p.P99Ms)}";

    public static string Rps(double x) => x.ToString(x < 100 ? "0.#" : "#,0", Inv);

    public static string Ms(double? x) => x switch
    {
        null => "–",
        < 10 => x.Value.ToString("0.000", Inv),
        < 100 => x.Value.ToString("0.00", Inv),
        _ => x.Value.ToString("0.0", Inv),
    };

    private static string Seconds(double s) => s.ToString("0.##", Inv) + " s";

    private static string Escape(string s) => s.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ").Replace("`", "'");
}
