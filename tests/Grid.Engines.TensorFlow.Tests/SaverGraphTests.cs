using Google.Protobuf;
using Grid.Engines.TensorFlow.SavedModel;
using Grid.Serving;
using Grid.Testing;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Tests;

/// <summary>
/// TF1 saver graphs built by hand, for what the fixtures do not show: a variable restored from
/// a proper slice of a checkpoint tensor, and a restore op that assigns from something else.
/// </summary>
public sealed class SaverGraphTests
{
    [Fact]
    public void Load_PartitionedVariablePart_RestoresItsRowsOfTheCheckpointTensor()
    {
        using var temp = new TempDirectory();
        WriteModel(temp, "4 3 2,2:-", restoreSource: "save/RestoreV2");

        var bundle = SavedModelLoader.Load(temp.Path);
        var part = Assert.Single(bundle.Variables);
        Assert.Equal("w/part_1", part.GraphNode);
        Assert.Equal("w", part.CheckpointKey);
        Assert.Equal([2L, 3L], part.Value.Shape);
        Assert.Equal([6f, 7f, 8f, 9f, 10f, 11f], part.Value.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Load_SliceShapeDisagreesWithCheckpoint_ThrowsInvalidArgument()
    {
        using var temp = new TempDirectory();
        WriteModel(temp, "5 3 2,2:-", restoreSource: "save/RestoreV2");

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(temp.Path));
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("w/part_1", error.Message);
    }

    [Fact]
    public void Load_RestoreAssignsFromNonRestoreOp_ThrowsInvalidArgument()
    {
        using var temp = new TempDirectory();
        WriteModel(temp, "4 3 2,2:-", restoreSource: "save/RestoreV2/tensor_names");

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(temp.Path));
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("not from a RestoreV2", error.Message);
    }

    [Fact]
    public void Load_V1CheckpointFormat_ThrowsInvalidArgumentNamingFormat()
    {
        using var temp = new TempDirectory();
        WriteModel(temp, "", restoreSource: "save/RestoreV2", SaverDef.Types.CheckpointFormatVersion.V1);

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(temp.Path));
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("V1", error.Message);
    }

    /// <summary>A SavedModel whose only variable, w/part_1 [2,3], is restored from checkpoint tensor "w" [4,3] = 0..11 (no checkpoint for formats other than V2).</summary>
    private static void WriteModel(
        TempDirectory temp,
        string shapeAndSlice,
        string restoreSource,
        SaverDef.Types.CheckpointFormatVersion format = SaverDef.Types.CheckpointFormatVersion.V2)
    {
        var graph = new GraphDef();
        graph.Node.Add(Node("w/part_1", "VariableV2", [], ("dtype", new AttrValue { Type = DataType.DtFloat }), ("shape", new AttrValue { Shape = Shape(2, 3) })));
        graph.Node.Add(StringConst("save/Const", "model"));
        graph.Node.Add(StringConst("save/RestoreV2/tensor_names", "w"));
        graph.Node.Add(StringConst("save/RestoreV2/shape_and_slices", shapeAndSlice));
        graph.Node.Add(Node("save/RestoreV2", "RestoreV2", ["save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"]));
        graph.Node.Add(Node("save/Assign", "Assign", ["w/part_1", restoreSource]));
        graph.Node.Add(Node("save/restore_all", "NoOp", ["^save/Assign"]));
        var metaGraph = new MetaGraphDef
        {
            MetaInfoDef = new MetaGraphDef.Types.MetaInfoDef { Tags = { "serve" } },
            GraphDef = graph,
            SaverDef = new SaverDef { RestoreOpName = "save/restore_all", Version = format },
        };
        metaGraph.SignatureDef["serving_default"] = new SignatureDef { MethodName = "tensorflow/serving/predict" };
        temp.WriteFile("saved_model.pb", new Tensorflow.SavedModel { SavedModelSchemaVersion = 1, MetaGraphs = { metaGraph } }.ToByteArray());

        if (format != SaverDef.Types.CheckpointFormatVersion.V2)
        {
            return;
        }
        Directory.CreateDirectory(temp.Combine("variables"));
        var writer = new BundleWriter();
        writer.AddFloats("w", [4, 3], Enumerable.Range(0, 12).Select(i => (float)i).ToArray());
        writer.Write(temp.Combine("variables", "variables"));
    }

    private static NodeDef Node(string name, string op, string[] inputs, params (string Name, AttrValue Value)[] attrs)
    {
        var node = new NodeDef { Name = name, Op = op };
        node.Input.AddRange(inputs);
        foreach (var (attrName, value) in attrs)
        {
            node.Attr[attrName] = value;
        }
        return node;
    }

    private static NodeDef StringConst(string name, string value)
    {
        var tensor = new TensorProto { Dtype = DataType.DtString, TensorShape = Shape(1) };
        tensor.StringVal.Add(ByteString.CopyFromUtf8(value));
        return Node(name, "Const", [], ("dtype", new AttrValue { Type = DataType.DtString }), ("value", new AttrValue { Tensor = tensor }));
    }

    private static TensorShapeProto Shape(params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dim { Size = d }));
        return shape;
    }
}
