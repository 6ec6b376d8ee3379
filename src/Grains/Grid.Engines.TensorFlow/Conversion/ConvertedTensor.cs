using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// What one TensorFlow tensor became during conversion: an ONNX value (by name), a constant known
/// at conversion time (materialized as an initializer only when a node consumes it), a resource
/// handle bound to a variable's value, or an ONNX sequence standing for a TensorList.
/// <see cref="Dims"/> is the static shape as far as the converter knows it: null for an unknown
/// rank, -1 for an unknown dimension; it never claims more than the graph guarantees.
/// </summary>
public sealed class ConvertedTensor
{
    private ConvertedTensor(DataType dtype, IReadOnlyList<long>? dims)
    {
        DType = TfDataTypes.BaseType(dtype);
        Dims = dims?.ToArray();
    }

    /// <summary>The TensorFlow element type (for a TensorList: the element type of its items).</summary>
    public DataType DType { get; }

    public IReadOnlyList<long>? Dims { get; }

    public int? Rank => Dims?.Count;

    /// <summary>The value when known at conversion time.</summary>
    public HostTensor? Constant { get; private init; }

    /// <summary>For a resource handle (VarHandleOp, a variable node): the variable's value.</summary>
    public HostTensor? Variable { get; private init; }

    /// <summary>For a resource handle: the variable's name, for messages.</summary>
    public string? VariableName { get; private init; }

    /// <summary>For a lookup table handle (HashTable initialised from constants): its keys and values.</summary>
    public (HostTensor Keys, HostTensor Values, string Name)? Table { get; private init; }

    /// <summary>True for an ONNX sequence standing for a TensorFlow TensorList.</summary>
    public bool IsSequence { get; private init; }

    /// <summary>
    /// True for the "dead" tensor of a TF1 cond branch not taken (a Switch output whose predicate
    /// is known at conversion time); only a Merge may consume it.
    /// </summary>
    public bool IsDead { get; private init; }

    /// <summary>The dead tensor (see <see cref="IsDead"/>).</summary>
    public static ConvertedTensor Dead { get; } = new(DataType.DtInvalid, null) { IsDead = true };

    /// <summary>The ONNX value name; null until a constant is first materialized.</summary>
    internal string? OnnxName { get; set; }

    public static ConvertedTensor Value(string onnxName, DataType dtype, IReadOnlyList<long>? dims)
        => new(dtype, dims) { OnnxName = onnxName };

    public static ConvertedTensor Const(HostTensor value)
        => new(value.DType, value.Shape) { Constant = value };

    /// <summary>A constant already materialized as ONNX value <paramref name="onnxName"/> (e.g. in an enclosing graph).</summary>
    public static ConvertedTensor Const(HostTensor value, string onnxName)
        => new(value.DType, value.Shape) { Constant = value, OnnxName = onnxName };

    public static ConvertedTensor Resource(string variableName, HostTensor value)
        => new(value.DType, value.Shape) { Variable = value, VariableName = variableName };

    public static ConvertedTensor LookupTable(string tableName, HostTensor keys, HostTensor values)
        => new(DataType.DtResource, []) { Table = (keys, values, tableName) };

    public static ConvertedTensor Sequence(string onnxName, DataType elementType, IReadOnlyList<long>? elementDims)
        => new(elementType, elementDims) { OnnxName = onnxName, IsSequence = true };

    /// <summary>The same tensor with a more precise static shape (used when a node pins the shape down).</summary>
    public ConvertedTensor WithDims(IReadOnlyList<long>? dims)
        => new(DType, dims) { Constant = Constant, Variable = Variable, VariableName = VariableName, IsSequence = IsSequence, OnnxName = OnnxName, Table = Table };
}
