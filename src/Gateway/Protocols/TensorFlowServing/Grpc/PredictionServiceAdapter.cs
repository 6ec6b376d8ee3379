using Grid.Gateway.Experiments;
using Grid.Gateway.Routing;
using Grid.Inference;
using Grid.Serving;
using Grid.Tensors;
using Grpc.Core;
using Tensorflow.Serving;

namespace Grid.Gateway.Protocols.TensorFlowServing.Grpc;

/// <summary>TF Serving's <c>tensorflow.serving.PredictionService</c> over Grid's grains.</summary>
public sealed class PredictionServiceAdapter(ModelRouter router, ExperimentRouter experiments) : PredictionService.PredictionServiceBase
{
    public override Task<PredictResponse> Predict(PredictRequest request, ServerCallContext context) => GrpcErrors.Guard(context, async () =>
    {
        var (model, version) = ReadSpec(request.ModelSpec);
        var inputs = new NamedTensor[request.Inputs.Count];
        var i = 0;
        foreach (var (alias, proto) in request.Inputs)
        {
            inputs[i++] = new NamedTensor(alias, TensorProtoCodec.Decode(alias, proto));
        }
        var signatureName = string.IsNullOrEmpty(request.ModelSpec.SignatureName) ? Models.ModelSignature.DefaultKey : request.ModelSpec.SignatureName;
        var filter = request.OutputFilter.ToArray();
        var inference = new InferenceRequest(signatureName, inputs, filter);
        var (result, arm) = await experiments.PredictAsync(model, version, key => context.RequestHeaders.GetValue(key), _ => inference, context.CancellationToken);
        if (arm is not null)
        {
            context.ResponseTrailers.Add(ExperimentHeaders.Arm, arm);
        }
        var response = new PredictResponse { ModelSpec = TfServingMessages.Spec(model, result.Version, result.SignatureName) };
        foreach (var output in result.Outputs)
        {
            response.Outputs[output.Name] = TensorProtoCodec.Encode(output.Tensor);
        }
        return response;
    });

    public override Task<GetModelMetadataResponse> GetModelMetadata(GetModelMetadataRequest request, ServerCallContext context) => GrpcErrors.Guard(context, async () =>
    {
        var (model, version) = ReadSpec(request.ModelSpec);
        if (request.MetadataField.Count == 0)
        {
            throw ServingException.InvalidArgument("GetModelMetadataRequest must specify at least one metadata_field");
        }
        foreach (var field in request.MetadataField)
        {
            if (field != TfServingMessages.SignatureDefField)
            {
                throw ServingException.InvalidArgument($"Metadata field {field} is not supported");
            }
        }
        var target = await router.ResolveAsync(model, version, fresh: true);
        return TfServingMessages.MetadataResponse(model, target);
    });

    /// <summary>TF Serving's ModelSpec checks, shared by every PredictionService method.</summary>
    internal static (string Model, long? Version) ReadSpec(ModelSpec? spec)
    {
        if (spec is null)
        {
            throw ServingException.InvalidArgument("Missing ModelSpec");
        }
        if (string.IsNullOrEmpty(spec.Name))
        {
            throw ServingException.InvalidArgument("Missing ModelSpec name");
        }
        if (spec.VersionChoiceCase == ModelSpec.VersionChoiceOneofCase.VersionLabel)
        {
            throw ServingException.InvalidArgument("ModelSpec has 'version_label' set, but it is not currently allowed by the server.");
        }
        return (spec.Name, spec.Version);
    }
}
