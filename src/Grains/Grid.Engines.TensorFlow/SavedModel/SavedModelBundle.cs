using Grid.Engines.TensorFlow.Checkpoint;
using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>How a bundle's variables were tied to checkpoint keys.</summary>
public enum VariableMapping
{
    /// <summary>The graph has no variables to restore (or no checkpoint).</summary>
    None,

    /// <summary>TF1: the Assign ops of the SaverDef's restore op (<see cref="SaverRestoreResolver"/>).</summary>
    SaverRestoreOp,

    /// <summary>TF2: the object graphs and the signature calls' captured inputs (<see cref="ObjectGraphResolver"/>).</summary>
    ObjectGraph,
}

/// <summary>
/// One variable of the graph with its restored value. <see cref="Value"/> has the variable's
/// own shape: for a partitioned variable's part it is the part's slice (<see cref="Slice"/>)
/// of checkpoint tensor <see cref="CheckpointKey"/>.
/// </summary>
public sealed record RestoredVariable(string GraphNode, string Op, string? SharedName, string CheckpointKey, TensorSlice? Slice, CheckpointTensor Value);

/// <summary>
/// A loaded SavedModel: the MetaGraphDef for the requested tags and the values of the graph's
/// variables, read and checksum-verified, keyed the two ways the converter meets them: by the
/// variable op's node name (VariableV2 / VarHandleOp in the main graph) and by its
/// <c>shared_name</c> attr. Every entry in the two dictionaries is one of <see cref="Variables"/>;
/// <see cref="UnmappedVariableNodes"/> lists the main graph's variable ops no restore path reaches.
/// </summary>
public sealed class SavedModelBundle
{
    internal SavedModelBundle(
        string exportDirectory,
        MetaGraphDef metaGraph,
        TensorBundle? checkpoint,
        VariableMapping mapping,
        IReadOnlyList<RestoredVariable> variables,
        IReadOnlyDictionary<string, CheckpointTensor> bySharedName,
        IReadOnlyList<string> unmappedVariableNodes)
    {
        ExportDirectory = exportDirectory;
        MetaGraph = metaGraph;
        Checkpoint = checkpoint;
        Mapping = mapping;
        Variables = variables;
        VariablesByGraphNode = variables.ToDictionary(v => v.GraphNode, v => v.Value, StringComparer.Ordinal);
        VariablesBySharedName = bySharedName;
        UnmappedVariableNodes = unmappedVariableNodes;
    }

    public string ExportDirectory { get; }

    public MetaGraphDef MetaGraph { get; }

    public GraphDef Graph => MetaGraph.GraphDef;

    public IReadOnlyDictionary<string, SignatureDef> Signatures => MetaGraph.SignatureDef;

    /// <summary>The checkpoint under <c>variables/</c>; null for a graph-only SavedModel.</summary>
    public TensorBundle? Checkpoint { get; }

    public VariableMapping Mapping { get; }

    public IReadOnlyList<RestoredVariable> Variables { get; }

    /// <summary>Variable values by the main graph's VariableV2 / Variable / VarHandleOp node name.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> VariablesByGraphNode { get; }

    /// <summary>Variable values by the variable op's non-empty <c>shared_name</c> attr.</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> VariablesBySharedName { get; }

    /// <summary>Variable ops of the main graph without a value (not restored by the saver, or captured by no serving function).</summary>
    public IReadOnlyList<string> UnmappedVariableNodes { get; }
}
