using Grid.Serving.Batching;
using Grid.Serving.Inference;
using Grid.Serving.Policies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Grid.Grains.Hosting;

public static class GridGrainsServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the model grains need: the engine, the transition policy and the batch
    /// queue factory (batching stays off unless <paramref name="configureBatching"/> enables it).
    /// </summary>
    public static IServiceCollection AddGridGrains(
        this IServiceCollection services,
        Action<OnnxRuntimeOptions>? configureOnnx = null,
        Action<BatchingOptions>? configureBatching = null)
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
        services.TryAddSingleton<IModelEngine, OnnxModelEngine>();
        services.TryAddSingleton<IVersionTransitionPolicy, AvailabilityPreservingPolicy>();
        return services;
    }
}
