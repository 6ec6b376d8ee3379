using Grid.Devices;

namespace Grid.Serving.Policies;

/// <summary>An active silo as placement sees it.</summary>
/// <param name="Address">The silo's address, as Orleans prints it.</param>
/// <param name="HostedReplicas">Model-version replicas it hosts across all models: its load.</param>
public sealed record SiloCandidate(string Address, string Name, SiloDevices Devices, int HostedReplicas);

/// <summary>Where a new replica goes, or why it cannot go anywhere.</summary>
public sealed record PlacementDecision(string? Silo, string? Refusal);

/// <summary>Chooses the silo for one new replica of a version. Pure.</summary>
public interface IReplicaPlacementPolicy
{
    /// <param name="siblings">Silos already hosting (or loading) other replicas of the same version.</param>
    PlacementDecision Place(DeviceRequirement requirement, IReadOnlyList<SiloCandidate> silos, IReadOnlyList<string> siblings);
}

/// <summary>
/// Only silos whose devices satisfy the requirement qualify. Among them: fewest replicas of
/// the same version first (spread, so losing one silo never loses every replica), then fewest
/// replicas of any model (least loaded), then the address, so equal inputs give equal answers.
/// </summary>
public sealed class SpreadThenLeastLoadedPlacement : IReplicaPlacementPolicy
{
    public PlacementDecision Place(DeviceRequirement requirement, IReadOnlyList<SiloCandidate> silos, IReadOnlyList<string> siblings)
    {
        SiloCandidate? best = null;
        var bestSiblings = 0;
        foreach (var silo in silos)
        {
            if (!silo.Devices.Satisfies(requirement))
            {
                continue;
            }
            var here = siblings.Count(s => s == silo.Address);
            if (best is null
                || here < bestSiblings
                || (here == bestSiblings && silo.HostedReplicas < best.HostedReplicas)
                || (here == bestSiblings && silo.HostedReplicas == best.HostedReplicas && string.CompareOrdinal(silo.Address, best.Address) < 0))
            {
                best = silo;
                bestSiblings = here;
            }
        }
        return best is not null ? new PlacementDecision(best.Address, null) : new PlacementDecision(null, Refusal(requirement, silos));
    }

    /// <summary>Says plainly why nothing qualifies, listing what the cluster does offer.</summary>
    public static string Refusal(DeviceRequirement requirement, IReadOnlyList<SiloCandidate> silos)
    {
        var need = requirement switch
        {
            DeviceRequirement.Gpu => "a usable GPU",
            DeviceRequirement.Cpu => "the CPU",
            _ => "a usable device",
        };
        var offered = silos.Count == 0
            ? "no silo is active"
            : "active silos: " + string.Join("; ", silos.Select(s => $"{s.Name} ({s.Address}) offers {s.Devices}"));
        return $"No silo can host it: it needs {need} (device requirement '{requirement.ToText()}'), and none of the active silos offers one; {offered}";
    }
}

/// <summary>A replica to move so that a version's replicas spread across silos.</summary>
public sealed record ReplicaMove(int Replica, string From, string To);

/// <summary>Decides whether one replica of a version should move. Pure.</summary>
public interface IReplicaRebalancePolicy
{
    /// <param name="replicas">The version's loaded replicas and their silos.</param>
    ReplicaMove? NextMove(DeviceRequirement requirement, IReadOnlyList<SiloCandidate> silos, IReadOnlyList<(int Replica, string Silo)> replicas);
}

/// <summary>
/// The rebalancing rule: when a qualifying silo hosts no replica of a version while another
/// silo hosts two or more of them, move one replica (the highest-numbered on the most crowded
/// silo) to the qualifying silo that <see cref="SpreadThenLeastLoadedPlacement"/> would pick.
/// One move at a time, and never the last replica on a silo, so a version keeps serving
/// throughout. A silo that joins therefore receives replicas only of versions that are
/// doubled up somewhere; versions already spread stay where they are.
/// </summary>
public sealed class SpreadRebalancePolicy : IReplicaRebalancePolicy
{
    private static readonly SpreadThenLeastLoadedPlacement Placement = new();

    public ReplicaMove? NextMove(DeviceRequirement requirement, IReadOnlyList<SiloCandidate> silos, IReadOnlyList<(int Replica, string Silo)> replicas)
    {
        var perSilo = replicas.GroupBy(r => r.Silo).ToDictionary(g => g.Key, g => g.Select(r => r.Replica).ToList(), StringComparer.Ordinal);
        var crowded = perSilo.Where(p => p.Value.Count >= 2)
            .OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key, StringComparer.Ordinal)
            .FirstOrDefault();
        if (crowded.Key is null)
        {
            return null;
        }
        var empty = silos.Where(s => s.Devices.Satisfies(requirement) && !perSilo.ContainsKey(s.Address)).ToList();
        if (empty.Count == 0)
        {
            return null;
        }
        var target = Placement.Place(requirement, empty, []).Silo!;
        return new ReplicaMove(crowded.Value.Max(), crowded.Key, target);
    }
}
