namespace Grid.Bench.Load;

/// <summary>
/// Successes (with latency), errors and the first error message of one point. Each worker owns
/// one recorder, so recording is not synchronised; <see cref="Merge"/> combines them afterwards.
/// </summary>
public sealed class LatencyRecorder
{
    private double[] _latenciesMs = new double[1024];

    public int Count { get; private set; }
    public long Errors { get; private set; }
    public string? FirstError { get; private set; }

    public void Success(double latencyMs)
    {
        if (Count == _latenciesMs.Length)
        {
            Array.Resize(ref _latenciesMs, _latenciesMs.Length * 2);
        }
        _latenciesMs[Count++] = latencyMs;
    }

    public void Error(string message)
    {
        Errors++;
        FirstError ??= message;
    }

    public ReadOnlySpan<double> Latencies => _latenciesMs.AsSpan(0, Count);

    public static (double[] LatenciesMs, long Errors, string? FirstError) Merge(IEnumerable<LatencyRecorder> recorders)
    {
        var list = recorders.ToList();
        var all = new double[list.Sum(r => r.Count)];
        var offset = 0;
        foreach (var r in list)
        {
            r.Latencies.CopyTo(all.AsSpan(offset));
            offset += r.Count;
        }
        return (all, list.Sum(r => r.Errors), list.Select(r => r.FirstError).FirstOrDefault(e => e is not null));
    }
}
