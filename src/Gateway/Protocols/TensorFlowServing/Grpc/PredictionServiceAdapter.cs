using Grid.Gateway.Experiments;
using Grid.Gateway.Routing;
using Grid.Inference;
using Grid.Serving;
using Grid.Tensors;
using Grpc.Core;
using Tensorflow.Serving;

namespace Grid.Gateway.Protocols.TensorFlowServing.Grpc;

/// <summary>TF Serving's <c>tensorflow.serving.PredictionService</c> over Grid's grains.</summary>
public sealed class PredictionServiceAdapter(ModelRouter router, ExperimentRouter experiments, ExampleInferenceService examples) : PredictionService.PredictionServiceBase
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

    public override Task<ClassificationResponse> Classify(ClassificationRequest request, ServerCallContext context) => GrpcErrors.Guard(context, async () =>
    {
        var run = await RunExamplesAsync(request.ModelSpec, ExampleMethod.Classify, request.Input, context);
        return new ClassificationResponse
        {
            ModelSpec = TfServingMessages.Spec(request.ModelSpec.Name, run.Result.Version, run.Task.SignatureName),
            Result = ExampleInference.ToClassificationResult(run.Task, run.Examples, run.Result.Outputs),
        };
    });

    public override Task<RegressionResponse> Regress(RegressionRequest request, ServerCallContext context) => GrpcErrors.Guard(context, async () =>
    {
        var run = await RunExamplesAsync(request.ModelSpec, ExampleMethod.Regress, request.Input, context);
        return new RegressionResponse
        {
            ModelSpec = TfServingMessages.Spec(request.ModelSpec.Name, run.Result.Version, run.Task.SignatureName),
            Result = ExampleInference.ToRegressionResult(run.Task, run.Examples, run.Result.Outputs),
        };
    });

    public override Task<MultiInferenceResponse> MultiInference(MultiInferenceRequest request, ServerCallContext context) => GrpcErrors.Guard(context, async () =>
    {
        var (response, arm) = await examples.MultiInferenceAsync(request, key => context.RequestHeaders.GetValue(key), context.CancellationToken);
        AddArm(context, arm);
        return response;
    });

    private async Task<ExampleRun> RunExamplesAsync(ModelSpec? spec, ExampleMethod method, Input? input, ServerCallContext context)
    {
        var (model, version) = ReadSpec(spec);
        var run = await examples.RunAsync(model, version, spec!.SignatureName, method, input, key => context.RequestHeaders.GetValue(key), context.CancellationToken);
        AddArm(context, run.Arm);
        return run;
    }

    private static void AddArm(ServerCallContext context, string? arm)
    {
        if (arm is not null)
        {
            context.ResponseTrailers.Add(ExperimentHeaders.Arm, arm);
        }
    }

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
