using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Graph plumbing: constants, pass-throughs, unfed placeholders and variables. Variables become
/// constants: a <c>VarHandleOp</c> is bound to its value from the <see cref="IVariableSource"/>
/// and <c>ReadVariableOp</c> yields it; a TF1 <c>VariableV2</c> yields its value directly.
/// </summary>
internal static class GraphOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["Const"] = op => [ConvertedTensor.Const(HostTensor.FromProto(op.Node.Attr("value").Tensor))];
        foreach (var name in new[] { "Identity", "StopGradient", "Snapshot", "PreventGradient", "EnsureShape", "CheckNumerics" })
        {
            table[name] = op => [op.Input(0)];
        }

        table["IdentityN"] = op => op.Inputs;
        table["NoOp"] = _ => [];
        table["PlaceholderWithDefault"] = op => [op.Input(0)];
        table["Placeholder"] = op => throw ServingException.InvalidArgument(
            $"placeholder {op.Node.Name} is needed by the signature's outputs but is not one of its inputs");
        table["VarHandleOp"] = VarHandle;
        table["VariableV2"] = RefVariable;
        table["Variable"] = RefVariable;
        table["ReadVariableOp"] = op => [op.Graph.ReadVariable(op.Input(0), op.Node.Name)];
    }

    private static IReadOnlyList<ConvertedTensor> VarHandle(OpContext op)
    {
        var value = Lookup(op);
        return [ConvertedTensor.Resource(op.Node.Name, value)];
    }

    private static IReadOnlyList<ConvertedTensor> RefVariable(OpContext op)
    {
        var value = Lookup(op);
        return [op.Graph.ReadVariable(ConvertedTensor.Resource(op.Node.Name, value), op.Node.Name)];
    }

    private static HostTensor Lookup(OpContext op)
    {
        var node = op.Node;
        var reference = new VariableRef(node.Name, node.String("shared_name"), node.Op);
        if (!op.Graph.Variables.TryGet(reference, out var value))
        {
            throw ServingException.FailedPrecondition(
                $"variable {node.Name}{(reference.SharedName.Length > 0 && reference.SharedName != node.Name ? $" (shared_name {reference.SharedName})" : "")} has no value in the SavedModel's variables");
        }

        var declared = TfDataTypes.BaseType(node.Type("dtype"));
        if (declared != DataType.DtInvalid && value.DType != declared)
        {
            throw ServingException.InvalidArgument($"variable {node.Name} is declared {declared} but its stored value is {value.DType}");
        }

        return value;
    }
}
