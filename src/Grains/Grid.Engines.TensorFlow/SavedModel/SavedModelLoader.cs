using Google.Protobuf;
using Grid.Engines.TensorFlow.Checkpoint;
using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// Loads a SavedModel version directory without TensorFlow: parses <c>saved_model.pb</c>, selects
/// the MetaGraphDef by tags (<see cref="MetaGraphSelector"/>), opens the checkpoint under
/// <c>variables/</c>, maps the graph's variables to checkpoint keys (TF2 through the object
/// graphs, TF1 through the saver's restore op) and reads their values. Every failure is a
/// <see cref="ServingException"/> naming the file at fault: NOT_FOUND for a missing file (with
/// what the directory holds instead, e.g. a TFLite model), DATA_LOSS for a truncated or corrupt
/// one, INVALID_ARGUMENT for a graph whose variables cannot be mapped.
/// </summary>
public static class SavedModelLoader
{
    public const string SavedModelFileName = "saved_model.pb";

    public static SavedModelBundle Load(string exportDirectory, IReadOnlyCollection<string>? tags = null)
    {
        var directory = Path.GetFullPath(exportDirectory);
        if (!Directory.Exists(directory))
        {
            throw ServingException.NotFound($"SavedModel directory {directory} does not exist");
        }
        var path = Path.Combine(directory, SavedModelFileName);
        if (!File.Exists(path))
        {
            throw ServingException.NotFound(MissingSavedModelReason(directory));
        }
        var metaGraph = MetaGraphSelector.Select(Parse(path), tags, path);
        if (metaGraph.GraphDef is null)
        {
            throw new ServingException(ServingStatusCode.DataLoss, $"{path}: the selected MetaGraphDef has no graph_def");
        }
        var graph = new GraphNodes(metaGraph.GraphDef);
        var prefix = Path.Combine(directory, "variables", "variables");
        if (!File.Exists(prefix + ".index"))
        {
            if (graph.Variables.FirstOrDefault() is { } variable)
            {
                if (metaGraph.SaverDef is { Version: not SaverDef.Types.CheckpointFormatVersion.V2 } saver)
                {
                    throw ServingException.InvalidArgument($"{path}: the saver writes checkpoint format {saver.Version}; only TensorBundle (V2) checkpoints, variables/variables.index, are supported");
                }
                throw ServingException.NotFound($"Checkpoint index {prefix}.index does not exist, but the graph in {path} has variables (e.g. '{variable.Name}')");
            }
            return new SavedModelBundle(directory, metaGraph, null, VariableMapping.None, [], new Dictionary<string, CheckpointTensor>(), []);
        }

        var checkpoint = TensorBundle.Open(prefix);
        var useObjectGraph = metaGraph.ObjectGraphDef is { Nodes.Count: > 0 } && checkpoint.Contains(ObjectGraphResolver.ObjectGraphKey);
        var bindings = useObjectGraph
            ? ObjectGraphResolver.Resolve(graph, metaGraph.ObjectGraphDef, checkpoint, path)
            : SaverRestoreResolver.Resolve(graph, metaGraph.SaverDef, path);
        var mapping = bindings.Count == 0 ? VariableMapping.None : useObjectGraph ? VariableMapping.ObjectGraph : VariableMapping.SaverRestoreOp;
        var variables = VariableRestorer.Restore(bindings, graph, checkpoint, path);

        var bySharedName = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var variable in variables.Where(v => v.SharedName is not null))
        {
            if (bySharedName.TryGetValue(variable.SharedName!, out var other) && other.Key != variable.Value.Key)
            {
                throw ServingException.InvalidArgument($"{path}: shared_name '{variable.SharedName}' names variables restored from '{other.Key}' and '{variable.Value.Key}'");
            }
            bySharedName[variable.SharedName!] = variable.Value;
        }
        var mapped = variables.Select(v => v.GraphNode).ToHashSet(StringComparer.Ordinal);
        var unmapped = graph.Variables.Select(n => n.Name).Where(n => !mapped.Contains(n)).ToList();
        return new SavedModelBundle(directory, metaGraph, checkpoint, mapping, variables, bySharedName, unmapped);
    }

    private static Tensorflow.SavedModel Parse(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0)
        {
            throw new ServingException(ServingStatusCode.DataLoss, $"{path} is empty");
        }
        Tensorflow.SavedModel model;
        try
        {
            model = Tensorflow.SavedModel.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ServingException(ServingStatusCode.DataLoss, $"{path} is truncated or corrupt: {e.Message}");
        }
        if (model.MetaGraphs.Count == 0)
        {
            throw new ServingException(ServingStatusCode.DataLoss, $"{path} holds no MetaGraphDef");
        }
        return model;
    }

    /// <summary>Why a directory without saved_model.pb cannot be served, naming what it holds instead.</summary>
    private static string MissingSavedModelReason(string directory)
    {
        bool Has(string name) => File.Exists(Path.Combine(directory, name));
        if (Has("model.tflite"))
        {
            return $"{directory} holds a TensorFlow Lite model (model.tflite) and no {SavedModelFileName}; TFLite models are not supported";
        }
        if (Has("saved_model.pbtxt"))
        {
            return $"{directory} holds saved_model.pbtxt (text format), which is not supported; export {SavedModelFileName}";
        }
        if (Has("export.meta"))
        {
            return $"{directory} holds a TF1 MetaGraph/checkpoint export (export.meta), not a SavedModel: no {SavedModelFileName}";
        }
        return $"{directory} has no {SavedModelFileName}";
    }
}
