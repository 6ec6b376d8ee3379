using Grid.Tensors;

namespace Grid.Models;

/// <summary>One input or output of a signature.</summary>
/// <param name="Alias">The name clients use (TF Serving's signature alias).</param>
/// <param name="TensorName">The engine's tensor name.</param>
/// <param name="Shape">Dimensions, -1 for unknown; null for unknown rank.</param>
[GenerateSerializer, Immutable, Alias("grid.TensorSpec")]
public sealed record TensorSpec(
    [property: Id(0)] string Alias,
    [property: Id(1)] string TensorName,
    [property: Id(2)] TensorDType DType,
    [property: Id(3)] long[]? Shape);

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
