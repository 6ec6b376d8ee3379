using Grid.Engines.TensorFlow.Conversion.Ops;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

public sealed class OpRegistryTests
{
    /// <summary>The compute ops of the fixture census (OPS.md §1) that an ONNX graph can express.</summary>
    [Theory]
    [InlineData("MatMul", "BiasAdd", "Relu", "Softmax", "Reshape", "AddV2", "Conv2D", "MaxPool", "Mul", "Sigmoid", "StridedSlice", "Pack",
        "Shape", "Cast", "Tanh", "Transpose", "Fill", "Split", "TensorListReserve", "Less", "TensorListFromTensor", "TensorListGetItem",
        "TensorListSetItem", "TensorListStack", "ConcatV2", "ResourceGather", "FusedBatchNormV3", "GatherV2", "Prod", "StatelessWhile", "Add",
        "Mean", "Slice", "DepthwiseConv2dNative", "While", "GreaterEqual", "Rsqrt", "Select", "Sub", "Tile", "Where", "ZerosLike", "AddN",
        "Exp", "ResizeBilinear", "ReverseV2", "Squeeze", "TopKV2")]
    [InlineData("Relu6", "Elu", "Selu", "LeakyRelu", "Softplus", "Erf", "AvgPool", "Pad", "PadV2", "MirrorPad", "Minimum", "Maximum", "Square",
        "Sqrt", "Log", "Pow", "RealDiv", "Div", "FloorDiv", "FloorMod", "Neg", "Abs", "ArgMax", "ArgMin", "OneHot", "ResizeNearestNeighbor",
        "Conv2DBackpropInput", "Conv3D", "ExpandDims", "BatchMatMulV2", "Einsum", "SelectV2", "Equal", "NotEqual", "LessEqual", "Greater",
        "LogicalAnd", "LogicalOr", "LogicalNot", "Sum", "Max", "Min", "Identity", "IdentityN", "StopGradient", "NoOp", "Const", "Range",
        "OnesLike", "VarHandleOp", "ReadVariableOp", "VariableV2", "PlaceholderWithDefault", "StatefulPartitionedCall")]
    public void IsSupported_CensusAndKerasCoreOps_AreRegistered(params string[] ops)
    {
        // Function calls are inlined by the flattener rather than converted, so they are not registry entries.
        var missing = ops.Where(op => op is not "StatefulPartitionedCall" && !OpRegistry.IsSupported(op)).ToArray();
        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("HashTable")]
    [InlineData("HashTableV2")]
    [InlineData("LookupTableFind")]
    [InlineData("LookupTableFindV2")]
    public void IsSupported_LookupTablesFilledFromConstants_AreRegistered(string op) => Assert.True(OpRegistry.IsSupported(op));

    /// <summary>ParseExample and image decoding run on the host ahead of the graph (HostStage), never as ONNX nodes.</summary>
    [Theory]
    [InlineData("ParseExample")]
    [InlineData("ParseExampleV2")]
    [InlineData("DecodeJpeg")]
    [InlineData("SparseSegmentSum")]
    [InlineData("AssignVariableOp")]
    public void IsSupported_OpsWithoutOnnxForm_AreNotRegistered(string op) => Assert.False(OpRegistry.IsSupported(op));
}
