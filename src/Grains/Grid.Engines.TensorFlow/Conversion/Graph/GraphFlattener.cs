using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Graph;

/// <summary>
/// Resolves TensorFlow tensor names to the nodes that compute them, inlining function calls on
/// the way: only what the requested tensors depend on through data inputs is ever visited
/// (control inputs <c>^name</c> are ignored), and fed tensors cut the graph.
/// <list type="bullet">
/// <item>Main-graph names are <c>node</c> or <c>node:index</c>; inside a FunctionDef they are an
/// input argument name or <c>node:output_arg:index</c>, mapped to a flat index through the op's
/// output arguments (<see cref="OpOutputArgs"/>) or, for a call, the callee's signature.</item>
/// <item><c>PartitionedCall</c>/<c>StatefulPartitionedCall</c> (attr <c>f</c>) and nodes whose op
/// is a library function are inlined, recursively: a callee's input argument resolves to the
/// caller's input, so a captured resource argument leads back to the outer <c>VarHandleOp</c>.
/// Each call site is inlined once, under the prefix <c>callnode/</c>.</item>
/// <item>Loop bodies (<c>While</c> attrs) are not inlined: <see cref="ForFunction"/> flattens a
/// function on its own, with its arguments as feeds.</item>
/// </list>
/// </summary>
public sealed class GraphFlattener
{
    /// <summary>The op of the synthetic node standing for a fed tensor or a function argument.</summary>
    public const string FeedOp = "_Feed";

    private readonly Dictionary<string, FunctionDef> _library;
    private readonly Scope _root;
    private readonly Dictionary<string, TfNode> _feeds = new(StringComparer.Ordinal);
    private readonly Stack<(Scope Scope, NodeDef Def, TfNode Node)> _pending = new();

    /// <summary>A flattener of <paramref name="graph"/> in which <paramref name="feedTensorNames"/> are cut off as feeds.</summary>
    public GraphFlattener(GraphDef graph, IEnumerable<string> feedTensorNames)
    {
        _library = Library(graph.Library);
        _root = new Scope("", "", Index(graph.Node, "the main graph"), null, null, null);
        foreach (var feed in feedTensorNames)
        {
            var canonical = CanonicalMainName(feed);
            if (!_feeds.ContainsKey(canonical))
            {
                _feeds[canonical] = new TfNode(canonical, FeedOp, new(), "");
            }
        }
    }

    private GraphFlattener(Dictionary<string, FunctionDef> library, FunctionDef function, string prefix)
    {
        _library = library;
        _root = new Scope(prefix, function.Signature.Name, Index(function.NodeDef, function.Signature.Name), function, null, null);
        foreach (var arg in function.Signature.InputArg)
        {
            _feeds[arg.Name] = new TfNode(prefix + arg.Name, FeedOp, new(), function.Signature.Name);
        }
    }

    /// <summary>
    /// A flattener of library function <paramref name="functionName"/> standing alone: each input
    /// argument is a feed (<see cref="Feed"/> by argument name) and <see cref="ResolveOutput"/>
    /// gives the tensor behind each output argument. Node names get <paramref name="prefix"/>.
    /// </summary>
    public GraphFlattener ForFunction(string functionName, string prefix)
        => new(_library, Function(functionName, "a loop"), prefix);

    /// <summary>The function library by name.</summary>
    public IReadOnlyDictionary<string, FunctionDef> Functions => _library;

    /// <summary>The feed node of a fed tensor (main graph: its tensor name; function: the argument name).</summary>
    public TfNode Feed(string name)
        => _feeds.TryGetValue(_root.Function is null ? CanonicalMainName(name) : name, out var node)
            ? node
            : throw new InvalidOperationException($"'{name}' is not a feed");

    /// <summary>The main-graph node named <paramref name="name"/> (unflattened), or null.</summary>
    public NodeDef? RootNode(string name) => _root.Nodes.GetValueOrDefault(name);

    /// <summary>The tensor a main-graph tensor name (<c>node</c>, <c>node:1</c>) denotes.</summary>
    public TensorRef Resolve(string tensorName) => ResolveAll(Resolve(_root, tensorName));

    /// <summary>For a flattener made by <see cref="ForFunction"/>: the tensor behind output argument <paramref name="index"/>.</summary>
    public TensorRef ResolveOutput(int index)
    {
        var function = _root.Function ?? throw new InvalidOperationException("not a function flattener");
        return ResolveAll(Resolve(_root, Ret(function, index)));
    }

    private TensorRef Resolve(Scope scope, string tensor)
    {
        string nodeName;
        string? outArg = null;
        int index;
        if (scope.Function is null)
        {
            var canonical = CanonicalMainName(tensor);
            if (_feeds.TryGetValue(canonical, out var feed))
            {
                return new TensorRef(feed, 0);
            }

            var colon = canonical.LastIndexOf(':');
            nodeName = canonical[..colon];
            index = int.Parse(canonical[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            var parts = tensor.Split(':');
            if (parts.Length == 1)
            {
                return Argument(scope, tensor);
            }

            nodeName = parts[0];
            outArg = parts.Length == 3 ? parts[1] : null;
            if (!int.TryParse(parts[^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index))
            {
                throw ServingException.InvalidArgument($"malformed tensor name '{tensor}' in function {scope.FunctionName}");
            }
        }

        if (!scope.Nodes.TryGetValue(nodeName, out var def))
        {
            throw ServingException.InvalidArgument(
                $"tensor '{tensor}' names no node of {(scope.Function is null ? "the main graph" : "function " + scope.FunctionName)}");
        }

        if (CalleeName(def) is { } calleeName)
        {
            var callee = CallScope(scope, def, calleeName);
            var outputIndex = def.Op is "PartitionedCall" or "StatefulPartitionedCall" || outArg is null
                ? index
                : OutputArgIndex(callee.Function!, outArg) + index;
            return Resolve(callee, Ret(callee.Function!, outputIndex));
        }

        var flatIndex = outArg is null ? index : OpOutputArgs.FlatIndex(def, outArg, index);
        return new TensorRef(Build(scope, def), flatIndex);
    }

    /// <summary>
    /// The flattened node for <paramref name="def"/>, created on first use with its inputs still
    /// unresolved: <see cref="ResolveAll"/> resolves them from a work list, so a long chain of
    /// nodes never deepens the call stack.
    /// </summary>
    private TfNode Build(Scope scope, NodeDef def)
    {
        if (!scope.Built.TryGetValue(def.Name, out var node))
        {
            node = new TfNode(scope.Prefix + def.Name, def.Op, def.Attr, scope.FunctionName);
            scope.Built[def.Name] = node;
            _pending.Push((scope, def, node));
        }

        return node;
    }

    /// <summary>Resolves the data inputs of every node created so far, and of the nodes they lead to.</summary>
    private TensorRef ResolveAll(TensorRef result)
    {
        while (_pending.Count > 0)
        {
            var (scope, def, node) = _pending.Pop();
            var inputs = new List<TensorRef>(def.Input.Count);
            foreach (var input in def.Input)
            {
                if (!input.StartsWith('^'))
                {
                    inputs.Add(Resolve(scope, input));
                }
            }

            node.SetInputs(inputs);
        }

        return result;
    }

    private TensorRef Argument(Scope scope, string argName)
    {
        if (scope.Caller is null)
        {
            return _feeds.TryGetValue(argName, out var feed)
                ? new TensorRef(feed, 0)
                : throw ServingException.InvalidArgument($"function {scope.FunctionName} has no input argument '{argName}'");
        }

        if (scope.Args.TryGetValue(argName, out var bound))
        {
            return bound;
        }

        var signature = scope.Function!.Signature;
        var position = signature.InputArg.ToList().FindIndex(a => a.Name == argName);
        if (position < 0)
        {
            throw ServingException.InvalidArgument($"function {scope.FunctionName} has no input argument '{argName}'");
        }

        var callerInputs = scope.CallNode!.Input.Where(i => !i.StartsWith('^')).ToList();
        if (position >= callerInputs.Count)
        {
            throw ServingException.InvalidArgument(
                $"call {scope.CallNode.Name} passes {callerInputs.Count} inputs to {scope.FunctionName}, which needs argument '{argName}'");
        }

        var resolved = Resolve(scope.Caller, callerInputs[position]);
        scope.Args[argName] = resolved;
        return resolved;
    }

    private Scope CallScope(Scope caller, NodeDef callNode, string calleeName)
    {
        if (caller.Calls.TryGetValue(callNode.Name, out var existing))
        {
            return existing;
        }

        var function = Function(calleeName, $"node {caller.Prefix}{callNode.Name}");
        if (function.Signature.InputArg.Any(a => a.NumberAttr.Length > 0 || a.TypeListAttr.Length > 0)
            || function.Signature.OutputArg.Any(a => a.NumberAttr.Length > 0 || a.TypeListAttr.Length > 0))
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                $"function {calleeName} has list-valued arguments, which inlining does not support");
        }

        var scope = new Scope(caller.Prefix + callNode.Name + "/", calleeName, Index(function.NodeDef, calleeName), function, caller, callNode);
        caller.Calls[callNode.Name] = scope;
        return scope;
    }

    private string? CalleeName(NodeDef def)
    {
        if (def.Op is "PartitionedCall" or "StatefulPartitionedCall")
        {
            return def.Attr.TryGetValue("f", out var f) && f.Func is not null
                ? f.Func.Name
                : throw ServingException.InvalidArgument($"call node {def.Name} has no function attribute 'f'");
        }

        return _library.ContainsKey(def.Op) ? def.Op : null;
    }

    private FunctionDef Function(string name, string user)
        => _library.TryGetValue(name, out var function)
            ? function
            : throw ServingException.InvalidArgument($"{user} calls function {name}, which the graph's library lacks");

    private static string Ret(FunctionDef function, int outputIndex)
    {
        var outputs = function.Signature.OutputArg;
        if (outputIndex < 0 || outputIndex >= outputs.Count)
        {
            throw ServingException.InvalidArgument($"function {function.Signature.Name} has no output {outputIndex}");
        }

        return function.Ret.TryGetValue(outputs[outputIndex].Name, out var ret)
            ? ret
            : throw ServingException.InvalidArgument($"function {function.Signature.Name} does not return '{outputs[outputIndex].Name}'");
    }

    private static int OutputArgIndex(FunctionDef function, string argName)
    {
        var index = function.Signature.OutputArg.ToList().FindIndex(a => a.Name == argName);
        return index >= 0
            ? index
            : throw ServingException.InvalidArgument($"function {function.Signature.Name} has no output argument '{argName}'");
    }

    /// <summary><c>node</c> → <c>node:0</c>; <c>node:1</c> unchanged.</summary>
    private static string CanonicalMainName(string tensor)
    {
        var colon = tensor.LastIndexOf(':');
        return colon > 0 && colon < tensor.Length - 1 && tensor[(colon + 1)..].All(char.IsAsciiDigit) ? tensor : tensor + ":0";
    }

    private static Dictionary<string, FunctionDef> Library(FunctionDefLibrary? library)
    {
        var result = new Dictionary<string, FunctionDef>(StringComparer.Ordinal);
        foreach (var function in library?.Function ?? [])
        {
            result[function.Signature.Name] = function;
        }

        return result;
    }

    private static Dictionary<string, NodeDef> Index(IEnumerable<NodeDef> nodes, string where)
    {
        var result = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (!result.TryAdd(node.Name, node))
            {
                throw ServingException.InvalidArgument($"{where} has two nodes named {node.Name}");
            }
        }

        return result;
    }

    private sealed class Scope(
        string prefix, string functionName, Dictionary<string, NodeDef> nodes, FunctionDef? function, Scope? caller, NodeDef? callNode)
    {
        public string Prefix { get; } = prefix;
        public string FunctionName { get; } = functionName;
        public Dictionary<string, NodeDef> Nodes { get; } = nodes;
        public FunctionDef? Function { get; } = function;
        public Scope? Caller { get; } = caller;
        public NodeDef? CallNode { get; } = callNode;
        public Dictionary<string, TfNode> Built { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Scope> Calls { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, TensorRef> Args { get; } = new(StringComparer.Ordinal);
    }
}
