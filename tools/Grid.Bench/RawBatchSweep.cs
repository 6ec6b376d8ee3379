using System.Diagnostics;
using Grid.Bench.Results;

namespace Grid.Bench;

/// <summary>
/// What the in-process batch sweeps (raw ONNX Runtime, raw libtorch) share: the same random
/// input per batch size (one seeded generator walked in the same order, so both engines see the
/// same rows) and the same warm-up, timing and point for each batch size.
/// </summary>
public static class RawBatchSweep
{
    /// <summary>A fresh generator for one sweep; draw every batch's input from it in order.</summary>
    public static Random NewInputGenerator() => new(42);

    /// <summary><paramref name="batch"/> random rows of <paramref name="model"/>'s input, and their shape (batch first).</summary>
    public static (float[] Input, long[] Shape) RandomBatch(BenchModel model, int batch, Random random)
    {
        var input = new float[batch * model.Dims.Aggregate(1L, (a, d) => a * d)];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = random.NextSingle();
        }
        return (input, [batch, .. model.Dims]);
    }

    /// <summary>
    /// Warms <paramref name="runOnce"/> up for <paramref name="warmupSeconds"/> (at least 2 runs),
    /// then times it for <paramref name="durationSeconds"/> (at least 3 runs) and reports the point.
    /// </summary>
    public static BenchPoint Measure(
        string config, string engine, string device, BenchModel model, int batch,
        double warmupSeconds, double durationSeconds, Action runOnce, CancellationToken cancellationToken)
    {
        RunFor(warmupSeconds, minimumRuns: 2, runOnce, cancellationToken, latencies: null);
        var latencies = new List<double>();
        var elapsed = RunFor(durationSeconds, minimumRuns: 3, runOnce, cancellationToken, latencies);
        return BenchPoint.RawBatch(config, engine, device, model.Name, batch, elapsed, latencies);
    }

    /// <summary>Runs until both the duration has passed and the minimum count is reached; returns the elapsed seconds.</summary>
    private static double RunFor(double seconds, int minimumRuns, Action run, CancellationToken cancellationToken, List<double>? latencies)
    {
        var start = Stopwatch.GetTimestamp();
        var runs = 0;
        while (runs < minimumRuns || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var t0 = Stopwatch.GetTimestamp();
            run();
            latencies?.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            runs++;
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
