using Grid.Models;
using Grid.Tensors;

namespace Grid.Serving.Inference;

/// <summary>
/// A loaded model version in one inference engine. <see cref="Run"/> is thread-safe and may
/// be called concurrently; the owner guarantees no Run is in flight when it disposes.
/// </summary>
public interface IModelSession : IDisposable
{
    /// <summary>The signatures the engine derived from the model; key <c>serving_default</c> first.</summary>
    IReadOnlyList<ModelSignature> Signatures { get; }

    /// <summary>
    /// Runs the model. Inputs are already validated against the signature; outputs are
    /// returned in the order of <paramref name="outputAliases"/>.
    /// </summary>
    NamedTensor[] Run(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases);
}

/// <summary>An inference engine: turns a version directory into a session.</summary>
public interface IModelEngine
{
    string Name { get; }

    /// <summary>True when the directory holds this engine's model file.</summary>
    bool CanLoad(string versionDirectory);

    /// <summary>Loads the model; throws <see cref="ServingException"/> with a clear message on failure.</summary>
    IModelSession Load(string versionDirectory);
}
