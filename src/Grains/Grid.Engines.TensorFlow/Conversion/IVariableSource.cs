using System.Diagnostics.CodeAnalysis;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// A graph variable node the converter needs the value of: a <c>VarHandleOp</c> (TF2 resource
/// variable) or a <c>VariableV2</c>/<c>Variable</c> (TF1 reference variable) of the meta graph's
/// main graph. <see cref="NodeName"/> is the node's name there (for a handle created inside a
/// function body, the function-local name); <see cref="SharedName"/> is its <c>shared_name</c>
/// attribute, empty when the node has none.
/// </summary>
public sealed record VariableRef(string NodeName, string SharedName, string Op);

/// <summary>
/// The values of a SavedModel's variables, as the checkpoint holds them (the SavedModel reader's
/// bundle implements it). The converter folds each variable a signature reads into an ONNX
/// initializer, so a source is consulted only while a model is converted.
/// </summary>
public interface IVariableSource
{
    /// <summary>
    /// The value of <paramref name="variable"/>; false when the source holds no value for it
    /// (the converter then fails the conversion with the variable's name).
    /// </summary>
    bool TryGet(VariableRef variable, [NotNullWhen(true)] out HostTensor? value);
}
