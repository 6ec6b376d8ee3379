using Grid.Devices;
using Grid.Serving.Policies;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Grid.Grains.Placement;

/// <summary>The silos a model's manager may place replicas on, as seen from the silo it runs on.</summary>
public interface IClusterView
{
    /// <summary>Active silos with their advertised devices (load not filled in). Local and cheap.</summary>
    IReadOnlyList<SiloCandidate> ActiveSilos();

    /// <summary>True while <paramref name="silo"/> (an address string) is an active member.</summary>
    bool IsActive(string silo);

    /// <summary>Changes whenever membership changes.</summary>
    long MembershipVersion { get; }

    /// <summary>Fills in each silo's hosted replica count (one management call across the cluster).</summary>
    Task<IReadOnlyList<SiloCandidate>> WithLoadAsync(IReadOnlyList<SiloCandidate> silos);

    /// <summary>The silo's address object, for a placement hint; null when it is not an active member.</summary>
    SiloAddress? Find(string silo);
}

/// <summary>
/// <see cref="IClusterView"/> over Orleans membership and silo metadata. A silo whose metadata is
/// not cached yet offers no devices until it is, so it is never chosen on a guess.
/// </summary>
public sealed class OrleansClusterView(IClusterMembershipService membership, ISiloMetadataCache metadata, IGrainFactory grains) : IClusterView
{
    public long MembershipVersion => membership.CurrentSnapshot.Version.Value;

    public IReadOnlyList<SiloCandidate> ActiveSilos()
    {
        var list = new List<SiloCandidate>();
        foreach (var (address, member) in membership.CurrentSnapshot.Members)
        {
            if (member.Status == SiloStatus.Active)
            {
                var devices = SiloDevices.FromMetadata(metadata.GetSiloMetadata(address).Metadata);
                list.Add(new SiloCandidate(address.ToString(), member.Name ?? address.ToString(), devices, 0));
            }
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address));
        return list;
    }

    public bool IsActive(string silo) => Find(silo) is not null;

    public SiloAddress? Find(string silo)
    {
        foreach (var (address, member) in membership.CurrentSnapshot.Members)
        {
            if (member.Status == SiloStatus.Active && address.ToString() == silo)
            {
                return address;
            }
        }
        return null;
    }

    public async Task<IReadOnlyList<SiloCandidate>> WithLoadAsync(IReadOnlyList<SiloCandidate> silos)
    {
        var stats = await grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        var hosted = stats
            .Where(s => s.GrainType.Contains("ModelVersionGrain", StringComparison.Ordinal))
            .GroupBy(s => s.SiloAddress.ToString())
            .ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount), StringComparer.Ordinal);
        return silos.Select(s => s with { HostedReplicas = hosted.GetValueOrDefault(s.Address) }).ToList();
    }
}
