using Grid.Bench.Results;
using Microsoft.ML.OnnxRuntime;

namespace Grid.Bench.Onnx;

/// <summary>
/// (a) The compute limit: ONNX Runtime in this process, one <see cref="InferenceSession"/> with
/// default options as Grid creates it (IntraOpNumThreads 0: one thread per core), whole batches
/// through pre-allocated input and output tensors, timed for a fixed duration per batch size.
/// On a GPU the session has the CUDA provider on device 0, set up as Grid sets it up, and the
/// tensors stay in host memory, so each run includes the copies in and out, as a served request does.
/// </summary>
public static class RawOnnxBenchmark
{
    public static List<BenchPoint> Run(
        BenchModel model, string modelFile, string device, IReadOnlyList<int> batchSizes, double warmupSeconds, double durationSeconds,
        Action<BenchPoint> onPoint, CancellationToken cancellationToken)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 0 };
        if (device == BenchDevices.Gpu)
        {
            Grid.Serving.Inference.OnnxCudaRuntime.AppendProvider(options, 0);
        }
        using var session = new InferenceSession(modelFile, options);
        using var runOptions = new RunOptions();
        var outputName = model.Output;
        var outputDims = session.OutputMetadata[outputName].Dimensions;
        var points = new List<BenchPoint>();
        var random = RawBatchSweep.NewInputGenerator();
        foreach (var batch in batchSizes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (input, shape) = RawBatchSweep.RandomBatch(model, batch, random);
            var outShape = outputDims.Select(d => d < 0 ? (long)batch : d).ToArray();
            var output = new float[outShape.Aggregate(1L, (a, d) => a * d)];
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var outputValue = OrtValue.CreateTensorValueFromMemory(output, outShape);
            string[] inputNames = [model.Input];
            string[] outputNames = [outputName];
            OrtValue[] inputs = [inputValue];
            OrtValue[] outputs = [outputValue];

            void RunOnce() => session.Run(runOptions, inputNames, inputs, outputNames, outputs);

            var point = RawBatchSweep.Measure(BenchConfigs.Onnx, BenchEngines.OnnxRuntime, device, model, batch, warmupSeconds, durationSeconds, RunOnce, cancellationToken);
            points.Add(point);
            onPoint(point);
        }
        return points;
    }
}
