namespace Grid.Grains;

/// <summary>A silo as the cluster's membership and metadata describe it.</summary>
/// <param name="Status">Orleans' membership status: Active, Joining, ShuttingDown, Stopping…</param>
/// <param name="Devices">The devices it advertises: <c>cpu</c>, <c>gpu:0</c>…</param>
/// <param name="GpuUnusableReason">Why its GPUs are not offered for placement; null when they are (or it has none).</param>
[GenerateSerializer, Immutable, Alias("grid.SiloInfo")]
public sealed record SiloInfo(
    [property: Id(0)] string Address,
    [property: Id(1)] string Name,
    [property: Id(2)] string Status,
    [property: Id(3)] string[] Devices,
    [property: Id(4)] string? GpuUnusableReason,
    [property: Id(5)] bool GpuStandIn);

/// <summary>Answers what the cluster looks like from inside (membership and silo metadata live on silos).</summary>
[Alias("grid.IClusterInfoGrain")]
public interface IClusterInfoGrain : IGrainWithIntegerKey
{
    /// <summary>Every silo that has not been declared dead.</summary>
    [Alias("GetSilos")]
    Task<SiloInfo[]> GetSilosAsync();
}
