using Grid.Devices;
using Orleans.Concurrency;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Grid.Grains.Placement;

/// <summary>Reads membership and metadata on whichever silo it activates on; stateless.</summary>
[StatelessWorker]
public sealed class ClusterInfoGrain(IClusterMembershipService membership, ISiloMetadataCache metadata) : Grain, IClusterInfoGrain
{
    public Task<SiloInfo[]> GetSilosAsync()
    {
        var silos = membership.CurrentSnapshot.Members
            .Where(m => m.Value.Status != SiloStatus.Dead)
            .Select(m =>
            {
                var devices = SiloDevices.FromMetadata(metadata.GetSiloMetadata(m.Key).Metadata);
                return new SiloInfo(m.Key.ToString(), m.Value.Name ?? "", m.Value.Status.ToString(), [.. devices.Devices], devices.GpuUnusableReason, devices.GpuStandIn);
            })
            .OrderBy(s => s.Address, StringComparer.Ordinal)
            .ToArray();
        return Task.FromResult(silos);
    }
}
