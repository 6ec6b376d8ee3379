using Grid.Serving.Inference;
using Grid.Serving.Policies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Grid.Grains.Hosting;

public static class GridGrainsServiceCollectionExtensions
{
    /// <summary>Registers what the model grains need: the engine and the transition policy.</summary>
    public static IServiceCollection AddGridGrains(this IServiceCollection services, Action<OnnxRuntimeOptions>? configureOnnx = null)
    {
        var onnx = new OnnxRuntimeOptions();
        configureOnnx?.Invoke(onnx);
        services.TryAddSingleton(onnx);
        services.TryAddSingleton<IModelEngine, OnnxModelEngine>();
        services.TryAddSingleton<IVersionTransitionPolicy, AvailabilityPreservingPolicy>();
        return services;
    }
}
