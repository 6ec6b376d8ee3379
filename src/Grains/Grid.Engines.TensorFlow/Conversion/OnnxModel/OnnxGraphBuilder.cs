using Google.Protobuf;
using Onnx;

namespace Grid.Engines.TensorFlow.Conversion.OnnxModel;

/// <summary>
/// Builds one ONNX graph: typed inputs and outputs, initializers and nodes. Every value name it
/// hands out is unique across the graph and all subgraphs made with <see cref="CreateSubgraph"/>
/// (ONNX forbids a subgraph from redefining an outer name). Nodes are appended in call order,
/// so callers add a node only after the nodes that produce its inputs (ONNX's topological order).
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The default-domain opset the converted models import.</summary>
    public const int Opset = 18;

    /// <summary>The IR version that goes with <see cref="Opset"/> (IR 8 covers opsets up to 18).</summary>
    public const int IrVersion = 8;

    /// <summary>The ONNX-ML domain (LabelEncoder, …) and the version of it the converted models import when they use it.</summary>
    public const string MlDomain = "ai.onnx.ml";

    public const int MlOpset = 2;

    private readonly HashSet<string> _names;
    private readonly Dictionary<string, int> _domains;
    private readonly GraphProto _graph;

    public OnnxGraphBuilder(string graphName)
        : this(graphName, new HashSet<string>(StringComparer.Ordinal), new Dictionary<string, int>(StringComparer.Ordinal))
    {
    }

    private OnnxGraphBuilder(string graphName, HashSet<string> names, Dictionary<string, int> domains)
    {
        _names = names;
        _domains = domains;
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>A builder for a subgraph (a Loop body, …) sharing this graph's name space.</summary>
    public OnnxGraphBuilder CreateSubgraph(string graphName) => new(graphName, _names, _domains);

    /// <summary>Adds a one-output node of another operator set (<paramref name="domain"/> at <paramref name="version"/>), which the model then imports.</summary>
    public string AddDomainNode(string domain, int version, string opType, IEnumerable<string> inputs, string outputHint, params AttributeProto[] attributes)
    {
        _domains[domain] = version;
        var output = AddNode(opType, inputs, outputHint, attributes);
        _graph.Node[^1].Domain = domain;
        return output;
    }

    /// <summary>How many nodes the graph has so far.</summary>
    public int NodeCount => _graph.Node.Count;

    /// <summary>
    /// A name no value or node of this graph family has used: <paramref name="hint"/> itself when
    /// free, otherwise the hint with the first free <c>__N</c> suffix. The name is reserved.
    /// </summary>
    public string UniqueName(string hint)
    {
        var baseName = string.IsNullOrEmpty(hint) ? "v" : hint;
        if (_names.Add(baseName))
        {
            return baseName;
        }

        for (var i = 1; ; i++)
        {
            var candidate = $"{baseName}__{i}";
            if (_names.Add(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>
    /// Reserves <paramref name="name"/> exactly (graph inputs and outputs keep the names callers
    /// promised); throws when it is already taken.
    /// </summary>
    public string ReserveExact(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"ONNX value name '{name}' is already used in the graph.");
        }

        return name;
    }

    /// <summary>
    /// Adds a graph input named exactly <paramref name="name"/>. <paramref name="dims"/>: null for
    /// an unknown rank; a dimension below zero becomes a symbolic <c>dim_param</c>.
    /// </summary>
    public string AddInput(string name, TensorProto.Types.DataType elementType, IReadOnlyList<long>? dims)
    {
        ReserveExact(name);
        _graph.Input.Add(ValueInfo(name, elementType, dims));
        return name;
    }

    /// <summary>Adds a graph input of any type (Loop bodies take sequences) named exactly <paramref name="name"/>.</summary>
    public string AddInput(string name, TypeProto type)
    {
        ReserveExact(name);
        _graph.Input.Add(new ValueInfoProto { Name = name, Type = type });
        return name;
    }

    /// <summary>Adds a graph input under a fresh name derived from <paramref name="hint"/> (subgraph inputs); returns the name.</summary>
    public string AddUniqueInput(string hint, TypeProto type)
    {
        var name = UniqueName(hint);
        _graph.Input.Add(new ValueInfoProto { Name = name, Type = type });
        return name;
    }

    /// <summary>
    /// Declares an existing value (produced by a node, an input or an initializer) as a graph
    /// output. <paramref name="dims"/> as for <see cref="AddInput(string, TensorProto.Types.DataType, IReadOnlyList{long}?)"/>.
    /// </summary>
    public void AddOutput(string valueName, TensorProto.Types.DataType elementType, IReadOnlyList<long>? dims)
    {
        _graph.Output.Add(ValueInfo(valueName, elementType, dims));
    }

    /// <summary>Declares an existing value of any type as a graph output.</summary>
    public void AddOutput(string valueName, TypeProto type)
    {
        _graph.Output.Add(new ValueInfoProto { Name = valueName, Type = type });
    }

    /// <summary>Adds <paramref name="tensor"/> as an initializer under a fresh name derived from <paramref name="hint"/>.</summary>
    public string AddInitializer(string hint, TensorProto tensor)
    {
        var name = UniqueName(hint);
        var copy = tensor.Clone();
        copy.Name = name;
        _graph.Initializer.Add(copy);
        return name;
    }

    /// <summary>Adds a node with one output and returns that output's name.</summary>
    public string AddNode(string opType, IEnumerable<string> inputs, string outputHint, params AttributeProto[] attributes)
        => AddNode(opType, inputs, [outputHint], attributes)[0];

    /// <summary>
    /// Adds a node with one output per entry of <paramref name="outputHints"/> (each made unique)
    /// and returns the output names. An empty input name marks an omitted optional input.
    /// </summary>
    public IReadOnlyList<string> AddNode(
        string opType, IEnumerable<string> inputs, IReadOnlyList<string> outputHints, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = UniqueName($"{opType}_{_graph.Node.Count}") };
        node.Input.AddRange(inputs);
        var outputs = new string[outputHints.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i] = UniqueName(outputHints[i]);
        }

        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>
    /// Adds a node whose outputs keep exactly the names given, which the caller reserved with
    /// <see cref="UniqueName"/> or <see cref="ReserveExact"/> (graph outputs, loop-carried values).
    /// </summary>
    public void AddNodeWithOutputs(
        string opType, IEnumerable<string> inputs, IReadOnlyList<string> reservedOutputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = UniqueName($"{opType}_{_graph.Node.Count}") };
        node.Input.AddRange(inputs);
        node.Output.AddRange(reservedOutputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    /// <summary>The graph as built so far (a copy: later additions do not change it).</summary>
    public GraphProto ToGraph() => _graph.Clone();

    /// <summary>A model of this graph importing the default domain at <see cref="Opset"/>.</summary>
    public ModelProto ToModel(string producerName, string docString = "")
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = producerName,
            DocString = docString,
            Graph = ToGraph(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (domain, version) in _domains)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }

        return model;
    }

    /// <summary>The serialized model (the bytes an ONNX Runtime session loads).</summary>
    public byte[] ToModelBytes(string producerName, string docString = "") => ToModel(producerName, docString).ToByteArray();

    /// <summary>A tensor type; <paramref name="dims"/> as for <see cref="AddInput(string, TensorProto.Types.DataType, IReadOnlyList{long}?)"/>.</summary>
    public static TypeProto TensorType(TensorProto.Types.DataType elementType, IReadOnlyList<long>? dims, string dimPrefix)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)elementType };
        if (dims is not null)
        {
            var shape = new TensorShapeProto();
            for (var i = 0; i < dims.Count; i++)
            {
                shape.Dim.Add(dims[i] >= 0
                    ? new TensorShapeProto.Types.Dimension { DimValue = dims[i] }
                    : new TensorShapeProto.Types.Dimension { DimParam = $"{dimPrefix}_d{i}" });
            }

            tensor.Shape = shape;
        }

        return new TypeProto { TensorType = tensor };
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType elementType, IReadOnlyList<long>? dims)
        => new() { Name = name, Type = TensorType(elementType, dims, name) };
}
