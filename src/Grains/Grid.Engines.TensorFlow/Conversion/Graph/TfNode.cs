using Google.Protobuf.Collections;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Graph;

/// <summary>One output of a <see cref="TfNode"/>.</summary>
public readonly record struct TensorRef(TfNode Node, int Index)
{
    public override string ToString() => $"{Node.Name}:{Index}";
}

/// <summary>
/// A node of the flattened signature graph: function calls are inlined, so every node is an
/// ordinary op and its data inputs point at other flattened nodes (control inputs dropped).
/// <see cref="Name"/> is unique: a node inlined from a function carries the call's name as a
/// prefix (<c>call/inner</c>). Attributes the graph omits read as the op's registered default.
/// </summary>
public sealed class TfNode
{
    private readonly MapField<string, AttrValue> _attrs;
    private IReadOnlyList<TensorRef> _inputs = [];

    internal TfNode(string name, string op, MapField<string, AttrValue> attrs, string scopeName)
    {
        Name = name;
        Op = op;
        _attrs = attrs;
        ScopeName = scopeName;
    }

    /// <summary>The flattened, unique name.</summary>
    public string Name { get; }

    /// <summary>The TensorFlow op type.</summary>
    public string Op { get; }

    /// <summary>The function the node came from (empty for the main graph).</summary>
    public string ScopeName { get; }

    /// <summary>The data inputs, resolved to the flattened nodes that produce them.</summary>
    public IReadOnlyList<TensorRef> Inputs => _inputs;

    internal void SetInputs(IReadOnlyList<TensorRef> inputs) => _inputs = inputs;

    /// <summary>The attribute as written on the node, else the op's default, else null.</summary>
    public AttrValue? TryGetAttr(string name)
        => _attrs.TryGetValue(name, out var value) ? value : OpAttrDefaults.TryGet(Op, name);

    /// <summary>True when the node carries the attribute itself (not a default).</summary>
    public bool HasOwnAttr(string name) => _attrs.ContainsKey(name);

    public AttrValue Attr(string name) => TryGetAttr(name)
        ?? throw ServingException.InvalidArgument($"node {Name} ({Op}) has no attribute '{name}'");

    public long Int(string name) => Attr(name).I;

    public float Float(string name) => Attr(name).F;

    public bool Bool(string name) => Attr(name).B;

    public string String(string name) => Attr(name).S.ToStringUtf8();

    public DataType Type(string name) => Attr(name).Type;

    public IReadOnlyList<long> Ints(string name) => Attr(name).List?.I ?? (IReadOnlyList<long>)[];

    public override string ToString() => $"{Name} ({Op})";
}
