namespace Grid.Bench.Torch;

/// <summary>
/// What loading libtorch in the benchmark process said, before any libtorch configuration runs:
/// whether it loaded at all (raw torch needs it), and whether a GPU configuration can run
/// (the same libtorch directory is what grid gets with --libtorch_path).
/// </summary>
public sealed record GpuCheck
{
    public TorchStatus? Status { get; init; }

    /// <summary>Why libtorch did not load here; null when it did (or was not needed).</summary>
    public string? LoadError { get; init; }

    /// <summary>Why a GPU configuration cannot run; null when CUDA is usable (or libtorch was not needed).</summary>
    public string? GpuUnusableReason => LoadError is not null
        ? $"no usable GPU: libtorch did not load in grid-bench ({LoadError})"
        : Status is { CudaAvailable: false } s ? $"no usable GPU: {s.CudaUnavailableReason}" : null;

    public string Describe() => LoadError is not null ? $"did not load: {LoadError}" : Status?.Describe() ?? "not loaded";

    /// <summary>Loads libtorch from <paramref name="libtorchPath"/> (null: bundled) and probes CUDA; never throws for a libtorch that does not load.</summary>
    public static GpuCheck Run(string? libtorchPath)
    {
        try
        {
            return new GpuCheck { Status = TorchRuntime.Initialize(libtorchPath) };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or DllNotFoundException or NotSupportedException
                                      or TypeInitializationException or System.Runtime.InteropServices.ExternalException)
        {
            return new GpuCheck { LoadError = Reason(e) };
        }
    }

    /// <summary>
    /// One line for a libtorch error: the innermost exception's first line (TorchSharp's type
    /// initializer wraps the load error; libtorch appends a C++ backtrace after the first line).
    /// </summary>
    public static string Reason(Exception e)
    {
        while (e is TypeInitializationException { InnerException: { } inner })
        {
            e = inner;
        }
        return e.Message.Split('\n', 2)[0].Trim();
    }
}
