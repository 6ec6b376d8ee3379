using Grid.Gateway.Configuration;
using Grid.Gateway.Experiments;
using Grid.Gateway.Routing;
using Grid.Inference;
using Grid.Serving;
using Grid.Tensors;
using Microsoft.Extensions.Options;
using Tensorflow.Serving;
using InferenceResult = Grid.Inference.InferenceResult;

namespace Grid.Gateway.Protocols.TensorFlowServing;

/// <summary>What one Classify or Regress run produced.</summary>
/// <param name="Examples">How many examples the request carried.</param>
public sealed record ExampleRun(ExampleTask Task, InferenceResult Result, long Examples, string? Arm);

/// <summary>
/// Runs Classify, Regress and MultiInference: the signature is checked against the resolved
/// version (TF Serving's rules, see <see cref="ExampleInference"/>), the serialized examples
/// become the signature's single DT_STRING input, and the request then takes the Predict path
/// (<see cref="ExperimentRouter"/>, so experiments, replica choice, retries and batching apply
/// unchanged). Stateless and thread-safe; shared by the gRPC and REST adapters.
/// </summary>
public sealed class ExampleInferenceService(ExperimentRouter experiments, IOptions<GatewayOptions> options)
{
    private bool CheckMethodName => options.Value.EnableSignatureMethodNameCheck;

    /// <summary>One Classify or Regress request.</summary>
    public async Task<ExampleRun> RunAsync(
        string model, long? version, string? signatureName, ExampleMethod method, Input? input,
        Func<string, string?> subject, CancellationToken cancellationToken)
    {
        ExampleTask? task = null;
        TensorData? examples = null;
        var (result, arm) = await experiments.PredictAsync(model, version, subject, target =>
        {
            var (name, signature) = ExampleInference.FindSignature(target.Signatures, signatureName);
            task = ExampleInference.Prepare(name, signature, method, CheckMethodName);
            examples ??= ExampleInference.SerializeExamples(input);
            return task.ToRequest(examples);
        }, cancellationToken);
        return new ExampleRun(task!, result, examples!.Shape[0], arm);
    }

    /// <summary>
    /// TF Serving's MultiInference: every task is checked before any runs, all tasks are served
    /// by the version the first task's model spec resolves to, and each task's result carries
    /// its own model spec. Tasks run one signature each over the same serialized examples.
    /// </summary>
    public async Task<(MultiInferenceResponse Response, string? Arm)> MultiInferenceAsync(
        MultiInferenceRequest request, Func<string, string?> subject, CancellationToken cancellationToken)
    {
        var (model, version) = Grpc.PredictionServiceAdapter.ReadSpec(request.Tasks.Count > 0 ? request.Tasks[0].ModelSpec ?? new ModelSpec() : new ModelSpec());
        ExampleTask[]? tasks = null;
        TensorData? examples = null;
        var (first, arm) = await experiments.PredictAsync(model, version, subject, target =>
        {
            tasks = ExampleInference.PrepareMulti(request.Tasks, target.Signatures, CheckMethodName);
            examples ??= ExampleInference.SerializeExamples(request.Input);
            return tasks[0].ToRequest(examples);
        }, cancellationToken);
        var results = new InferenceResult[tasks!.Length];
        results[0] = first;
        if (tasks.Length > 1)
        {
            // The rest run on the version the first one was served by, as TF Serving serves
            // every task from one servable.
            var rest = await Task.WhenAll(tasks.Skip(1).Select(t =>
                experiments.PredictAsync(model, first.Version, subject, _ => t.ToRequest(examples!), cancellationToken)));
            for (var i = 1; i < tasks.Length; i++)
            {
                results[i] = rest[i - 1].Result;
            }
        }
        var response = new MultiInferenceResponse();
        var count = examples!.Shape[0];
        for (var i = 0; i < tasks.Length; i++)
        {
            var item = new Tensorflow.Serving.InferenceResult { ModelSpec = TfServingMessages.Spec(model, first.Version, tasks[i].SignatureName) };
            if (tasks[i].Method == ExampleMethod.Classify)
            {
                item.ClassificationResult = ExampleInference.ToClassificationResult(tasks[i], count, results[i].Outputs);
            }
            else
            {
                item.RegressionResult = ExampleInference.ToRegressionResult(tasks[i], count, results[i].Outputs);
            }
            response.Results.Add(item);
        }
        return (response, arm);
    }
}
