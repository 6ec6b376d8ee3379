using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

public sealed class OnnxGraphBuilderTests
{
    [Fact]
    public void ToModelBytes_AddWithInitializerAndDynamicBatch_RunsOnOnnxRuntime()
    {
        var builder = new OnnxGraphBuilder("g");
        var x = builder.AddInput("x", TensorProto.Types.DataType.Float, [-1, 2]);
        var bias = builder.AddInitializer("bias", OnnxTensors.FromRaw(
            TensorProto.Types.DataType.Float, [2], [.. BitConverter.GetBytes(10f), .. BitConverter.GetBytes(20f)]));
        var sum = builder.AddNode("Add", [x, bias], "sum");
        builder.AddOutput(sum, TensorProto.Types.DataType.Float, [-1, 2]);

        using var session = new InferenceSession(builder.ToModelBytes("test"));
        var input = new DenseTensor<float>(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);

        // 1+10, 2+20, 3+10, 4+20, 5+10, 6+20.
        Assert.Equal(new float[] { 11, 22, 13, 24, 15, 26 }, results[0].AsTensor<float>().ToArray());
    }

    [Fact]
    public void UniqueName_TakenHint_AppendsFirstFreeSuffix()
    {
        var builder = new OnnxGraphBuilder("g");
        Assert.Equal("a", builder.UniqueName("a"));
        Assert.Equal("a__1", builder.UniqueName("a"));
        var sub = builder.CreateSubgraph("body");
        Assert.Equal("a__2", sub.UniqueName("a"));
        Assert.Throws<InvalidOperationException>(() => builder.ReserveExact("a__1"));
    }
}
