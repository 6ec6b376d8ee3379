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

/// <summary>An inference engine: turns a version directory into a session on one device.</summary>
public interface IModelEngine
{
    /// <summary>Triton's platform name: <c>onnxruntime_onnx</c>, <c>pytorch_libtorch</c>.</summary>
    string Name { get; }

    /// <summary>True when the directory holds this engine's model file.</summary>
    bool CanLoad(string versionDirectory);

    /// <summary>True when this engine can run models on a CUDA device in this process.</summary>
    bool SupportsCuda => false;

    /// <summary>
    /// Loads the model onto <paramref name="device"/>; throws <see cref="ServingException"/> with
    /// a clear message on failure (RESOURCE_EXHAUSTED when the device runs out of memory).
    /// </summary>
    IModelSession Load(string versionDirectory, ExecutionDevice device);

    /// <summary>Loads the model onto the CPU.</summary>
    IModelSession Load(string versionDirectory) => Load(versionDirectory, ExecutionDevice.Cpu);

    /// <summary>The engine that will load this directory (a selector answers with the one it picks).</summary>
    IModelEngine Resolve(string versionDirectory) => this;

    /// <summary>
    /// Device memory the loaded model is expected to take, in bytes, checked against a GPU's
    /// budget before anything is allocated; 0 when the engine cannot tell.
    /// </summary>
    long EstimateDeviceBytes(string versionDirectory) => 0;
}
