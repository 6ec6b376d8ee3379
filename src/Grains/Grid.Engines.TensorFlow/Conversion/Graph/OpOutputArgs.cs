namespace Grid.Engines.TensorFlow.Conversion.Graph;

/// <summary>
/// Output argument names of the ops whose OpDef has more than one output argument. Inside a
/// FunctionDef a tensor is named <c>node:arg:index</c>; its flat output index is the position of
/// <c>arg</c> in this list plus <c>index</c>. Ops with a single output argument (a tensor or a
/// list, e.g. <c>Split:output:3</c>) are not listed: their flat index is <c>index</c> itself.
/// </summary>
internal static class OpOutputArgs
{
    private static readonly Dictionary<string, string[]> MultiOutput = new(StringComparer.Ordinal)
    {
        ["FusedBatchNorm"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
        ["FusedBatchNormV2"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
        ["FusedBatchNormV3"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"],
        ["TopKV2"] = ["values", "indices"],
        ["TopK"] = ["values", "indices"],
        ["Unique"] = ["y", "idx"],
        ["UniqueV2"] = ["y", "idx"],
        ["Switch"] = ["output_false", "output_true"],
        ["Merge"] = ["output", "value_index"],
        ["BroadcastGradientArgs"] = ["r0", "r1"],
        ["SparseFillEmptyRows"] = ["output_indices", "output_values", "empty_row_indicator", "reverse_index_map"],
        ["SparseReshape"] = ["output_indices", "output_shape"],
        ["ParseExample"] = ["sparse_indices", "sparse_values", "sparse_shapes", "dense_values"],
        ["ParseExampleV2"] = ["sparse_indices", "sparse_values", "sparse_shapes", "dense_values", "ragged_values", "ragged_row_splits"],
    };

    /// <summary>
    /// The flat output index of <c>node:arg:index</c> for node <paramref name="def"/>; for an op not
    /// listed, <paramref name="index"/>. List-valued output arguments (ParseExample's) count as
    /// many outputs as the node's attributes give them.
    /// </summary>
    public static int FlatIndex(Tensorflow.NodeDef def, string arg, int index)
    {
        if (!MultiOutput.TryGetValue(def.Op, out var args))
        {
            return index;
        }

        var position = Array.IndexOf(args, arg);
        if (position < 0)
        {
            return index;
        }

        var flat = 0;
        for (var i = 0; i < position; i++)
        {
            flat += ListLength(def, args[i]);
        }

        return flat + index;
    }

    /// <summary>How many tensors output argument <paramref name="arg"/> of <paramref name="def"/> holds (1 unless it is a list).</summary>
    private static int ListLength(Tensorflow.NodeDef def, string arg)
    {
        long Int(string name) => def.Attr.TryGetValue(name, out var v) ? v.I : 0;
        int Types(string name) => def.Attr.TryGetValue(name, out var v) ? v.List?.Type.Count ?? 0 : 0;
        return (def.Op, arg) switch
        {
            ("ParseExample", "sparse_indices" or "sparse_values" or "sparse_shapes") => (int)Int("Nsparse"),
            ("ParseExample", "dense_values") => Types("Tdense"),
            ("ParseExampleV2", "sparse_indices" or "sparse_values" or "sparse_shapes") => (int)Int("num_sparse"),
            ("ParseExampleV2", "dense_values") => Types("Tdense"),
            ("ParseExampleV2", "ragged_values") => Types("ragged_value_types"),
            ("ParseExampleV2", "ragged_row_splits") => Types("ragged_split_types"),
            _ => 1,
        };
    }
}
