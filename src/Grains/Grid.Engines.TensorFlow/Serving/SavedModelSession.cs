using Grid.Models;
using Grid.Serving;
using Grid.Serving.Inference;
using Grid.Tensors;

namespace Grid.Engines.TensorFlow.Serving;

/// <summary>
/// A loaded SavedModel: one ONNX Runtime session per signature, each answering for its own key,
/// plus TensorFlow's reserved signatures (the init op), listed for metadata and never run.
/// Thread-safe as its sessions are; disposing disposes them all.
/// </summary>
internal sealed class SavedModelSession : IModelSession
{
    private readonly Dictionary<string, IModelSession> _byKey;
    private readonly IReadOnlyList<IModelSession> _sessions;

    public SavedModelSession(IReadOnlyList<IModelSession> sessions, IReadOnlyList<ModelSignature> reserved)
    {
        _sessions = sessions;
        _byKey = sessions.ToDictionary(s => s.Signatures[0].Key, StringComparer.Ordinal);
        Signatures = [.. sessions.Select(s => s.Signatures[0]), .. reserved];
    }

    public IReadOnlyList<ModelSignature> Signatures { get; }

    public NamedTensor[] Run(ModelSignature signature, IReadOnlyList<NamedTensor> inputs, IReadOnlyList<string> outputAliases) =>
        _byKey.TryGetValue(signature.Key, out var session)
            ? session.Run(signature, inputs, outputAliases)
            : throw ServingException.InvalidArgument($"Signature \"{signature.Key}\" is TensorFlow's own and cannot be run.");

    public void Dispose()
    {
        foreach (var session in _sessions)
        {
            session.Dispose();
        }
    }
}
