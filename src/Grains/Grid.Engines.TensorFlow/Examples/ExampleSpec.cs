using Grid.Serving;
using Grid.Tensors;

namespace Grid.Engines.TensorFlow.Examples;

/// <summary>
/// One dense feature of a ParseExample / ParseExampleV2 node: an entry of its <c>dense_keys</c>,
/// <c>Tdense</c>, <c>dense_shapes</c> and <c>dense_defaults</c>.
/// </summary>
/// <param name="Key">The feature's name in the examples.</param>
/// <param name="DType">Float, Int64 or String (the three kinds a tf.Example holds).</param>
/// <param name="Shape">
/// Shape of one example's value. A first dimension of -1 makes the feature variable-length
/// (<c>FixedLenSequenceFeature</c>): each example holds any multiple of the remaining dimensions'
/// size, and the batch is padded to its longest example with <paramref name="DefaultValue"/>.
/// </param>
/// <param name="DefaultValue">
/// The value used when an example lacks the feature; null or empty makes the feature required.
/// For a variable-length feature it is the single padding element.
/// </param>
public sealed record DenseFeature(string Key, TensorDType DType, long[] Shape, TensorData? DefaultValue = null)
{
    /// <summary>True for a <c>FixedLenSequenceFeature</c> (first dimension -1).</summary>
    public bool IsVariableLength => Shape.Length > 0 && Shape[0] == -1;

    /// <summary>Elements per example (fixed length) or per row of the first dimension (variable length).</summary>
    internal long Stride => TensorData.CountElements(IsVariableLength ? Shape.AsSpan(1) : Shape);

    internal bool IsRequired => !IsVariableLength && (DefaultValue is null || DefaultValue.ElementCount == 0);
}

/// <summary>One sparse feature (<c>VarLenFeature</c>): an entry of <c>sparse_keys</c> and <c>sparse_types</c>.</summary>
public sealed record SparseFeature(string Key, TensorDType DType);

/// <summary>
/// What a ParseExample node extracts, in the node's order. Validated on creation with the
/// checks TensorFlow's kernel makes when it is constructed, so a bad spec fails at load time,
/// not on the first request. Immutable and thread-safe.
/// </summary>
public sealed class ExampleSpec
{
    private ExampleSpec(IReadOnlyList<DenseFeature> dense, IReadOnlyList<SparseFeature> sparse)
    {
        Dense = dense;
        Sparse = sparse;
        var index = new Dictionary<string, (bool IsDense, int Index)>(StringComparer.Ordinal);
        for (var i = 0; i < dense.Count; i++)
        {
            index[dense[i].Key] = (true, i);
        }
        for (var i = 0; i < sparse.Count; i++)
        {
            index[sparse[i].Key] = (false, i);
        }
        Index = index;
    }

    public IReadOnlyList<DenseFeature> Dense { get; }

    public IReadOnlyList<SparseFeature> Sparse { get; }

    /// <summary>Feature key → (dense?, position). Keys are unique across dense and sparse.</summary>
    internal IReadOnlyDictionary<string, (bool IsDense, int Index)> Index { get; }

    /// <summary>
    /// Checks and freezes a spec. INVALID_ARGUMENT (TensorFlow's words where it has them) for a
    /// dtype a tf.Example cannot hold, a bad shape, a default that does not fit its feature, or
    /// a key listed twice.
    /// </summary>
    public static ExampleSpec Create(IReadOnlyList<DenseFeature> dense, IReadOnlyList<SparseFeature>? sparse = null)
    {
        sparse ??= [];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in sparse)
        {
            CheckDType(s.DType);
            if (!keys.Add(s.Key))
            {
                throw ServingException.InvalidArgument($"Feature key {s.Key} is listed more than once in the ParseExample spec");
            }
        }
        for (var d = 0; d < dense.Count; d++)
        {
            var f = dense[d];
            CheckDType(f.DType);
            if (!keys.Add(f.Key))
            {
                throw ServingException.InvalidArgument($"Feature key {f.Key} is listed more than once in the ParseExample spec");
            }
            for (var i = 0; i < f.Shape.Length; i++)
            {
                if (f.Shape[i] < 0 && !(i == 0 && f.Shape[i] == -1))
                {
                    throw ServingException.InvalidArgument(
                        $"dense_shapes[{d}] has unknown dimension {i} in {FormatShape(f.Shape)}: only the first dimension may be unknown (a variable-length feature)");
                }
            }
            var def = f.DefaultValue;
            if (f.IsVariableLength)
            {
                if (def is null || def.ElementCount != 1)
                {
                    throw ServingException.InvalidArgument(
                        $"dense_shape[{d}] is a variable length shape: {FormatShape(f.Shape)}, therefore def_value[{d}] must contain a single element (the padding element).  But its shape is: {FormatShape(def?.Shape ?? [0])}");
                }
            }
            else if (def is not null && def.ElementCount > 0 && !def.Shape.AsSpan().SequenceEqual(f.Shape))
            {
                throw ServingException.InvalidArgument(
                    $"def_value[{d}].shape() == {FormatShape(def.Shape)} is not compatible with dense_shapes_[{d}] == {FormatShape(f.Shape)}");
            }
            if (def is not null && def.ElementCount > 0 && def.DType != f.DType)
            {
                throw ServingException.InvalidArgument(
                    $"dense_defaults[{d}].dtype() == {def.DType.TfName()} != Tdense[{d}] == {f.DType.TfName()}");
            }
        }
        return new ExampleSpec([.. dense], [.. sparse]);
    }

    private static void CheckDType(TensorDType dtype)
    {
        if (dtype is not (TensorDType.Float or TensorDType.Int64 or TensorDType.String))
        {
            throw ServingException.InvalidArgument($"Invalid config dtype: {dtype.ShortName()}");
        }
    }

    /// <summary>A shape as TensorFlow's <c>TensorShape::DebugString</c> prints it: <c>[2,3]</c>, unknown dimensions as <c>?</c>.</summary>
    internal static string FormatShape(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i] < 0 ? "?" : shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return "[" + string.Join(",", parts) + "]";
    }
}
