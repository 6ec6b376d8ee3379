using System.Globalization;
using TorchSharp;

namespace Grid.Bench.Torch;

/// <summary>libtorch as this process loaded it, and whether it can run on CUDA.</summary>
public sealed record TorchStatus(string Source, bool CudaAvailable, int CudaDeviceCount, string? CudaUnavailableReason, int Threads)
{
    /// <summary>One line for results.md and results.json.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Source}, {Threads} CPU threads, CUDA {(CudaAvailable ? $"available ({CudaDeviceCount} device{(CudaDeviceCount == 1 ? "" : "s")})" : $"unavailable: {CudaUnavailableReason}")}");
}

/// <summary>
/// Loads libtorch into the benchmark process once, for raw <c>torch</c> and to learn before
/// any GPU configuration starts whether CUDA is usable at all.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// Loads libtorch from <paramref name="libtorchPath"/> (null: the bundled CPU build) and
    /// probes CUDA. Throws <see cref="ArgumentException"/> when the directory is not a usable libtorch.
    /// </summary>
    public static TorchStatus Initialize(string? libtorchPath)
    {
        if (libtorchPath is not null)
        {
            throw new ArgumentException($"--libtorch_path {libtorchPath}: this build of grid-bench can only load the bundled libtorch-cpu");
        }
        var cuda = torch.cuda.is_available();
        return new TorchStatus("bundled libtorch-cpu", cuda, cuda ? torch.cuda.device_count() : 0,
            cuda ? null : "the bundled libtorch is the CPU build; pass --libtorch_path with a CUDA build of libtorch", torch.get_num_threads());
    }
}
