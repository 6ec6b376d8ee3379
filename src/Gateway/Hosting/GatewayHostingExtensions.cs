using Grid.Gateway.Configuration;
using Grid.Gateway.Protocols.TensorFlowServing.Grpc;
using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Grid.Gateway.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Grid.Gateway.Hosting;

public static class GatewayHostingExtensions
{
    /// <summary>Registers the gateway: routing, gRPC with the configured message limit, options validation.</summary>
    public static IServiceCollection AddGridGateway(this IServiceCollection services, Action<GatewayOptions> configure)
    {
        services.AddOptions<GatewayOptions>().Configure(configure).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        // Shared with the grains when a silo runs in this process; empty in a gateway-only process.
        services.TryAddSingleton<Grid.Inference.LocalReplicaDirectory>();
        services.TryAddSingleton<IReplicaSelectionPolicy>(new PowerOfTwoChoicesPolicy());
        services.AddSingleton<ModelRouter>();
        services.AddHostedService<SiloWatcher>();
        services.TryAddSingleton<Grid.Experiments.IArmAssignmentPolicy, Grid.Experiments.WeightedArmAssignment>();
        services.AddSingleton<Experiments.ExperimentRecorder>();
        services.AddSingleton<Experiments.ExperimentRouter>();
        services.AddSingleton<Experiments.ExperimentStatsFlusher>();
        services.AddSingleton<Protocols.TensorFlowServing.ExampleInferenceService>();
        services.AddHostedService(sp => sp.GetRequiredService<Experiments.ExperimentStatsFlusher>());
        services.AddGrpc();
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>().Configure<IOptions<GatewayOptions>>((grpc, gateway) =>
        {
            grpc.MaxReceiveMessageSize = gateway.Value.MaxMessageBytes;
            grpc.MaxSendMessageSize = gateway.Value.MaxMessageBytes;
        });
        return services;
    }

    /// <summary>Maps TF Serving's gRPC services: PredictionService and ModelService.</summary>
    public static IEndpointRouteBuilder MapTensorFlowServingGrpc(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<PredictionServiceAdapter>();
        endpoints.MapGrpcService<ModelServiceAdapter>();
        return endpoints;
    }

    /// <summary>Prometheus metrics (experiment arms, .NET runtime) at <c>/metrics</c>; never behind the admin token.</summary>
    public static IEndpointRouteBuilder MapGridMetrics(this IEndpointRouteBuilder endpoints)
    {
        Prometheus.MetricServerMiddlewareExtensions.MapMetrics(endpoints);
        return endpoints;
    }

    /// <summary>Maps TF Serving's REST API under <c>/v1/</c>.</summary>
    public static IEndpointRouteBuilder MapTensorFlowServing(this IEndpointRouteBuilder endpoints)
        => endpoints.MapTensorFlowServingGrpc().MapTensorFlowServingRest();

    /// <summary>Everything a gateway serves, in <c>grid serve</c> and <c>grid gateway</c> alike: TF Serving's APIs, the admin API and metrics.</summary>
    public static IEndpointRouteBuilder MapGridGateway(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapTensorFlowServing();
        Admin.GridAdminEndpoints.MapGridAdmin(endpoints);
        // On the root, not the admin group: metrics never need the admin token.
        endpoints.MapGridMetrics();
        return endpoints;
    }
}
