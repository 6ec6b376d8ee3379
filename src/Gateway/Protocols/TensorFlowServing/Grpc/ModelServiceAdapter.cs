using Grid.Gateway.Routing;
using Grpc.Core;
using Tensorflow.Serving;

namespace Grid.Gateway.Protocols.TensorFlowServing.Grpc;

/// <summary>TF Serving's <c>tensorflow.serving.ModelService</c>: version status.</summary>
public sealed class ModelServiceAdapter(ModelRouter router) : ModelService.ModelServiceBase
{
    public override Task<GetModelStatusResponse> GetModelStatus(GetModelStatusRequest request, ServerCallContext context) => GrpcErrors.Guard(context, async () =>
    {
        var (model, version) = PredictionServiceAdapter.ReadSpec(request.ModelSpec);
        var status = await router.GetStatusAsync(model);
        TfServingMessages.EnsureStatusFound(status, model, version);
        return TfServingMessages.StatusResponse(status, version);
    });
}
