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
    /// The flat output index of <c>node:arg:index</c> for an op; for an op not listed, <paramref name="index"/>.
    /// List-valued arguments before <paramref name="arg"/> (ParseExample's) are counted as one
    /// output each: such ops are not convertible, so the index only serves error messages.
    /// </summary>
    public static int FlatIndex(string op, string arg, int index)
    {
        if (!MultiOutput.TryGetValue(op, out var args))
        {
            return index;
        }

        var position = Array.IndexOf(args, arg);
        return position < 0 ? index : position + index;
    }
}
