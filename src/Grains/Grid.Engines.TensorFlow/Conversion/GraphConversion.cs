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
    /// Ops that change state the graph keeps between runs (variables, tables, queues, counters).
    /// A signature that runs one is refused: Grid imports a graph once and runs it as a pure
    /// function, so an update would be lost, not kept.
    /// </summary>
    public static bool IsStateful(string op)
        => op is "Assign" or "AssignAdd" or "AssignSub" or "AssignVariableOp" or "AssignAddVariableOp" or "AssignSubVariableOp"
            or "CountUpTo" or "ResourceCountUpTo" or "DestroyResourceOp"
            or "LookupTableInsert" or "LookupTableInsertV2" or "LookupTableRemoveV2" or "LookupTableImport" or "LookupTableImportV2"
            or "InitializeTable" or "InitializeTableV2" or "InitializeTableFromTextFile" or "InitializeTableFromTextFileV2"
            || op.StartsWith("Scatter", StringComparison.Ordinal) || op.StartsWith("ResourceScatter", StringComparison.Ordinal)
            || op.StartsWith("Apply", StringComparison.Ordinal) || op.StartsWith("ResourceApply", StringComparison.Ordinal)
            || op.StartsWith("SparseApply", StringComparison.Ordinal) || op.StartsWith("ResourceSparseApply", StringComparison.Ordinal)
            || (op.StartsWith("Queue", StringComparison.Ordinal) && (op.Contains("Enqueue", StringComparison.Ordinal) || op.Contains("Dequeue", StringComparison.Ordinal)));

    /// <summary>
    /// Throws one Unimplemented <see cref="ServingException"/> naming every op type without a
    /// converter (with one node of each) among the nodes <paramref name="roots"/> depend on,
    /// including the functions of loops and conditionals, followed by <paramref name="reasons"/>
    /// (why a node the converter knows could still not be converted); returns when there is
    /// neither. A graph that changes state (<see cref="IsStateful"/>) is refused first, naming
    /// those ops. Nodes in <paramref name="cut"/> are handled outside the ONNX graph: neither
    /// they nor what only they depend on are checked.
    /// </summary>
    public static void CheckSupported(GraphFlattener flattener, IEnumerable<TensorRef> roots, IReadOnlySet<TfNode>? cut = null, IReadOnlyList<string>? reasons = null)
    {
        var unsupported = new Dictionary<string, string>(StringComparer.Ordinal);
        var stateful = new Dictionary<string, string>(StringComparer.Ordinal);
        Collect(flattener, roots, unsupported, stateful, cut, depth: 0);
        if (stateful.Count > 0)
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                "the graph is stateful (" + string.Join(", ", stateful.Select(u => $"{u.Key} (node {u.Value})"))
                + "): Grid serves only stateless graphs");
        }

        var parts = new List<string>();
        if (unsupported.Count > 0)
        {
            parts.Add("unsupported TensorFlow ops: " + string.Join(", ", unsupported.Select(u => $"{u.Key} (node {u.Value})")));
        }

        parts.AddRange(reasons ?? []);
        if (parts.Count > 0)
        {
            throw new ServingException(ServingStatusCode.Unimplemented, string.Join("; ", parts));
        }
    }

    /// <summary>Converts every node <paramref name="roots"/> depend on that is not converted yet (feeds must be).</summary>
    public static void Convert(ConversionContext context, IEnumerable<TensorRef> roots)
    {
        foreach (var node in PostOrder(roots.Select(r => r.Node), context.IsConverted))
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
    /// exhaust the stack). A cycle (TF1 loop) throws Unimplemented. A node for which
    /// <paramref name="stop"/> holds is listed, but what it depends on is not visited through it.
    /// </summary>
    public static IReadOnlyList<TfNode> PostOrder(IEnumerable<TfNode> roots, Func<TfNode, bool>? stop = null)
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
                if (next < node.Inputs.Count && (stop is null || !stop(node)))
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

    private static void Collect(GraphFlattener flattener, IEnumerable<TensorRef> roots, Dictionary<string, string> unsupported,
        Dictionary<string, string> stateful, IReadOnlySet<TfNode>? cut, int depth)
    {
        foreach (var node in PostOrder(roots.Select(r => r.Node), cut is null ? null : cut.Contains))
        {
            if (node.Op == GraphFlattener.FeedOp || (cut?.Contains(node) ?? false))
            {
                continue;
            }

            if (IsStateful(node.Op))
            {
                stateful.TryAdd(node.Op, node.Name);
            }
            else if (!OpRegistry.IsSupported(node.Op))
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
                    Collect(function, Enumerable.Range(0, outputs).Select(function.ResolveOutput), unsupported, stateful, null, depth + 1);
                }
            }
        }
    }
}
