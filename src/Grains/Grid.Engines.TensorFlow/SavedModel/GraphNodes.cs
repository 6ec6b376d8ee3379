using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// A graph's nodes by name, and TensorFlow's input notation: <c>"node"</c> (output 0),
/// <c>"node:k"</c> and <c>"^node"</c> (a control input).
/// </summary>
internal sealed class GraphNodes
{
    /// <summary>Ops that own a variable's storage: TF1 reference variables and resource handles.</summary>
    public static readonly IReadOnlySet<string> VariableOps = new HashSet<string>(StringComparer.Ordinal) { "VariableV2", "Variable", "VarHandleOp" };

    private readonly Dictionary<string, NodeDef> _byName;

    public GraphNodes(GraphDef graph)
    {
        _byName = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            _byName[node.Name] = node;
        }
        Graph = graph;
    }

    public GraphDef Graph { get; }

    public IEnumerable<NodeDef> Variables => Graph.Node.Where(n => VariableOps.Contains(n.Op));

    public NodeDef? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The node and output index an input string names (control inputs name output -1).</summary>
    public static (string Node, int Output) ParseInput(string input)
    {
        if (input.StartsWith('^'))
        {
            return (input[1..], -1);
        }
        var colon = input.LastIndexOf(':');
        if (colon > 0 && int.TryParse(input.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var output))
        {
            return (input[..colon], output);
        }
        return (input, 0);
    }

    /// <summary>The producer of <paramref name="input"/>, looking through Identity nodes (which forward output 0).</summary>
    public (NodeDef Node, int Output)? Producer(string input)
    {
        var (name, output) = ParseInput(input);
        for (var hops = 0; hops <= _byName.Count; hops++)
        {
            if (Find(name) is not { } node)
            {
                return null;
            }
            if (node.Op != "Identity" || node.Input.Count == 0)
            {
                return (node, output);
            }
            (name, output) = ParseInput(node.Input[0]);
        }
        return null;
    }

    /// <summary>The node's data inputs in order (control inputs dropped).</summary>
    public static List<string> DataInputs(NodeDef node) => node.Input.Where(i => !i.StartsWith('^')).ToList();

    /// <summary>The node's <c>shared_name</c> attr, or null when absent or empty.</summary>
    public static string? SharedName(NodeDef node) =>
        node.Attr.TryGetValue("shared_name", out var value) && value.S.Length > 0 ? value.S.ToStringUtf8() : null;
}
