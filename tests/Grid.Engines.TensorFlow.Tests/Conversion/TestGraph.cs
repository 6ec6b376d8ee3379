using System.Runtime.InteropServices;
using Google.Protobuf;
using Grid.Engines.TensorFlow.Conversion;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>Builds small TensorFlow GraphDefs (and FunctionDefs) node by node for converter tests.</summary>
internal sealed class TestGraph
{
    public GraphDef Graph { get; } = new() { Library = new FunctionDefLibrary() };

    public SignatureDef Signature { get; } = new() { MethodName = "tensorflow/serving/predict" };

    /// <summary>Adds a node to the main graph; returns its name.</summary>
    public string Node(string op, string name, IEnumerable<string> inputs, params (string Name, AttrValue Value)[] attrs)
    {
        Graph.Node.Add(MakeNode(op, name, inputs, attrs));
        return name;
    }

    public static NodeDef MakeNode(string op, string name, IEnumerable<string> inputs, params (string Name, AttrValue Value)[] attrs)
    {
        var node = new NodeDef { Name = name, Op = op };
        node.Input.AddRange(inputs);
        foreach (var (key, value) in attrs)
        {
            node.Attr[key] = value;
        }

        return node;
    }

    /// <summary>A Placeholder that is also a signature input under <paramref name="key"/> (defaults to the name).</summary>
    public string Input(string name, DataType dtype, long[] shape, string? key = null)
    {
        Node("Placeholder", name, [], ("dtype", Type(dtype)), ("shape", Shape(shape)));
        Signature.Inputs[key ?? name] = Info(name + ":0", dtype, shape);
        return name;
    }

    /// <summary>Declares <paramref name="tensor"/> a signature output under <paramref name="key"/>.</summary>
    public void Output(string key, string tensor, DataType dtype = DataType.DtFloat, long[]? shape = null)
        => Signature.Outputs[key] = Info(tensor.Contains(':') ? tensor : tensor + ":0", dtype, shape);

    public string Const(string name, float[] values, params long[] shape)
        => Node("Const", name, [], ("dtype", Type(DataType.DtFloat)), ("value", Tensor(DataType.DtFloat, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray())));

    public string ConstInt(string name, int[] values, params long[] shape)
        => Node("Const", name, [], ("dtype", Type(DataType.DtInt32)), ("value", Tensor(DataType.DtInt32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray())));

    public string ConstLong(string name, long[] values, params long[] shape)
        => Node("Const", name, [], ("dtype", Type(DataType.DtInt64)), ("value", Tensor(DataType.DtInt64, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray())));

    public static TensorInfo Info(string name, DataType dtype, long[]? shape)
        => new() { Name = name, Dtype = dtype, TensorShape = shape is null ? new TensorShapeProto { UnknownRank = true } : ShapeProto(shape) };

    public static AttrValue Tensor(DataType dtype, long[] shape, byte[] content)
        => new() { Tensor = new TensorProto { Dtype = dtype, TensorShape = ShapeProto(shape), TensorContent = ByteString.CopyFrom(content) } };

    public static AttrValue Type(DataType dtype) => new() { Type = dtype };

    public static AttrValue S(string value) => new() { S = ByteString.CopyFromUtf8(value) };

    public static AttrValue I(long value) => new() { I = value };

    public static AttrValue F(float value) => new() { F = value };

    public static AttrValue B(bool value) => new() { B = value };

    public static AttrValue Func(string name) => new() { Func = new NameAttrList { Name = name } };

    public static AttrValue Ints(params long[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.I.AddRange(values);
        return new AttrValue { List = list };
    }

    public static AttrValue Types(params DataType[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.Type.AddRange(values);
        return new AttrValue { List = list };
    }

    public static AttrValue Shape(long[] dims) => new() { Shape = ShapeProto(dims) };

    public static TensorShapeProto ShapeProto(long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dim { Size = d }));
        return shape;
    }

    /// <summary>Adds a library function with the given float arguments, nodes and returns.</summary>
    public FunctionDef Function(string name, (string Name, DataType Type)[] args, (string Name, DataType Type)[] outputs,
        IEnumerable<NodeDef> nodes, params (string Output, string Tensor)[] returns)
    {
        var function = new FunctionDef { Signature = new OpDef { Name = name } };
        function.Signature.InputArg.AddRange(args.Select(a => new OpDef.Types.ArgDef { Name = a.Name, Type = a.Type }));
        function.Signature.OutputArg.AddRange(outputs.Select(a => new OpDef.Types.ArgDef { Name = a.Name, Type = a.Type }));
        function.NodeDef.AddRange(nodes);
        foreach (var (output, tensor) in returns)
        {
            function.Ret[output] = tensor;
        }

        Graph.Library.Function.Add(function);
        return function;
    }

    /// <summary>Converts the signature with <paramref name="variables"/> (none by default).</summary>
    public OnnxConversion Convert(IVariableSource? variables = null)
        => SignatureConverter.Convert(Graph, Signature, variables ?? new TestVariables(), "test");
}

/// <summary>An in-memory variable source keyed by node name.</summary>
internal sealed class TestVariables : IVariableSource
{
    private readonly Dictionary<string, HostTensor> _values = new(StringComparer.Ordinal);

    public List<VariableRef> Requests { get; } = [];

    public TestVariables Add(string name, float[] values, params long[] shape)
    {
        _values[name] = HostTensor.FromFloat(shape, values);
        return this;
    }

    public bool TryGet(VariableRef variable, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HostTensor? value)
    {
        Requests.Add(variable);
        return _values.TryGetValue(variable.NodeName, out value) || _values.TryGetValue(variable.SharedName, out value);
    }
}
