using System.Diagnostics;
using Grid.Bench.Results;
using Microsoft.ML.OnnxRuntime;

namespace Grid.Bench.Onnx;

/// <summary>
/// (a) The compute limit: ONNX Runtime in this process, one <see cref="InferenceSession"/> with
/// default options as Grid creates it (IntraOpNumThreads 0: one thread per core), whole batches
/// through pre-allocated input and output tensors, timed for a fixed duration per batch size.
/// </summary>
public static class RawOnnxBenchmark
{
    public static List<BenchPoint> Run(
        BenchModel model, string modelFile, IReadOnlyList<int> batchSizes, double warmupSeconds, double durationSeconds,
        Action<BenchPoint> onPoint, CancellationToken cancellationToken)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 0 };
        using var session = new InferenceSession(modelFile, options);
        using var runOptions = new RunOptions();
        var outputName = model.Output;
        var outputDims = session.OutputMetadata[outputName].Dimensions;
        var points = new List<BenchPoint>();
        var featureCount = model.Dims.Aggregate(1L, (a, d) => a * d);
        var random = new Random(42);
        foreach (var batch in batchSizes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var input = new float[batch * featureCount];
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = random.NextSingle();
            }
            var shape = new long[] { batch }.Concat(model.Dims).ToArray();
            var outShape = outputDims.Select(d => d < 0 ? (long)batch : d).ToArray();
            var output = new float[outShape.Aggregate(1L, (a, d) => a * d)];
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var outputValue = OrtValue.CreateTensorValueFromMemory(output, outShape);
            string[] inputNames = [model.Input];
            string[] outputNames = [outputName];
            OrtValue[] inputs = [inputValue];
            OrtValue[] outputs = [outputValue];

            void RunOnce() => session.Run(runOptions, inputNames, inputs, outputNames, outputs);

            RunFor(warmupSeconds, minimumRuns: 2, RunOnce, cancellationToken, latencies: null);
            var latencies = new List<double>();
            var elapsed = RunFor(durationSeconds, minimumRuns: 3, RunOnce, cancellationToken, latencies);
            var point = BenchPoint.RawBatch(BenchConfigs.Onnx, BenchEngines.OnnxRuntime, BenchDevices.Cpu, model.Name, batch, elapsed, latencies);
            points.Add(point);
            onPoint(point);
        }
        return points;
    }

    /// <summary>Runs until both the duration has passed and the minimum count is reached; returns the elapsed seconds.</summary>
    internal static double RunFor(double seconds, int minimumRuns, Action run, CancellationToken cancellationToken, List<double>? latencies)
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
