using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// The state of converting one flattened TensorFlow graph into one ONNX graph (the model's main
/// graph, or a Loop body): the ONNX builder, what each converted node produced, and helpers the
/// op converters share (constant materialization, casts, int64 constants).
/// </summary>
internal sealed class ConversionContext
{
    private readonly Dictionary<TfNode, IReadOnlyList<ConvertedTensor>> _converted = new();
    private readonly Dictionary<string, string> _int64Constants = new(StringComparer.Ordinal);
    private readonly HashSet<TfNode> _dead = [];
    private readonly Dictionary<HostTensor, ConvertedTensor> _variableReads = new(ReferenceEqualityComparer.Instance);

    public ConversionContext(OnnxGraphBuilder builder, GraphFlattener flattener, IVariableSource variables, TableInitializers? tables = null)
    {
        Builder = builder;
        Flattener = flattener;
        Variables = variables;
        Tables = tables ?? TableInitializers.Empty;
    }

    /// <summary>The main graph's table initializers, by table node (lookup tables become constants).</summary>
    public TableInitializers Tables { get; }

    public OnnxGraphBuilder Builder { get; }

    /// <summary>The flattener of the graph being converted (loop converters flatten their bodies with it).</summary>
    public GraphFlattener Flattener { get; }

    public IVariableSource Variables { get; }

    /// <summary>Records what a node produced (feeds are recorded by the signature converter).</summary>
    public void SetConverted(TfNode node, IReadOnlyList<ConvertedTensor> outputs) => _converted[node] = outputs;

    /// <summary>Records that a node lies on a TF1 cond branch not taken: every output is <see cref="ConvertedTensor.Dead"/>.</summary>
    public void SetDead(TfNode node)
    {
        _dead.Add(node);
        _converted[node] = [];
    }

    public bool IsConverted(TfNode node) => _converted.ContainsKey(node);

    /// <summary>The converted tensor <paramref name="tensor"/>; its node must have been converted.</summary>
    public ConvertedTensor Get(TensorRef tensor)
    {
        if (_dead.Contains(tensor.Node))
        {
            return ConvertedTensor.Dead;
        }

        var outputs = _converted[tensor.Node];
        if (tensor.Index >= outputs.Count)
        {
            throw ServingException.InvalidArgument($"node {tensor.Node} has no output {tensor.Index} that the conversion supports");
        }

        return outputs[tensor.Index];
    }

    /// <summary>
    /// The ONNX value name of <paramref name="tensor"/>, adding a constant as an initializer the
    /// first time it is consumed. Resource handles have no ONNX value and throw.
    /// </summary>
    public string Name(ConvertedTensor tensor)
    {
        if (tensor.OnnxName is not null)
        {
            return tensor.OnnxName;
        }

        if (tensor.IsDead)
        {
            throw ServingException.InvalidArgument("a tensor of a TF1 cond branch that is never taken is used outside a Merge");
        }

        if (tensor.Constant is { } constant)
        {
            tensor.OnnxName = Builder.AddInitializer("const", constant.ToOnnx());
            return tensor.OnnxName;
        }

        throw ServingException.InvalidArgument(
            $"resource handle of variable {tensor.VariableName} is used as a tensor; only ReadVariableOp/ResourceGather may read it");
    }

    /// <summary>
    /// The value a read of resource <paramref name="resource"/> yields: one constant per variable,
    /// so every read of it shares one initializer.
    /// </summary>
    public ConvertedTensor ReadVariable(ConvertedTensor resource, string reader)
    {
        var value = resource.Variable ?? throw ServingException.InvalidArgument(
            $"node {reader} reads a resource that is not a variable handle of the SavedModel");
        if (!_variableReads.TryGetValue(value, out var read))
        {
            read = ConvertedTensor.Const(value);
            _variableReads[value] = read;
        }

        return read;
    }

    /// <summary>A shared int64 initializer holding <paramref name="values"/> (1-D, or 0-D when <paramref name="scalar"/>).</summary>
    public string Int64(IReadOnlyList<long> values, bool scalar = false)
    {
        var key = (scalar ? "s" : "v") + string.Join(",", values);
        if (!_int64Constants.TryGetValue(key, out var name))
        {
            name = Builder.AddInitializer(scalar ? "scalar" : "ints", scalar ? OnnxTensors.Int64Scalar(values[0]) : OnnxTensors.Int64Vector(values));
            _int64Constants[key] = name;
        }

        return name;
    }

    /// <summary>A scalar initializer of <paramref name="dtype"/> holding <paramref name="value"/>.</summary>
    public string Scalar(DataType dtype, double value)
    {
        var host = dtype switch
        {
            DataType.DtFloat => HostTensor.FromFloat([], [(float)value]),
            DataType.DtInt32 => HostTensor.FromInt32([], [checked((int)value)]),
            DataType.DtInt64 => HostTensor.FromInt64([], [checked((long)value)]),
            DataType.DtDouble => new HostTensor(DataType.DtDouble, [], BitConverter.GetBytes(value)),
            _ => throw new ServingException(ServingStatusCode.Unimplemented, $"scalar constants of {dtype} are not supported"),
        };
        return Builder.AddInitializer("scalar", host.ToOnnx());
    }

    /// <summary>
    /// <paramref name="tensor"/> as an int64 ONNX value (ONNX wants int64 shapes, axes and
    /// indices where TensorFlow often has int32): a constant is converted on the host, a
    /// computed int32 value gets a Cast.
    /// </summary>
    public string AsInt64(ConvertedTensor tensor)
    {
        if (tensor.DType == DataType.DtInt64)
        {
            return Name(tensor);
        }

        if (tensor.Constant is { } constant)
        {
            return Builder.AddInitializer("const_i64", constant.CastTo(DataType.DtInt64).ToOnnx());
        }

        return Cast(Name(tensor), DataType.DtInt64, "to_int64");
    }

    /// <summary>A Cast of <paramref name="value"/> to <paramref name="dtype"/>.</summary>
    public string Cast(string value, DataType dtype, string hint)
        => Builder.AddNode("Cast", [value], hint, OnnxAttributes.Int("to", (long)TfDataTypes.ToOnnx(dtype)));

    /// <summary>A Transpose of <paramref name="value"/> by <paramref name="perm"/>.</summary>
    public string Transpose(string value, IReadOnlyList<long> perm, string hint)
        => Builder.AddNode("Transpose", [value], hint, OnnxAttributes.Ints("perm", perm));
}
