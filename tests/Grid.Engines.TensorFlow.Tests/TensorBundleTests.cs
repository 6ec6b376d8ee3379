using System.Text;
using Grid.Engines.TensorFlow.Checkpoint;
using Grid.Serving;
using Grid.Testing;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Tests;

public sealed class TensorBundleTests
{
    private static string Prefix(string versionDirectory) => Path.Combine(versionDirectory, "variables", "variables");

    [Fact]
    public void Read_HalfPlusTwoScalars_ReturnsDocumentedValues()
    {
        var bundle = TensorBundle.Open(Prefix(Fixture.Serving("saved_model_half_plus_two_cpu")));
        Assert.Equal(0.5f, bundle.Read("a").AsSpan<float>()[0]);
        Assert.Equal(2.0f, bundle.Read("b").AsSpan<float>()[0]);
        Assert.Equal(3.0f, bundle.Read("c").AsSpan<float>()[0]);
        Assert.Empty(bundle.Read("a").Shape);
    }

    [Fact]
    public void Read_ObjectGraphStringTensor_ParsesAsTrackableObjectGraph()
    {
        var bundle = TensorBundle.Open(Prefix(Fixture.Serving("saved_model_half_plus_two_tf2_cpu")));
        var tensor = bundle.Read("_CHECKPOINTABLE_OBJECT_GRAPH");
        Assert.Equal(DataType.DtString, tensor.DataType);
        var graph = TrackableObjectGraph.Parser.ParseFrom(Assert.Single(tensor.Strings));
        var keys = graph.Nodes.SelectMany(n => n.Attributes).Select(a => a.CheckpointKey).ToList();
        Assert.Contains("a/.ATTRIBUTES/VARIABLE_VALUE", keys);
    }

    [Fact]
    public void Read_WrittenStringTensorOfSeveralElements_ReturnsEachElement()
    {
        using var temp = new TempDirectory();
        var writer = new BundleWriter();
        byte[][] values = [Encoding.UTF8.GetBytes("alpha"), [], new byte[300], Encoding.UTF8.GetBytes("ω")];
        writer.AddStrings("vocab", [2, 2], values);
        writer.Write(temp.Combine("ckpt"));

        var tensor = TensorBundle.Open(temp.Combine("ckpt")).Read("vocab");
        Assert.Equal(values, tensor.Strings);
        Assert.Equal([2L, 2L], tensor.Shape);
    }

    [Fact]
    public void Read_TwoShardFixture_ReadsEveryTensor()
    {
        var bundle = TensorBundle.Open(Prefix(Fixture.SavedModel("tf1_estimator_wide_deep")));
        Assert.Equal(2, bundle.Header.NumShards);
        Assert.Contains(bundle.Keys, k => bundle.GetEntry(k).ShardId == 1);
        foreach (var key in bundle.Keys)
        {
            Assert.Equal(bundle.GetEntry(key).Size, bundle.Read(key).Content.Length);
        }
        Assert.Equal([3L, 10L], bundle.Read("dnn/hiddenlayer_0/kernel").Shape);
    }

    [Fact]
    public void Read_PartitionedTensor_AssemblesFullTensorFromSlices()
    {
        using var temp = new TempDirectory();
        var full = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var writer = new BundleWriter();
        writer.AddSlicedFloats("w", [4, 3], full,
            new TensorSlice([(0, 1), (0, null)]),
            new TensorSlice([(1, 3), (0, null)]));
        writer.Write(temp.Combine("ckpt"));

        var tensor = TensorBundle.Open(temp.Combine("ckpt")).Read("w");
        Assert.Equal(full, tensor.AsSpan<float>().ToArray());
        Assert.Equal([4L, 3L], tensor.Shape);
    }

    [Fact]
    public void Read_SlicesNotCoveringTensor_ThrowsDataLoss()
    {
        using var temp = new TempDirectory();
        var writer = new BundleWriter();
        writer.AddSlicedFloats("w", [4, 3], new float[12], new TensorSlice([(0, 1), (0, null)]));
        writer.Write(temp.Combine("ckpt"));

        var error = Assert.Throws<ServingException>(() => TensorBundle.Open(temp.Combine("ckpt")).Read("w"));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains("'w'", error.Message);
    }

    [Fact]
    public void Open_MissingShard_ThrowsNotFoundNamingShard()
    {
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.SavedModel("tf1_estimator_wide_deep"));
        var shard = Prefix(model) + ".data-00001-of-00002";
        File.Delete(shard);

        var error = Assert.Throws<ServingException>(() => TensorBundle.Open(Prefix(model)));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains(shard, error.Message);
    }

    [Fact]
    public void Read_TruncatedShard_ThrowsDataLossNamingShardAndKey()
    {
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.SavedModel("tf1_mnist_softmax"));
        var shard = Prefix(model) + ".data-00000-of-00001";
        var bias = TensorBundle.Open(Prefix(model)).GetEntry("Variable_1");
        var bytes = File.ReadAllBytes(shard);
        Assert.Equal(bias.Offset + bias.Size, bytes.Length);
        File.WriteAllBytes(shard, bytes[..(int)(bias.Offset + 4)]);

        var bundle = TensorBundle.Open(Prefix(model));
        var error = Assert.Throws<ServingException>(() => bundle.Read("Variable_1"));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(shard, error.Message);
        Assert.Contains("'Variable_1'", error.Message);
        Assert.Equal(784 * 10, bundle.Read("Variable").ElementCount);
    }

    [Fact]
    public void Read_CorruptTensorBytes_ThrowsDataLossNamingShardAndKey()
    {
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.SavedModel("tf1_mnist_softmax"));
        var shard = Prefix(model) + ".data-00000-of-00001";
        var bundle = TensorBundle.Open(Prefix(model));
        var entry = bundle.GetEntry("Variable_1");
        var bytes = File.ReadAllBytes(shard);
        bytes[entry.Offset + 3] ^= 0x01;
        File.WriteAllBytes(shard, bytes);

        var error = Assert.Throws<ServingException>(() => bundle.Read("Variable_1"));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(shard, error.Message);
        Assert.Contains("'Variable_1'", error.Message);
        Assert.Equal(784 * 10, bundle.Read("Variable").ElementCount);
    }

    [Fact]
    public void Read_CorruptStringTensorBytes_ThrowsDataLoss()
    {
        using var temp = new TempDirectory();
        var writer = new BundleWriter();
        writer.AddStrings("s", [1], [Encoding.UTF8.GetBytes("payload")]);
        writer.Write(temp.Combine("ckpt"));
        var shard = temp.Combine("ckpt.data-00000-of-00001");
        var bytes = File.ReadAllBytes(shard);
        bytes[^1] ^= 0x20;
        File.WriteAllBytes(shard, bytes);

        var error = Assert.Throws<ServingException>(() => TensorBundle.Open(temp.Combine("ckpt")).Read("s"));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains("'s'", error.Message);
    }

    [Fact]
    public void AsSpan_BoolTensor_ReadsOneBytePerElement()
    {
        var tensor = new CheckpointTensor("flags", DataType.DtBool, [3], new byte[] { 1, 0, 1 });
        Assert.Equal([true, false, true], tensor.AsSpan<bool>().ToArray());
        Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<float>().Length);
    }

    [Fact]
    public void GetEntry_UnknownKey_ThrowsNotFoundNamingKey()
    {
        var bundle = TensorBundle.Open(Prefix(Fixture.Serving("saved_model_half_plus_two_cpu")));
        var error = Assert.Throws<ServingException>(() => bundle.Read("no/such/tensor"));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("no/such/tensor", error.Message);
    }
}
