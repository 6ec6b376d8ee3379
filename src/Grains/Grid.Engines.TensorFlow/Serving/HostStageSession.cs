using Grid.Engines.TensorFlow.Conversion;
using Grid.Models;
using Grid.Serving.Inference;
using Grid.Tensors;

namespace Grid.Engines.TensorFlow.Serving;

/// <summary>
/// One signature with steps that run on the host (<see cref="HostStage"/>: ParseExample, image
/// decoding): the client sees the signature as declared (a DT_STRING input of serialized
/// tf.Examples or encoded images); each run applies the stages to those strings and runs the
/// ONNX model on their results, together with any input the model takes directly. Thread-safe
/// as the inner session is.
/// </summary>
internal sealed class HostStageSession : IModelSession
{
    private readonly IModelSession _model;
    private readonly ModelSignature _modelSignature;
    private readonly ILookup<string, HostStage> _stages;

    /// <param name="model">The ONNX model's session, serving <paramref name="modelSignature"/> (parsed tensors as inputs).</param>
    /// <param name="signature">The signature as the client sees it.</param>
    public HostStageSession(IModelSession model, ModelSignature modelSignature, ModelSignature signature, IReadOnlyList<HostStage> stages)
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
