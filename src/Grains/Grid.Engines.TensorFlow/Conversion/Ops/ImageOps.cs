using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Image resizing (NHWC images, a [height, width] size) as ONNX Resize with target sizes.
/// TensorFlow's sampling grid maps to <c>coordinate_transformation_mode</c>: align_corners →
/// align_corners; half_pixel_centers → half_pixel (bilinear) or tf_half_pixel_for_nn (nearest);
/// neither → asymmetric. Nearest rounds as TensorFlow does: floor, or round-half-up with
/// align_corners. ResizeBilinear yields float32 whatever the input type, as in TensorFlow.
/// </summary>
internal static class ImageOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["ResizeBilinear"] = op => Resize(op, bilinear: true);
        table["ResizeNearestNeighbor"] = op => Resize(op, bilinear: false);
    }

    private static IReadOnlyList<ConvertedTensor> Resize(OpContext op, bool bilinear)
    {
        var alignCorners = op.Node.Bool("align_corners");
        var halfPixel = op.Node.Bool("half_pixel_centers");
        if (alignCorners && halfPixel)
        {
            throw op.Unsupported("align_corners together with half_pixel_centers");
        }

        var mode = alignCorners ? "align_corners" : halfPixel ? (bilinear ? "half_pixel" : "tf_half_pixel_for_nn") : "asymmetric";
        var input = op.Input(0);
        var outType = bilinear ? DataType.DtFloat : input.DType;
        var builder = op.Graph.Builder;
        var name = op.Node.Name;
        var images = op.Name(0);
        if (input.DType != outType)
        {
            images = op.Graph.Cast(images, outType, name + "_float");
        }

        var nchw = op.Graph.Transpose(images, Layout.ToFirst(4), name + "_nchw");
        var batchAndChannels = builder.AddNode("Slice", [builder.AddNode("Shape", [nchw], name + "_shape"), op.Graph.Int64([0]), op.Graph.Int64([2])], name + "_nc");
        var sizes = builder.AddNode("Concat", [batchAndChannels, op.Graph.AsInt64(op.Input(1))], name + "_sizes", OnnxAttributes.Int("axis", 0));
        var resized = builder.AddNode("Resize", [nchw, "", "", sizes], name + "_resized",
            OnnxAttributes.String("mode", bilinear ? "linear" : "nearest"),
            OnnxAttributes.String("coordinate_transformation_mode", mode),
            OnnxAttributes.String("nearest_mode", alignCorners ? "round_prefer_ceil" : "floor"));
        var size = op.Input(1).Constant?.ToInt64Array();
        IReadOnlyList<long> dims = [input.Dims?[0] ?? -1, size?[0] ?? -1, size?[1] ?? -1, input.Dims?[3] ?? -1];
        return OpContext.One(op.Graph.Transpose(resized, Layout.ToLast(4), name), outType, dims);
    }
}
