using Google.Protobuf;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Graph;

/// <summary>
/// Default attribute values of the ops the converter supports, as TensorFlow's OpDefs register
/// them. TF2 SavedModels strip attributes equal to their default (<c>stripped_default_attrs</c>),
/// and a SavedModel's own <c>stripped_op_list</c> is incomplete, so the defaults live here.
/// </summary>
internal static class OpAttrDefaults
{
    private static readonly Dictionary<string, Dictionary<string, AttrValue>> Defaults = Build();

    /// <summary>The registered default of <paramref name="attr"/> on <paramref name="op"/>, or null when it has none.</summary>
    public static AttrValue? TryGet(string op, string attr)
        => Defaults.TryGetValue(op, out var attrs) && attrs.TryGetValue(attr, out var value) ? value : null;

    private static Dictionary<string, Dictionary<string, AttrValue>> Build()
    {
        var table = new Dictionary<string, Dictionary<string, AttrValue>>(StringComparer.Ordinal);

        void Add(string[] ops, params (string Name, AttrValue Value)[] attrs)
        {
            foreach (var op in ops)
            {
                if (!table.TryGetValue(op, out var entry))
                {
                    entry = new Dictionary<string, AttrValue>(StringComparer.Ordinal);
                    table[op] = entry;
                }

                foreach (var (name, value) in attrs)
                {
                    entry[name] = value;
                }
            }
        }

        var conv2d = new[] { "Conv2D", "Conv2DBackpropInput", "DepthwiseConv2dNative" };
        Add(conv2d, ("data_format", S("NHWC")), ("dilations", Ints(1, 1, 1, 1)), ("explicit_paddings", Ints()));
        Add(["Conv2D", "Conv2DBackpropInput"], ("use_cudnn_on_gpu", B(true)));
        Add(["Conv3D"], ("data_format", S("NDHWC")), ("dilations", Ints(1, 1, 1, 1, 1)));
        Add(["MaxPool", "AvgPool", "MaxPoolV2"], ("data_format", S("NHWC")));
        Add(["MaxPool"], ("explicit_paddings", Ints()));
        Add(["MaxPool3D", "AvgPool3D"], ("data_format", S("NDHWC")));
        Add(["BiasAdd"], ("data_format", S("NHWC")));
        Add(["MatMul"], ("transpose_a", B(false)), ("transpose_b", B(false)));
        Add(["BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"], ("adj_x", B(false)), ("adj_y", B(false)));
        Add(["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"],
            ("epsilon", F(0.0001f)), ("data_format", S("NHWC")), ("is_training", B(true)), ("exponential_avg_factor", F(1f)));
        Add(["Mean", "Sum", "Max", "Min", "Prod", "All", "Any"], ("keep_dims", B(false)));
        Add(["ArgMax", "ArgMin"], ("output_type", T(DataType.DtInt64)));
        Add(["Shape", "Size"], ("out_type", T(DataType.DtInt32)));
        Add(["StridedSlice"], ("begin_mask", I(0)), ("end_mask", I(0)), ("ellipsis_mask", I(0)),
            ("new_axis_mask", I(0)), ("shrink_axis_mask", I(0)));
        Add(["Squeeze"], ("squeeze_dims", Ints()));
        Add(["Cast"], ("Truncate", B(false)));
        Add(["LeakyRelu"], ("alpha", F(0.2f)));
        Add(["ResizeBilinear", "ResizeNearestNeighbor"], ("align_corners", B(false)), ("half_pixel_centers", B(false)));
        Add(["OneHot"], ("axis", I(-1)));
        Add(["TopKV2"], ("sorted", B(true)));
        Add(["Pack", "Unpack"], ("axis", I(0)));
        Add(["GatherV2"], ("batch_dims", I(0)));
        Add(["ResourceGather"], ("batch_dims", I(0)), ("validate_indices", B(true)));
        Add(["Cumsum"], ("exclusive", B(false)), ("reverse", B(false)));
        Add(["VarHandleOp", "VariableV2"], ("container", S("")), ("shared_name", S("")));
        Add(["Unique"], ("out_idx", T(DataType.DtInt32)));
        Add(["Placeholder"], ("shape", new AttrValue { Shape = new TensorShapeProto { UnknownRank = true } }));
        Add(["While", "StatelessWhile"], ("parallel_iterations", I(10)));
        return table;
    }

    private static AttrValue S(string value) => new() { S = ByteString.CopyFromUtf8(value) };

    private static AttrValue I(long value) => new() { I = value };

    private static AttrValue F(float value) => new() { F = value };

    private static AttrValue B(bool value) => new() { B = value };

    private static AttrValue T(DataType value) => new() { Type = value };

    private static AttrValue Ints(params long[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.I.AddRange(values);
        return new AttrValue { List = list };
    }
}
