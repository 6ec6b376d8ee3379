using System.Diagnostics;
using System.Globalization;
using Grid.Bench.Load;
using Grid.Bench.Results;

namespace Grid.Bench.Cli;

/// <summary>
/// Progress on stderr: one line per finished point, and on a terminal a line rewritten every
/// half second with the running answers per second. Not thread-safe: one point at a time.
/// </summary>
public sealed class Progress(int planned)
{
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private int _done;

    public void Line(string text) => Console.Error.WriteLine(text);

    /// <summary>Shows <paramref name="label"/> with a running rate until <paramref name="point"/> completes.</summary>
    public async Task<T> TrackAsync<T>(string label, LiveCounter counter, Task<T> point)
    {
        if (!_interactive)
        {
            return await point;
        }
        var started = Stopwatch.StartNew();
        long last = 0;
        var lastTime = TimeSpan.Zero;
        while (await Task.WhenAny(point, Task.Delay(500)) != point)
        {
            var now = started.Elapsed;
            var value = counter.Value;
            var rate = (value - last) / Math.Max(1e-3, (now - lastTime).TotalSeconds);
            (last, lastTime) = (value, now);
            Console.Error.Write($"\r{Prefix(_done + 1)} {label}  running {MarkdownReport.Rps(rate)} req/s   ");
        }
        Console.Error.Write("\r" + new string(' ', Math.Min(160, label.Length + 48)) + "\r");
        return await point;
    }

    public void Point(BenchPoint p)
    {
        _done++;
        var load = p.Mode == BenchModes.Batch ? $"batch {p.BatchSize}" : p.Load;
        var rate = p.Mode == BenchModes.Batch ? $"{MarkdownReport.Rps(p.SamplesPerSecond)} samples/s" : $"{MarkdownReport.Rps(p.ThroughputRps)} req/s";
        var errors = p.Errors == 0 && p.Dropped == 0 ? "" : $"  {p.Errors} errors, {p.Dropped} dropped{(p.FirstError is null ? "" : $" (first: {p.FirstError})")}";
        Line(string.Create(CultureInfo.InvariantCulture,
            $"{Prefix(_done)} {Label(p.Series, p.Model, p.Protocol, load)}  {rate,14}  p50 {MarkdownReport.Ms(p.P50Ms)} p99 {MarkdownReport.Ms(p.P99Ms)} ms{errors}"));
    }

    /// <param name="series">A config name, with its engine and device when not ONNX Runtime on the CPU (grid+torch-gpu).</param>
    public static string Label(string series, string model, string protocol, string load) =>
        $"{series,-23} {model,-8} {protocol,-10} {load,-12}";

    private string Prefix(int n) => $"[{n,3}/{planned}]";
}
