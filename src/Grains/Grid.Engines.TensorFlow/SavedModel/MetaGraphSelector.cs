using Grid.Serving;
using Tensorflow;

namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// Picks the MetaGraphDef whose tag set equals the requested one (order and repeats ignored),
/// as TF Serving's <c>--saved_model_tags</c> does; <c>serve</c> when none is requested.
/// </summary>
public static class MetaGraphSelector
{
    public static readonly IReadOnlyList<string> DefaultTags = ["serve"];

    public static MetaGraphDef Select(Tensorflow.SavedModel model, IReadOnlyCollection<string>? tags, string path)
    {
        var wanted = new HashSet<string>(tags is { Count: > 0 } ? tags : DefaultTags, StringComparer.Ordinal);
        foreach (var metaGraph in model.MetaGraphs)
        {
            if (wanted.SetEquals(metaGraph.MetaInfoDef?.Tags ?? []))
            {
                return metaGraph;
            }
        }
        var available = model.MetaGraphs.Select(m => "{ " + string.Join(", ", m.MetaInfoDef?.Tags ?? []) + " }");
        throw ServingException.NotFound(
            $"{path} has no MetaGraphDef with tags {{ {string.Join(", ", wanted.Order(StringComparer.Ordinal))} }}; available tag sets: [{string.Join(", ", available)}]");
    }
}
