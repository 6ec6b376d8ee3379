using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>
/// The nodes of a main graph that fill a lookup table (<c>InitializeTable</c>,
/// <c>InitializeTableV2</c>, <c>LookupTableImport</c>, <c>LookupTableImportV2</c>), by the name of
/// the table node they fill. TensorFlow runs them from the SavedModel's init op (a TF1
/// <c>legacy_init_op</c> / <c>main_op</c>, or the <c>table_initializer</c> collection) before
/// serving; Grid reads their constant keys and values instead, so a table becomes a constant
/// mapping in the ONNX model.
/// </summary>
internal sealed class TableInitializers
{
    private static readonly HashSet<string> InitOps = new(StringComparer.Ordinal)
    {
        "InitializeTable", "InitializeTableV2", "LookupTableImport", "LookupTableImportV2",
    };

    private static readonly HashSet<string> FileInitOps = new(StringComparer.Ordinal)
    {
        "InitializeTableFromTextFile", "InitializeTableFromTextFileV2",
    };

    private readonly GraphDef? _graph;
    private readonly Dictionary<string, List<NodeDef>> _byTable;

    private TableInitializers(GraphDef? graph, Dictionary<string, List<NodeDef>> byTable)
    {
        _graph = graph;
        _byTable = byTable;
    }

    public static TableInitializers Empty { get; } = new(null, new(StringComparer.Ordinal));

    /// <summary>Indexes the initializers of <paramref name="graph"/>'s main graph.</summary>
    public static TableInitializers Index(GraphDef graph)
    {
        var byTable = new Dictionary<string, List<NodeDef>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if ((InitOps.Contains(node.Op) || FileInitOps.Contains(node.Op)) && node.Input.Count > 0)
            {
                var table = node.Input[0].Split(':')[0].TrimStart('^');
                if (!byTable.TryGetValue(table, out var list))
                {
                    byTable[table] = list = [];
                }

                list.Add(node);
            }
        }

        return new TableInitializers(graph, byTable);
    }

    /// <summary>
    /// The keys and values that fill table <paramref name="table"/> (a main-graph HashTable node):
    /// exactly one initializer with constant keys and values, checked against the table's
    /// key and value types. Anything else is Unimplemented with the reason.
    /// </summary>
    public (HostTensor Keys, HostTensor Values) Resolve(TfNode table)
    {
        if (table.ScopeName.Length > 0 || _graph is null)
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                $"lookup table {table} is created inside function {table.ScopeName}; Grid reads only tables of the main graph");
        }

        if (!_byTable.TryGetValue(table.Name, out var inits) || inits.Count == 0)
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                $"lookup table {table} has no initializer in the graph (InitializeTable or LookupTableImport from constants), so Grid cannot know its contents");
        }

        if (inits.Count > 1)
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                $"lookup table {table} is filled by {inits.Count} nodes ({string.Join(", ", inits.Select(i => i.Name))}); Grid reads a table filled once");
        }

        var init = inits[0];
        if (FileInitOps.Contains(init.Op))
        {
            throw new ServingException(ServingStatusCode.Unimplemented,
                $"lookup table {table} is filled from an asset file by {init.Name} ({init.Op}); Grid reads only tables filled from constants");
        }

        // The initializer is outside the signature's subgraph: flatten it on its own.
        var flattener = new GraphFlattener(_graph, []);
        var data = init.Input.Where(i => !i.StartsWith('^')).ToList();
        if (data.Count < 3)
        {
            throw ServingException.InvalidArgument($"table initializer {init.Name} has {data.Count} inputs; it needs table, keys and values");
        }

        var keys = ConstantFolder.Fold(flattener.Resolve(data[1]), $"the keys of lookup table {table.Name} (filled by {init.Name})");
        var values = ConstantFolder.Fold(flattener.Resolve(data[2]), $"the values of lookup table {table.Name} (filled by {init.Name})");
        var keyType = TfDataTypes.BaseType(table.Type("key_dtype"));
        var valueType = TfDataTypes.BaseType(table.Type("value_dtype"));
        if (keys.DType != keyType || values.DType != valueType)
        {
            throw ServingException.InvalidArgument(
                $"lookup table {table.Name} maps {keyType} to {valueType} but {init.Name} fills it with {keys.DType} keys and {values.DType} values");
        }

        if (keys.ElementCount != values.ElementCount)
        {
            throw ServingException.InvalidArgument(
                $"lookup table {table.Name}: {init.Name} gives {keys.ElementCount} keys and {values.ElementCount} values");
        }

        return (keys, values);
    }
}
