using Grid.Tensors;

namespace Grid.Inference;

/// <summary>
/// A protocol-neutral Predict request, already resolved to a model version.
/// </summary>
/// <param name="SignatureName">Never empty: adapters substitute <c>serving_default</c>.</param>
/// <param name="OutputFilter">Output aliases to return; empty means all.</param>
[GenerateSerializer, Immutable, Alias("grid.InferenceRequest")]
public sealed record InferenceRequest(
    [property: Id(0)] string SignatureName,
    [property: Id(1)] NamedTensor[] Inputs,
    [property: Id(2)] string[] OutputFilter);

/// <summary>The outputs of one Predict, with the version that served it.</summary>
[GenerateSerializer, Immutable, Alias("grid.InferenceResult")]
public sealed record InferenceResult(
    [property: Id(0)] long Version,
    [property: Id(1)] string SignatureName,
    [property: Id(2)] NamedTensor[] Outputs);
