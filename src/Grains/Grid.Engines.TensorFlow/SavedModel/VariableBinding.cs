namespace Grid.Engines.TensorFlow.SavedModel;

/// <summary>
/// What a resolver found: graph node <see cref="GraphNode"/> (a variable op) takes its value from
/// checkpoint key <see cref="CheckpointKey"/>, or from the slice <see cref="ShapeAndSlice"/>
/// (RestoreV2's notation, empty for the whole tensor) of it.
/// </summary>
internal sealed record VariableBinding(string GraphNode, string CheckpointKey, string ShapeAndSlice);
