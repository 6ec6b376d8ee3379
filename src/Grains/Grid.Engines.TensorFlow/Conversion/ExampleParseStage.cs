using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Engines.TensorFlow.Examples;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion;

/// <summary>One dense output of a ParseExample stage: which ONNX input it feeds.</summary>
/// <param name="DenseIndex">The position in the node's <c>dense_keys</c>.</param>
/// <param name="Key">The feature key.</param>
/// <param name="OnnxName">The ONNX model input the parsed tensor is fed to.</param>
/// <param name="DType">The parsed tensor's type (<c>Tdense</c>).</param>
/// <param name="Dims">Its ONNX shape: -1 for the batch and a variable-length dimension.</param>
public sealed record ParsedDenseInput(int DenseIndex, string Key, string OnnxName, DataType DType, IReadOnlyList<long> Dims);

/// <summary>
/// A ParseExample / ParseExampleV2 node the conversion cut out of the ONNX graph because its
/// <c>serialized</c> input is a signature input: the host parses the fed strings with
/// <see cref="ExampleParser"/> and feeds the dense results to the ONNX model. Immutable and
/// thread-safe.
/// </summary>
/// <param name="InputKey">The signature input (DT_STRING) holding the serialized tf.Examples.</param>
/// <param name="NodeName">The ParseExample node, for messages.</param>
/// <param name="Op"><c>ParseExample</c> (serialized must be a vector) or <c>ParseExampleV2</c> (a scalar is one example and gives outputs without the batch dimension).</param>
/// <param name="Spec">The features the node extracts, from its attributes and constant inputs.</param>
/// <param name="Names">The node's constant <c>names</c> input (example names in errors); empty for none.</param>
/// <param name="Dense">The dense outputs the ONNX model takes.</param>
/// <param name="Flatten">True when the graph reshapes the fed strings to a vector before parsing them.</param>
public sealed record ExampleParseStage(
    string InputKey, string NodeName, string Op, ExampleSpec Spec, IReadOnlyList<string> Names, IReadOnlyList<ParsedDenseInput> Dense, bool Flatten)
    : HostStage(InputKey, NodeName, Op)
{
    public override IReadOnlyList<HostStageInput> OnnxInputs { get; } = [.. Dense.Select(d => new HostStageInput(d.OnnxName, d.DType, d.Dims))];

    /// <summary>
    /// Parses <paramref name="serialized"/> as the node would and returns one tensor per entry of
    /// <see cref="Dense"/>, named by its ONNX input. Errors are INVALID_ARGUMENT with TensorFlow's texts.
    /// </summary>
    public override IEnumerable<NamedTensor> Run(TensorData serialized)
    {
        if (Flatten)
        {
            serialized = serialized with { Shape = [serialized.ElementCount] };
        }

        // ParseExample (V1) takes a vector only; ParseExampleV2 also a scalar (one example, no batch dimension).
        if (Op == "ParseExample" && serialized.Shape.Length != 1)
        {
            throw ServingException.InvalidArgument($"Expected serialized to be a vector, got shape: {ExampleSpec.FormatShape(serialized.Shape)}");
        }

        var parsed = ExampleParser.Parse(Spec, serialized, Names.Count > 0 ? Names : null);
        return Dense.Select(output => new NamedTensor(output.OnnxName, parsed.Dense[output.DenseIndex])).ToList();
    }
}

/// <summary>
/// Decides whether a ParseExample node of a signature's subgraph can run on the host ahead of the
/// ONNX graph: the node's <c>serialized</c> input is a signature input (possibly through
/// Identity or a Reshape to <c>[-1]</c>), its keys, defaults and names are constants, and the
/// graph uses only its dense outputs. A node that fails one of these is not cut and a reason
/// says why.
/// </summary>
internal static class ExampleParseCuts
{
    public static bool IsParseExample(string op) => op is "ParseExample" or "ParseExampleV2";

    public static (HostCut?, string?) TryCut(TfNode node, IReadOnlyList<TfNode> order, IReadOnlyDictionary<TfNode, string> feeds)
    {
        var reshapes = new List<long[]>();
        var serialized = HostCuts.Source(
            node.Inputs.Count > 0 ? node.Inputs[0] : throw ServingException.InvalidArgument($"node {node} has no inputs"),
            shape => shape is [-1], reshapes);
        var flatten = reshapes.Count > 0;

        if (!feeds.TryGetValue(serialized.Node, out var feedKey))
        {
            return (null, $"its serialized examples are computed by node {serialized.Node}, not fed by a signature input; Grid parses tf.Examples only where a signature input feeds them");
        }

        var v2 = node.Op == "ParseExampleV2";
        var sparseTypes = node.Attr("sparse_types").List?.Type.ToArray() ?? [];
        var denseTypes = node.Attr("Tdense").List?.Type.ToArray() ?? [];
        var denseShapes = node.Attr("dense_shapes").List?.Shape.ToArray() ?? [];
        var nSparse = v2 ? (int)node.Int("num_sparse") : (int)node.Int("Nsparse");
        var nDense = denseTypes.Length;
        if (denseShapes.Length != nDense || sparseTypes.Length != nSparse)
        {
            return (null, $"its attributes disagree: {nDense} Tdense, {denseShapes.Length} dense_shapes, {nSparse} sparse features, {sparseTypes.Length} sparse_types");
        }

        string[] sparseKeys, denseKeys;
        int defaultsStart;
        if (v2)
        {
            sparseKeys = Strings(ConstantFolder.Fold(node.Inputs[2], $"sparse_keys of {node}"));
            denseKeys = Strings(ConstantFolder.Fold(node.Inputs[3], $"dense_keys of {node}"));
            var raggedKeys = Strings(ConstantFolder.Fold(node.Inputs[4], $"ragged_keys of {node}"));
            if (raggedKeys.Length > 0)
            {
                return (null, $"it parses ragged features ({string.Join(", ", raggedKeys)}), which Grid does not support");
            }

            defaultsStart = 5;
        }
        else
        {
            sparseKeys = node.Inputs.Skip(2).Take(nSparse).Select(t => Strings(ConstantFolder.Fold(t, $"sparse_keys of {node}")).Single()).ToArray();
            denseKeys = node.Inputs.Skip(2 + nSparse).Take(nDense).Select(t => Strings(ConstantFolder.Fold(t, $"dense_keys of {node}")).Single()).ToArray();
            defaultsStart = 2 + nSparse + nDense;
        }

        if (denseKeys.Length != nDense || sparseKeys.Length != nSparse || node.Inputs.Count < defaultsStart + nDense)
        {
            return (null, $"it has {denseKeys.Length} dense and {sparseKeys.Length} sparse keys for {nDense} dense and {nSparse} sparse types");
        }

        // The graph may use only the dense outputs: sparse (and ragged) ones would need sparse
        // tensors inside the ONNX graph.
        var firstDense = 3 * nSparse;
        var other = order.SelectMany(n => n.Inputs).Where(t => t.Node == node && (t.Index < firstDense || t.Index >= firstDense + nDense))
            .Select(t => t.Index).Distinct().Order().ToList();
        if (other.Count > 0)
        {
            var used = other.Where(i => i < firstDense).Select(i => sparseKeys[i % nSparse]).Distinct().ToList();
            return (null, $"the graph uses its sparse outputs (feature{(used.Count == 1 ? "" : "s")} {string.Join(", ", used)}); Grid parses tf.Examples ahead of the graph for dense features only");
        }

        var names = Strings(ConstantFolder.Fold(node.Inputs[1], $"names of {node}"));
        var dense = new List<DenseFeature>();
        for (var i = 0; i < nDense; i++)
        {
            if (denseShapes[i].UnknownRank)
            {
                return (null, $"dense_shapes[{i}] has an unknown rank");
            }

            var shape = denseShapes[i].Dim.Select(d => d.Size).ToArray();
            var dtype = (TensorDType)(int)TfDataTypes.BaseType(denseTypes[i]);
            var defaultValue = ToTensorData(ConstantFolder.Fold(node.Inputs[defaultsStart + i], $"dense_defaults[{i}] of {node}"));
            dense.Add(new DenseFeature(denseKeys[i], dtype, shape, defaultValue));
        }

        var sparse = sparseKeys.Select((k, i) => new SparseFeature(k, (TensorDType)(int)TfDataTypes.BaseType(sparseTypes[i]))).ToList();
        var spec = ExampleSpec.Create(dense, sparse);
        return (new HostCut(node, feedKey, builder => Materialize(builder, node, feedKey, spec, names, firstDense, flatten)), null);
    }

    /// <summary>ONNX inputs for the dense outputs; the sparse outputs stand for nothing (the graph does not read them).</summary>
    private static (IReadOnlyList<ConvertedTensor>, HostStage) Materialize(
        OnnxModel.OnnxGraphBuilder builder, TfNode node, string inputKey, ExampleSpec spec, IReadOnlyList<string> names, int firstDense, bool flatten)
    {
        var outputs = new ConvertedTensor[firstDense + spec.Dense.Count];
        for (var s = 0; s < firstDense; s++)
        {
            outputs[s] = ConvertedTensor.Value("", DataType.DtInt64, null);
        }

        var parsed = new List<ParsedDenseInput>();
        for (var d = 0; d < spec.Dense.Count; d++)
        {
            var feature = spec.Dense[d];
            var dtype = (DataType)(int)feature.DType;
            long[] dims = [-1, .. feature.Shape];
            var name = builder.AddUniqueInput($"{inputKey}/{feature.Key}", OnnxModel.OnnxGraphBuilder.TensorType(TfDataTypes.ToOnnx(dtype), dims, $"{inputKey}_{d}"));
            outputs[firstDense + d] = ConvertedTensor.Value(name, dtype, dims);
            parsed.Add(new ParsedDenseInput(d, feature.Key, name, dtype, dims));
        }

        return (outputs, new ExampleParseStage(inputKey, node.Name, node.Op, spec, names, parsed, flatten));
    }

    private static string[] Strings(HostTensor value)
        => value.Strings?.Select(s => s.ToStringUtf8()).ToArray()
            ?? throw ServingException.InvalidArgument($"expected a string constant, got {value.DType}");

    private static TensorData ToTensorData(HostTensor value)
    {
        var dtype = (TensorDType)(int)value.DType;
        return value.Strings is { } strings
            ? TensorData.FromStrings([.. value.Shape], strings.Select(s => s.ToByteArray()).ToList())
            : new TensorData(dtype, [.. value.Shape], value.Data.ToArray());
    }
}
