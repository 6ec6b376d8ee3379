using Grid.Devices;
using Grid.Grains.Placement;
using Grid.Serving.Batching;
using Grid.Serving.Inference;
using Grid.Serving.Policies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Grid.Grains.Hosting;

public static class GridGrainsServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the model grains need: the engine, the version and replica policies, the
    /// cluster view and the batch queue factory (batching stays off unless
    /// <paramref name="configureBatching"/> enables it). Grain storage named
    /// <see cref="GridStorage.Name"/> and <see cref="AddGridPlacement"/> must be added too.
    /// </summary>
    public static IServiceCollection AddGridGrains(
        this IServiceCollection services,
        Action<OnnxRuntimeOptions>? configureOnnx = null,
        Action<BatchingOptions>? configureBatching = null,
        Action<ReplicaManagementOptions>? configureReplicas = null)
    {
        var onnx = new OnnxRuntimeOptions();
        configureOnnx?.Invoke(onnx);
        services.TryAddSingleton(onnx);
        var batching = new BatchingOptions();
        configureBatching?.Invoke(batching);
        if (BatchingParametersValidator.Validate(batching.Parameters) is { } error)
        {
            throw new ArgumentException($"Invalid batching parameters: {error}", nameof(configureBatching));
        }
        services.TryAddSingleton(batching);
        services.TryAddSingleton<BatchQueueFactory>();
        services.TryAddSingleton<Grid.Inference.LocalReplicaDirectory>();
        // One engine per model format (ModelFormats), chosen per version (ModelEngineSelector):
        // ONNX Runtime, libtorch, and SavedModels imported to ONNX Runtime.
        services.TryAddSingleton<OnnxModelEngine>();
        services.TryAddSingleton<Grid.Engines.LibTorch.TorchScriptModelEngine>();
        services.TryAddSingleton(new Grid.Engines.TensorFlow.Serving.SavedModelOptions());
        services.TryAddSingleton<Grid.Engines.TensorFlow.Serving.SavedModelEngine>();
        services.TryAddSingleton<IModelEngine>(sp => new ModelEngineSelector(
            [sp.GetRequiredService<OnnxModelEngine>(), sp.GetRequiredService<Grid.Engines.LibTorch.TorchScriptModelEngine>(),
             sp.GetRequiredService<Grid.Engines.TensorFlow.Serving.SavedModelEngine>()]));
        // Devices: a silo without AddGridPlacement (tests) offers the CPU only.
        services.TryAddSingleton(new DeviceBindingOptions());
        services.TryAddSingleton<IGpuChoicePolicy, FewestReplicasGpuChoice>();
        services.TryAddSingleton(sp => new DeviceBinder(
            sp.GetService<SiloDevices>() ?? new SiloDevices(["cpu"], null, false),
            sp.GetRequiredService<DeviceBindingOptions>(),
            sp.GetRequiredService<IGpuChoicePolicy>()));
        services.TryAddSingleton<IVersionTransitionPolicy, AvailabilityPreservingPolicy>();
        services.TryAddSingleton<IReplicaPlacementPolicy, SpreadThenLeastLoadedPlacement>();
        services.TryAddSingleton<IReplicaRebalancePolicy, SpreadRebalancePolicy>();
        services.TryAddSingleton<IClusterView, OrleansClusterView>();
        services.TryAddSingleton(TimeProvider.System);
        var replicas = services.AddOptions<ReplicaManagementOptions>().ValidateOnStart();
        if (configureReplicas is not null)
        {
            replicas.Configure(configureReplicas);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplicaManagementOptions>, ReplicaManagementOptionsValidator>());
        return services;
    }

    /// <summary>
    /// Advertises <paramref name="devices"/> as this silo's metadata and registers the device
    /// placement filter and the replica placement director. Every silo of a cluster must call it:
    /// Orleans fails placement on a silo that lacks a filter or director a grain class declares.
    /// </summary>
    public static ISiloBuilder AddGridPlacement(this ISiloBuilder silo, SiloDevices devices, DeviceBindingOptions? binding = null)
    {
        silo.UseSiloMetadata(devices.ToMetadata());
        silo.Services.AddSingleton(devices);
        if (binding is not null)
        {
            silo.Services.AddSingleton(binding);
        }
        silo.Services.AddPlacementFilter<DeviceFilterStrategy, DeviceFilterDirector>(ServiceLifetime.Transient);
        silo.Services.AddPlacementDirector<ReplicaPlacement, ReplicaPlacementDirector>();
        return silo;
    }
}
