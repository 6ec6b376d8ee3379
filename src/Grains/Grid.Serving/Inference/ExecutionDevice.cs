namespace Grid.Serving.Inference;

/// <summary>
/// The one device a loaded replica runs on: the CPU or one GPU, bound when the replica loads
/// and fixed until it unloads. A stand-in GPU (<c>--gpu_stand_in</c>) is accounted and reported
/// as a GPU but executes on the CPU engine, so placement and memory accounting can be tested on
/// machines without CUDA.
/// </summary>
/// <param name="GpuOrdinal">The CUDA device ordinal; null for the CPU.</param>
/// <param name="StandIn">True for a stand-in GPU.</param>
public sealed record ExecutionDevice(int? GpuOrdinal, bool StandIn)
{
    public static readonly ExecutionDevice Cpu = new(null, false);

    public static ExecutionDevice Gpu(int ordinal, bool standIn = false) => new(ordinal, standIn);

    public bool IsGpu => GpuOrdinal is not null;

    /// <summary>True when the engine must put the model on a CUDA device.</summary>
    public bool RunsOnCuda => IsGpu && !StandIn;

    /// <summary><c>cpu</c> or <c>gpu:N</c>, as in <c>--devices</c> and status.</summary>
    public string Name => GpuOrdinal is { } n ? $"gpu:{n}" : "cpu";

    public override string ToString() => StandIn ? $"{Name} (stand-in)" : Name;
}
