using Grid.Devices;
using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Grid.Grains.Placement;

/// <summary>
/// Places the grain class only on silos whose advertised devices satisfy
/// <paramref name="requirement"/> (see <see cref="SiloDevices.Satisfies"/>). A hard filter: when
/// no silo qualifies, activation fails rather than landing on the wrong device. The built-in
/// metadata filters compare against the placing silo's own metadata, which is not this.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DeviceFilterAttribute(DeviceRequirement requirement, int order = 0)
    : PlacementFilterAttribute(new DeviceFilterStrategy(requirement, order));

/// <summary>The filter's configuration, carried in the grain manifest so every silo applies the same rule.</summary>
public sealed class DeviceFilterStrategy : PlacementFilterStrategy
{
    private const string RequirementProperty = "device";

    public DeviceFilterStrategy(DeviceRequirement requirement, int order) : base(order)
    {
        Requirement = requirement;
    }

    /// <summary>Created by dependency injection, then initialised from the grain's properties.</summary>
    public DeviceFilterStrategy() : base(0)
    {
    }

    public DeviceRequirement Requirement { get; private set; }

    public override void AdditionalInitialize(GrainProperties properties)
    {
        var text = GetPlacementFilterGrainProperty(RequirementProperty, properties);
        Requirement = DeviceRequirements.TryParse(text, out var parsed)
            ? parsed
            : throw new InvalidOperationException($"Grain manifest carries an unknown device requirement '{text}'");
    }

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(
        IServiceProvider services, Type grainClass, GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new(RequirementProperty, Requirement.ToText());
    }
}

/// <summary>Keeps the silos whose metadata satisfies the strategy's requirement. Runs on the placing silo.</summary>
public sealed class DeviceFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy strategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var requirement = ((DeviceFilterStrategy)strategy).Requirement;
        return silos.Where(s => SiloDevices.FromMetadata(metadata.GetSiloMetadata(s).Metadata).Satisfies(requirement));
    }
}
