using System.Runtime.InteropServices;
using Grid.Bench.Onnx;
using Grid.Bench.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace Grid.Bench.Torch;

/// <summary>
/// The compute limit of the libtorch engine, as <see cref="RawOnnxBenchmark"/> is ONNX Runtime's:
/// the TorchScript twin loaded in this process on one device, whole batches of random rows timed
/// for a fixed duration per batch size. The input is pre-allocated once per batch size in host
/// memory; every run copies it to the device (<c>to(device)</c>, nothing to copy on the CPU),
/// runs the forward under <c>inference_mode</c> and copies the output back into a pre-allocated
/// host array (<c>cpu()</c>, which on a GPU also waits for the device), as the engine must for
/// every request it answers.
/// </summary>
public static class RawTorchBenchmark
{
    public static List<BenchPoint> Run(
        BenchModel model, string modelFile, string device, IReadOnlyList<int> batchSizes, double warmupSeconds, double durationSeconds,
        Action<BenchPoint> onPoint, CancellationToken cancellationToken)
    {
        var target = device == BenchDevices.Gpu ? new Device(DeviceType.CUDA, 0) : new Device(DeviceType.CPU);
        using var module = jit.load(modelFile, target.type, target.index);
        module.eval();
        var points = new List<BenchPoint>();
        var random = RawBatchSweep.NewInputGenerator();
        foreach (var batch in batchSizes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (input, shape) = RawBatchSweep.RandomBatch(model, batch, random);
            using var hostInput = empty(shape, ScalarType.Float32);
            hostInput.bytes = MemoryMarshal.AsBytes(input.AsSpan());
            float[]? output = null;

            void RunOnce()
            {
                using var scope = NewDisposeScope();
                using var mode = inference_mode();
                var x = hostInput.to(target);
                var y = (Tensor)module.forward(x);
                var host = y.cpu().contiguous();
                output ??= new float[host.numel()];
                host.bytes.CopyTo(MemoryMarshal.AsBytes(output.AsSpan()));
            }

            var point = RawBatchSweep.Measure(BenchConfigs.Torch, BenchEngines.LibTorch, device, model, batch, warmupSeconds, durationSeconds, RunOnce, cancellationToken);
            points.Add(point);
            onPoint(point);
        }
        return points;
    }
}
