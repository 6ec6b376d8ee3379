using Grid.Tensors;

namespace Grid.Models;

/// <summary>One input or output of a signature.</summary>
/// <param name="Alias">The name clients use (TF Serving's signature alias).</param>
/// <param name="TensorName">The model's tensor name, as metadata reports it (<c>x:0</c> for a SavedModel).</param>
/// <param name="Shape">Dimensions as the signature declares them (metadata), -1 for unknown; null for unknown rank.</param>
/// <param name="AcceptedShape">
/// What the engine accepts when it is looser than <paramref name="Shape"/>, as TensorFlow checks a
/// fed tensor against its graph rather than the SignatureDef (a SavedModel's <c>x</c> declared
/// [-1,1] accepts [2,2]); null: <paramref name="Shape"/>. Requests are validated against it.
/// </param>
[GenerateSerializer, Immutable, Alias("grid.TensorSpec")]
public sealed record TensorSpec(
    [property: Id(0)] string Alias,
    [property: Id(1)] string TensorName,
    [property: Id(2)] TensorDType DType,
    [property: Id(3)] long[]? Shape,
    [property: Id(4)] long[]? AcceptedShape = null)
{
    /// <summary>The shape requests are checked against.</summary>
    public long[]? ValidationShape => AcceptedShape ?? Shape;
}

/// <summary>A TF Serving signature: what a version accepts and returns.</summary>
[GenerateSerializer, Immutable, Alias("grid.ModelSignature")]
public sealed record ModelSignature(
    [property: Id(0)] string Key,
    [property: Id(1)] string MethodName,
    [property: Id(2)] TensorSpec[] Inputs,
    [property: Id(3)] TensorSpec[] Outputs)
{
    public const string DefaultKey = "serving_default";
    public const string PredictMethodName = "tensorflow/serving/predict";

    public TensorSpec? FindInput(string alias) => Array.Find(Inputs, i => i.Alias == alias);

    public TensorSpec? FindOutput(string alias) => Array.Find(Outputs, o => o.Alias == alias);
}
