using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Conversion.Ops;
using Grid.Serving;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// Converts the part of a flattened graph that given tensors depend on, node by node in
/// dependency order, and checks up front that every op on the way has a converter.
/// </summary>
internal static class GraphConversion
{
    /// <summary>The control-flow ops and the attributes naming the functions they run (converted as subgraphs, not inlined).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> FunctionAttrs = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["While"] = ["cond", "body"],
        ["StatelessWhile"] = ["cond", "body"],
        ["If"] = ["then_branch", "else_branch"],
        ["StatelessIf"] = ["then_branch", "else_branch"],
    };

    /// <summary>
    /// Throws one Unimplemented <see cref="ServingException"/> naming every op type without a
    /// converter (with one node of each) among the nodes <paramref name="roots"/> depend on,
    /// including the functions of loops and conditionals; returns when there is none.
    /// </summary>
    public static void CheckSupported(GraphFlattener flattener, IEnumerable<TensorRef> roots)
    {
        var unsupported = new Dictionary<string, string>(StringComparer.Ordinal);
        Collect(flattener, roots, unsupported, depth: 0);
        if (unsupported.Count > 0)
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                "unsupported TensorFlow ops: " + string.Join(", ", unsupported.Select(u => $"{u.Key} (node {u.Value})")));
        }
    }

    /// <summary>Converts every node <paramref name="roots"/> depend on that is not converted yet (feeds must be).</summary>
    public static void Convert(ConversionContext context, IEnumerable<TensorRef> roots)
    {
        foreach (var node in PostOrder(roots.Select(r => r.Node)))
        {
            if (context.IsConverted(node))
            {
                continue;
            }

            if (!OpRegistry.TryGet(node.Op, out var converter))
            {
                throw new ServingException(ServingStatusCode.Unimplemented, $"unsupported TensorFlow ops: {node.Op} (node {node.Name})");
            }

            var inputs = node.Inputs.Select(context.Get).ToArray();
            if (node.Op != "Merge" && inputs.Any(i => i.IsDead))
            {
                // TF1 control flow: a node fed by an untaken branch is dead too.
                context.SetDead(node);
                continue;
            }

            IReadOnlyList<ConvertedTensor> outputs;
            try
            {
                outputs = converter(new OpContext(node, inputs, context));
            }
            catch (Exception e) when (e is not ServingException)
            {
                throw ServingException.InvalidArgument($"cannot convert node {node}: {e.Message}");
            }

            context.SetConverted(node, outputs);
        }
    }

    /// <summary>
    /// The nodes the roots depend on, each after all its inputs (iterative: deep graphs do not
    /// exhaust the stack). A cycle (TF1 loop) throws Unimplemented.
    /// </summary>
    public static IReadOnlyList<TfNode> PostOrder(IEnumerable<TfNode> roots)
    {
        var order = new List<TfNode>();
        var done = new HashSet<TfNode>();
        var stack = new Stack<(TfNode Node, int Next)>();
        foreach (var root in roots)
        {
            if (done.Contains(root))
            {
                continue;
            }

            stack.Push((root, 0));
            var onStack = new HashSet<TfNode> { root };
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < node.Inputs.Count)
                {
                    stack.Push((node, next + 1));
                    var input = node.Inputs[next].Node;
                    if (!done.Contains(input))
                    {
                        if (!onStack.Add(input))
                        {
                            throw new ServingException(ServingStatusCode.Unimplemented,
                                $"the graph has a cycle through node {input.Name} (TF1 Switch/Merge loops are not supported)");
                        }

                        stack.Push((input, 0));
                    }

                    continue;
                }

                onStack.Remove(node);
                if (done.Add(node))
                {
                    order.Add(node);
                }
            }
        }

        return order;
    }

    private static void Collect(GraphFlattener flattener, IEnumerable<TensorRef> roots, Dictionary<string, string> unsupported, int depth)
    {
        foreach (var node in PostOrder(roots.Select(r => r.Node)))
        {
            if (node.Op == GraphFlattener.FeedOp)
            {
                continue;
            }

            if (!OpRegistry.IsSupported(node.Op))
            {
                unsupported.TryAdd(node.Op, node.Name);
            }
            else if (FunctionAttrs.TryGetValue(node.Op, out var attrs) && depth < 16)
            {
                foreach (var attr in attrs)
                {
                    var name = node.Attr(attr).Func?.Name
                        ?? throw ServingException.InvalidArgument($"node {node.Name} has no function attribute '{attr}'");
                    var function = flattener.ForFunction(name, node.Name + "/" + attr + "/");
                    var outputs = flattener.Functions[name].Signature.OutputArg.Count;
                    Collect(function, Enumerable.Range(0, outputs).Select(function.ResolveOutput), unsupported, depth + 1);
                }
            }
        }
    }
}
