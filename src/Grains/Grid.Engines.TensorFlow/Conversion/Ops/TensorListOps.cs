using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Onnx;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// TensorFlow TensorLists (the DT_VARIANT lists Keras RNN loops read and write) as ONNX sequences.
/// <list type="bullet">
/// <item><c>TensorListFromTensor</c> → SplitToSequence along axis 0; <c>TensorListGetItem</c> → SequenceAt;
/// <c>TensorListStack</c> → ConcatFromSequence with a new axis 0; <c>TensorListLength</c> → SequenceLength.</item>
/// <item><c>TensorListReserve</c> → an empty sequence: reserved slots are not materialized, they
/// come into being when written. <c>TensorListSetItem(list, i, x)</c> replaces item i when
/// i &lt; length (Keras writes slot 0 at every step when only the last output is kept) and
/// appends when i = length (Keras writes slot t at step t); a larger i is passed to
/// SequenceInsert as an out-of-range position, so ONNX Runtime fails the run instead of
/// computing a wrong list. Reading a reserved slot never written fails the same way.</item>
/// </list>
/// </summary>
internal static class TensorListOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["TensorListReserve"] = op =>
        {
            var dtype = TfDataTypes.BaseType(op.Node.Type("element_dtype"));
            var empty = op.Add("SequenceEmpty", [], OnnxAttributes.Int("dtype", (long)TfDataTypes.ToOnnx(dtype)));
            return [ConvertedTensor.Sequence(empty, dtype, ShapeOps.ConstantDims(op.Input(0)) is { } d && op.Input(0).Rank == 1 ? d : null)];
        };
        table["TensorListFromTensor"] = op =>
        {
            var tensor = op.Input(0);
            var sequence = op.Add("SplitToSequence", [op.Name(0)], OnnxAttributes.Int("axis", 0), OnnxAttributes.Int("keepdims", 0));
            return [ConvertedTensor.Sequence(sequence, tensor.DType, tensor.Dims?.Skip(1).ToArray())];
        };
        table["TensorListGetItem"] = op =>
        {
            var list = List(op, 0);
            return OpContext.One(op.Add("SequenceAt", [op.Name(0), op.Name(1)]), list.DType, list.Dims);
        };
        table["TensorListSetItem"] = SetItem;
        table["TensorListStack"] = op =>
        {
            var list = List(op, 0);
            var stacked = op.Add("ConcatFromSequence", [op.Name(0)], OnnxAttributes.Int("axis", 0), OnnxAttributes.Int("new_axis", 1));
            IReadOnlyList<long>? dims = list.Dims is { } d ? [-1, .. d] : null;
            return OpContext.One(stacked, list.DType, dims);
        };
        table["TensorListLength"] = op =>
        {
            List(op, 0);
            var length = op.Graph.Builder.AddNode("SequenceLength", [op.Name(0)], op.Node.Name + "_i64");
            return OpContext.One(op.Graph.Cast(length, DataType.DtInt32, op.Node.Name), DataType.DtInt32, []);
        };
    }

    private static ConvertedTensor List(OpContext op, int index)
        => op.Input(index) is { IsSequence: true } list
            ? list
            : throw op.Unsupported("a TensorList that does not come from TensorListReserve or TensorListFromTensor");

    private static IReadOnlyList<ConvertedTensor> SetItem(OpContext op)
    {
        var list = List(op, 0);
        var builder = op.Graph.Builder;
        var name = op.Node.Name;
        var sequence = op.Name(0);
        var item = op.Name(2);
        var index = op.Graph.AsInt64(op.Input(1));
        var length = builder.AddNode("SequenceLength", [sequence], name + "_length");
        var replaces = builder.AddNode("Less", [index, length], name + "_replaces");
        var sequenceType = new TypeProto
        {
            SequenceType = new TypeProto.Types.Sequence { ElemType = OnnxGraphBuilder.TensorType(TfDataTypes.ToOnnx(list.DType), null, "") },
        };

        // Replace: erase item i, insert x at i.
        var replace = builder.CreateSubgraph(name + "_replace");
        var erased = replace.AddNode("SequenceErase", [sequence, index], name + "_erased");
        var replaced = replace.AddNode("SequenceInsert", [erased, item, index], name + "_replaced");
        replace.AddOutput(replaced, sequenceType);

        // Append: insert at the end when i = length, else at length + 1, which ONNX Runtime rejects.
        var append = builder.CreateSubgraph(name + "_append");
        var appends = append.AddNode("Equal", [index, length], name + "_appends");
        var invalid = append.AddNode("Add", [length, op.Graph.Int64([1], scalar: true)], name + "_invalid");
        var position = append.AddNode("Where", [appends, index, invalid], name + "_position");
        var appended = append.AddNode("SequenceInsert", [sequence, item, position], name + "_appended");
        append.AddOutput(appended, sequenceType);

        var result = op.Add("If", [replaces],
            OnnxAttributes.Graph("then_branch", replace.ToGraph()), OnnxAttributes.Graph("else_branch", append.ToGraph()));
        return [ConvertedTensor.Sequence(result, list.DType, list.Dims ?? op.Input(2).Dims)];
    }
}
