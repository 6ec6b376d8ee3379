using Grid.Engines.TensorFlow.Conversion;
using Grid.Models;
using Grid.Serving.Inference;
using Grid.Tensors;

namespace Grid.Engines.TensorFlow.Serving;

/// <summary>
/// One signature whose ParseExample step runs on the host: the client sees the signature as
/// declared (a DT_STRING input of serialized tf.Examples); each run parses those strings with
/// the node's spec (<see cref="ExampleParseStage"/>) and runs the ONNX model on the parsed dense
/// tensors, together with any input the model takes directly. Thread-safe as the inner session is.
/// </summary>
internal sealed class ExampleParsingSession : IModelSession
{
    private readonly IModelSession _model;
    private readonly ModelSignature _modelSignature;
    private readonly ILookup<string, ExampleParseStage> _stages;

    /// <param name="model">The ONNX model's session, serving <paramref name="modelSignature"/> (parsed tensors as inputs).</param>
    /// <param name="signature">The signature as the client sees it.</param>
    public ExampleParsingSession(IModelSession model, ModelSignature modelSignature, ModelSignature signature, IReadOnlyList<ExampleParseStage> stages)
    {
        _model = model;
        _modelSignature = modelSignature;
        _stages = stages.ToLookup(s => s.InputKey, StringComparer.Ordinal);
        Signatures = [signature];
    }

    public IReadOnlyList<ModelSignature> Signatures { get; }

    public NamedTensor[] Run(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases)
    {
        var fed = new List<NamedTensor>(inputs.Count);
        foreach (var input in inputs)
        {
            foreach (var stage in _stages[input.Name])
            {
                fed.AddRange(stage.Run(input.Tensor));
            }

            if (_modelSignature.FindInput(input.Name) is not null)
            {
                fed.Add(input);
            }
        }

        return _model.Run(_modelSignature, fed, outputAliases);
    }

    public void Dispose() => _model.Dispose();
}
