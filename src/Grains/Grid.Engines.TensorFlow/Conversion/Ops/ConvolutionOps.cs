using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Onnx;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Convolutions: Conv2D and Conv3D (grouped when the input has a multiple of the kernel's input
/// channels), DepthwiseConv2dNative (ONNX Conv with group = input channels) and
/// Conv2DBackpropInput (Keras Conv2DTranspose; ONNX ConvTranspose, then TensorFlow's cropping).
/// Conv1D needs nothing of its own: TensorFlow lowers it to ExpandDims + Conv2D + Squeeze.
/// Kernels are TensorFlow's [spatial…, in, out] (HWIO/DHWIO) and become ONNX's [out, in, spatial…];
/// a constant kernel (a folded variable) is rearranged at conversion time.
/// </summary>
internal static class ConvolutionOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["Conv2D"] = op => Convolution(op, depthwise: false);
        table["Conv3D"] = op => Convolution(op, depthwise: false);
        table["DepthwiseConv2dNative"] = op => Convolution(op, depthwise: true);
        table["Conv2DBackpropInput"] = TransposedConvolution;
    }

    private static IReadOnlyList<ConvertedTensor> Convolution(OpContext op, bool depthwise)
    {
        var format = op.Node.String("data_format");
        var channelsLast = Layout.IsChannelsLast(op, format);
        var rank = format.Length;
        var input = op.Input(0);
        var filter = op.Input(1);
        var strides = Layout.Spatial(op, op.Node.Ints("strides"), channelsLast, rank, "strides");
        var dilations = Layout.Spatial(op, op.Node.Ints("dilations"), channelsLast, rank, "dilations");
        var filterDims = filter.Dims ?? throw op.Unsupported("a filter of unknown shape");
        if (filterDims.Count != rank || filterDims.Any(d => d < 0))
        {
            throw op.Unsupported($"a filter of shape [{string.Join(",", filterDims)}]");
        }

        var inputChannels = input.Dims is { } dims && dims.Count == rank ? dims[channelsLast ? rank - 1 : 1] : -1;
        long group;
        long outChannels;
        string weights;
        if (depthwise)
        {
            // [H, W, C, M] → [H, W, 1, C·M]: output channel c·M + m is filter[.., c, m], as TensorFlow orders them.
            group = filterDims[2];
            outChannels = filterDims[2] * filterDims[3];
            weights = Weights(op, filter, [filterDims[0], filterDims[1], 1, outChannels], rank);
        }
        else
        {
            group = inputChannels > 0 && inputChannels != filterDims[rank - 2] ? inputChannels / filterDims[rank - 2] : 1;
            outChannels = filterDims[rank - 1];
            weights = Weights(op, filter, null, rank);
        }

        var attributes = new List<AttributeProto>
        {
            OnnxAttributes.Ints("strides", strides),
            OnnxAttributes.Ints("dilations", dilations),
            OnnxAttributes.Ints("kernel_shape", filterDims.Take(rank - 2)),
            OnnxAttributes.Int("group", group),
            Layout.Padding(op, channelsLast, rank),
        };
        var x = Layout.InputFirst(op, 0, channelsLast, rank);
        var y = op.Graph.Builder.AddNode("Conv", [x, weights], op.Node.Name + "_conv", [.. attributes]);
        var result = Layout.OutputLast(op, y, channelsLast, rank);
        return OpContext.One(result, input.DType, OutputDims(op, input.Dims, filterDims, strides, dilations, outChannels, channelsLast, rank));
    }

    /// <summary>The kernel in ONNX layout: [spatial…, in, out] (optionally reshaped first) → [out, in, spatial…].</summary>
    private static string Weights(OpContext op, ConvertedTensor filter, long[]? reshapeTo, int rank)
    {
        int[] perm = [rank - 1, rank - 2, .. Enumerable.Range(0, rank - 2)];
        if (filter.Constant is { } constant)
        {
            var host = reshapeTo is null ? constant : constant.Reshape(reshapeTo);
            return op.Graph.Name(ConvertedTensor.Const(host.Transpose(perm)));
        }

        var value = op.Graph.Name(filter);
        if (reshapeTo is not null)
        {
            value = op.Graph.Builder.AddNode("Reshape", [value, op.Graph.Int64(reshapeTo)], op.Node.Name + "_kernel_reshaped");
        }

        return op.Graph.Transpose(value, perm.Select(p => (long)p).ToArray(), op.Node.Name + "_kernel");
    }

    private static IReadOnlyList<long>? OutputDims(OpContext op, IReadOnlyList<long>? input, IReadOnlyList<long> filter,
        long[] strides, long[] dilations, long outChannels, bool channelsLast, int rank)
    {
        if (input is null || input.Count != rank)
        {
            return StaticShapes.OfRank(rank);
        }

        var padding = op.Node.String("padding");
        var pads = padding == "EXPLICIT" ? Layout.ExplicitPads(op, channelsLast, rank) : (Begins: new long[rank - 2], Ends: new long[rank - 2]);
        var spatial = new long[rank - 2];
        for (var i = 0; i < spatial.Length; i++)
        {
            var size = input[channelsLast ? i + 1 : i + 2];
            spatial[i] = Layout.OutputSize(padding, size, filter[i], strides[i], dilations[i], pads.Begins[i] + pads.Ends[i]);
        }

        return channelsLast ? [input[0], .. spatial, outChannels] : [input[0], outChannels, .. spatial];
    }

    /// <summary>
    /// Conv2DBackpropInput(input_sizes, filter, out_backprop). ONNX ConvTranspose without padding
    /// gives the full result, F = (in − 1)·stride + effective kernel per spatial axis; TensorFlow's
    /// result is its window [before, before + H) with H from input_sizes, zero past F. before is 0
    /// for VALID, the explicit begin pad for EXPLICIT, and for SAME ⌊max(F − H, 0) / 2⌋. The window
    /// is computed in the graph, so input_sizes may be a computed tensor (Keras builds it from tf.shape).
    /// </summary>
    private static IReadOnlyList<ConvertedTensor> TransposedConvolution(OpContext op)
    {
        var format = op.Node.String("data_format");
        var channelsLast = Layout.IsChannelsLast(op, format);
        const int rank = 4;
        var filter = op.Input(1);
        var gradient = op.Input(2);
        var strides = Layout.Spatial(op, op.Node.Ints("strides"), channelsLast, rank, "strides");
        var dilations = Layout.Spatial(op, op.Node.Ints("dilations"), channelsLast, rank, "dilations");
        var filterDims = filter.Dims ?? throw op.Unsupported("a filter of unknown shape");
        if (filterDims.Count != rank || filterDims.Any(d => d < 0))
        {
            throw op.Unsupported($"a filter of shape [{string.Join(",", filterDims)}]");
        }

        var graph = op.Graph;
        var builder = graph.Builder;
        var name = op.Node.Name;
        var x = Layout.InputFirst(op, 2, channelsLast, rank);
        var full = builder.AddNode("ConvTranspose", [x, Weights(op, filter, null, rank)], name + "_full",
            OnnxAttributes.Ints("strides", strides), OnnxAttributes.Ints("dilations", dilations),
            OnnxAttributes.Ints("kernel_shape", filterDims.Take(2)));

        var spatialAxes = new long[] { 2, 3 };
        var sizes = graph.AsInt64(op.Input(0));
        var target = builder.AddNode("Gather", [sizes, graph.Int64(channelsLast ? [1, 2] : [2, 3])], name + "_size");
        var fullSize = builder.AddNode("Slice", [builder.AddNode("Shape", [full], name + "_full_shape"), graph.Int64([2]), graph.Int64([4])], name + "_full_size");
        string before;
        switch (op.Node.String("padding"))
        {
            case "VALID":
                before = graph.Int64([0, 0]);
                break;
            case "EXPLICIT":
                before = graph.Int64(Layout.ExplicitPads(op, channelsLast, rank).Begins);
                break;
            case "SAME":
                var excess = builder.AddNode("Max", [builder.AddNode("Sub", [fullSize, target], name + "_excess"), graph.Int64([0, 0])], name + "_pad_total");
                before = builder.AddNode("Div", [excess, graph.Int64([2, 2])], name + "_pad_before");
                break;
            default:
                throw op.Unsupported($"padding {op.Node.String("padding")}");
        }

        var end = builder.AddNode("Add", [before, target], name + "_end");
        var shortfall = builder.AddNode("Max", [builder.AddNode("Sub", [end, fullSize], name + "_over"), graph.Int64([0, 0])], name + "_shortfall");
        var pads = builder.AddNode("Concat", [graph.Int64([0, 0, 0, 0, 0, 0]), shortfall], name + "_pads", OnnxAttributes.Int("axis", 0));
        var padded = builder.AddNode("Pad", [full, pads], name + "_padded");
        var window = builder.AddNode("Slice", [padded, before, end, graph.Int64(spatialAxes)], name + "_window");
        var result = Layout.OutputLast(op, window, channelsLast, rank);
        var dims = op.Input(0).Constant is { } constant ? constant.ToInt64Array() : StaticShapes.OfRank(rank);
        return OpContext.One(result, gradient.DType, dims);
    }
}
