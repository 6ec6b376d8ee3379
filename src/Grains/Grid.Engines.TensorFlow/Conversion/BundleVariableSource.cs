using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using Grid.Engines.TensorFlow.SavedModel;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// The variables of a loaded <see cref="SavedModelBundle"/> as an <see cref="IVariableSource"/>:
/// a variable node is looked up by its main-graph node name, then by its <c>shared_name</c>.
/// Values are shared with the bundle, not copied.
/// </summary>
public sealed class BundleVariableSource(SavedModelBundle bundle) : IVariableSource
{
    public bool TryGet(VariableRef variable, [NotNullWhen(true)] out HostTensor? value)
    {
        if (bundle.VariablesByGraphNode.TryGetValue(variable.NodeName, out var tensor)
            || (variable.SharedName.Length > 0 && bundle.VariablesBySharedName.TryGetValue(variable.SharedName, out tensor)))
        {
            value = tensor.DataType == DataType.DtString
                ? new HostTensor(tensor.Shape, tensor.Strings.Select(ByteString.CopyFrom).ToArray())
                : new HostTensor(tensor.DataType, tensor.Shape, tensor.Content);
            return true;
        }

        value = null;
        return false;
    }
}
