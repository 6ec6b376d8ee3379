using System.Globalization;
using Grid.Engines.LibTorch;
using TorchSharp;

namespace Grid.Bench.Torch;

/// <summary>libtorch as this process loaded it, whether it can run on CUDA, and its CPU threads.</summary>
public sealed record TorchStatus(string Source, bool CudaAvailable, int CudaDeviceCount, string? CudaUnavailableReason, int Threads)
{
    /// <summary>One line for results.md and results.json.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Source}, {Threads} CPU threads, CUDA {(CudaAvailable ? $"available ({CudaDeviceCount} device{(CudaDeviceCount == 1 ? "" : "s")})" : $"unavailable: {CudaUnavailableReason}")}");
}

/// <summary>
/// Loads libtorch into the benchmark process once, as grid does (<see cref="LibTorchRuntime"/>),
/// for raw <c>torch</c> and to learn before any GPU configuration starts whether CUDA is usable.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// Loads libtorch from <paramref name="libtorchPath"/> (null: the bundled CPU build) and
    /// probes CUDA. Throws what <see cref="LibTorchRuntime.Initialize"/> throws for a directory
    /// that is not a usable libtorch, or for a build that cannot use it.
    /// </summary>
    public static TorchStatus Initialize(string? libtorchPath)
    {
        var status = LibTorchRuntime.Initialize(libtorchPath);
        return new TorchStatus(status.Source, status.CudaAvailable, status.CudaDeviceCount, status.CudaUnavailableReason, torch.get_num_threads());
    }
}
