using Grid.Engines.TensorFlow.Conversion.Graph;
using Grid.Serving;
using Onnx;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>Converts one TensorFlow node; returns its outputs in TensorFlow's output order.</summary>
internal delegate IReadOnlyList<ConvertedTensor> OpConverter(OpContext op);

/// <summary>One node being converted: the node, its converted inputs and the graph's helpers.</summary>
internal sealed class OpContext
{
    public OpContext(TfNode node, IReadOnlyList<ConvertedTensor> inputs, ConversionContext graph)
    {
        Node = node;
        Inputs = inputs;
        Graph = graph;
    }

    public TfNode Node { get; }

    public IReadOnlyList<ConvertedTensor> Inputs { get; }

    public ConversionContext Graph { get; }

    public ConvertedTensor Input(int index) => index < Inputs.Count
        ? Inputs[index]
        : throw ServingException.InvalidArgument($"node {Node} has {Inputs.Count} inputs; input {index} is required");

    /// <summary>The ONNX value of input <paramref name="index"/> (materializing a constant).</summary>
    public string Name(int index) => Graph.Name(Input(index));

    /// <summary>The value of input <paramref name="index"/>, which this op needs at conversion time.</summary>
    public HostTensor Constant(int index, string what)
        => Input(index).Constant ?? throw new ServingException(ServingStatusCode.Unimplemented,
            $"node {Node}: {what} (input {index}) must be a constant for conversion to ONNX, but it is computed by the graph");

    /// <summary>The int64 values of constant input <paramref name="index"/>.</summary>
    public long[] ConstantInts(int index, string what) => Constant(index, what).ToInt64Array();

    /// <summary>Adds a one-output ONNX node named after this TensorFlow node.</summary>
    public string Add(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
        => Graph.Builder.AddNode(opType, inputs, Node.Name, attributes);

    /// <summary>Adds a multi-output ONNX node named after this TensorFlow node.</summary>
    public IReadOnlyList<string> AddMulti(string opType, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
        => Graph.Builder.AddNode(opType, inputs, Enumerable.Range(0, outputs).Select(i => $"{Node.Name}_{i}").ToArray(), attributes);

    /// <summary>One output value.</summary>
    public static IReadOnlyList<ConvertedTensor> One(string onnxName, DataType dtype, IReadOnlyList<long>? dims)
        => [ConvertedTensor.Value(onnxName, dtype, dims)];

    /// <summary>An Unimplemented error about an attribute value or form this converter does not handle.</summary>
    public ServingException Unsupported(string what)
        => new(ServingStatusCode.Unimplemented, $"node {Node}: {what} is not supported by the ONNX conversion");
}
