using Google.Protobuf;
using Grid.Engines.TensorFlow.SavedModel;
using Grid.Serving;
using Grid.Testing;

namespace Grid.Engines.TensorFlow.Tests;

public sealed class SavedModelLoaderTests
{
    public static TheoryData<string> AllFixtures() => new(Fixture.AllSavedModelDirectories());

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Load_EveryFixture_RestoresFiniteVariablesAndReadsWholeCheckpoint(string directory)
    {
        var bundle = SavedModelLoader.Load(directory);

        Assert.NotEmpty(bundle.Signatures);
        Assert.NotEmpty(bundle.Variables);
        foreach (var variable in bundle.Variables.Where(v => v.Value.DataType == Tensorflow.DataType.DtFloat))
        {
            Assert.All(variable.Value.AsSpan<float>().ToArray(), x => Assert.True(float.IsFinite(x), $"{variable.GraphNode} holds {x}"));
        }
        foreach (var key in bundle.Checkpoint!.Keys)
        {
            Assert.Equal(key, bundle.Checkpoint.Read(key).Key);
        }
    }

    [Fact]
    public void Load_GraphOnlyModel_HasNoCheckpointOrVariables()
    {
        var bundle = SavedModelLoader.Load(Path.Combine(RepoPaths.Fixtures, "extra", "batching_matrix_half_plus_two", "1"));
        Assert.Null(bundle.Checkpoint);
        Assert.Empty(bundle.Variables);
        Assert.Equal(VariableMapping.None, bundle.Mapping);
    }

    [Fact]
    public void Load_Tf1HalfPlusTwo_MapsVariableNodesToDocumentedValues()
    {
        var bundle = SavedModelLoader.Load(Fixture.Serving("saved_model_half_plus_two_cpu"));
        Assert.Equal(VariableMapping.SaverRestoreOp, bundle.Mapping);
        Assert.Equal(0.5f, bundle.VariablesByGraphNode["a"].AsSpan<float>()[0]);
        Assert.Equal(2.0f, bundle.VariablesByGraphNode["b"].AsSpan<float>()[0]);
        Assert.Equal(3.0f, bundle.VariablesByGraphNode["c"].AsSpan<float>()[0]);
    }

    [Fact]
    public void Load_Tf1MnistSoftmax_MapsWeightsAndBiasThroughSecondSaver()
    {
        // This graph holds two savers; its SaverDef names save/restore_all_1.
        var bundle = SavedModelLoader.Load(Fixture.SavedModel("tf1_mnist_softmax"));
        var w = bundle.VariablesByGraphNode["Variable"];
        var b = bundle.VariablesByGraphNode["Variable_1"];
        Assert.Equal([784L, 10L], w.Shape);
        Assert.Equal([10L], b.Shape);
        Assert.All(w.AsSpan<float>().ToArray(), x => Assert.True(float.IsFinite(x)));
        Assert.Contains(w.AsSpan<float>().ToArray(), x => x != 0);
        Assert.Equal(["Variable", "Variable_1"], bundle.Variables.Select(v => v.GraphNode));
    }

    [Fact]
    public void Load_Tf1PartitionedEstimator_MapsPartsWithTheirSlices()
    {
        var bundle = SavedModelLoader.Load(Fixture.SavedModel("tf1_estimator_wide_deep"));
        var kernel = bundle.Variables.Single(v => v.GraphNode == "dnn/hiddenlayer_0/kernel/part_0");
        Assert.Equal("dnn/hiddenlayer_0/kernel", kernel.CheckpointKey);
        Assert.Equal("0,3:0,10", kernel.Slice?.ToString());
        Assert.Equal([3L, 10L], kernel.Value.Shape);
        Assert.Same(kernel.Value, bundle.VariablesBySharedName["dnn/hiddenlayer_0/kernel/part_0"]);
        Assert.Equal(Tensorflow.DataType.DtInt64, bundle.VariablesByGraphNode["global_step"].DataType);
    }

    [Fact]
    public void Load_Tf2HalfPlusTwo_MapsVarHandlesThroughObjectGraph()
    {
        var bundle = SavedModelLoader.Load(Fixture.Serving("saved_model_half_plus_two_tf2_cpu"));
        Assert.Equal(VariableMapping.ObjectGraph, bundle.Mapping);
        var a = bundle.Variables.Single(v => v.GraphNode == "a");
        Assert.Equal("a/.ATTRIBUTES/VARIABLE_VALUE", a.CheckpointKey);
        Assert.Equal("VarHandleOp", a.Op);
        Assert.Equal(0.5f, bundle.VariablesBySharedName["a"].AsSpan<float>()[0]);
        Assert.Equal(2.0f, bundle.VariablesByGraphNode["b"].AsSpan<float>()[0]);
        Assert.Equal(3.0f, bundle.VariablesByGraphNode["c"].AsSpan<float>()[0]);
        // The asset-initialised resource "Variable" is captured by no signature.
        Assert.Contains("Variable", bundle.UnmappedVariableNodes);
    }

    [Fact]
    public void Load_Tf2KerasMlp_MapsSignatureCapturesToLayerWeights()
    {
        var bundle = SavedModelLoader.Load(Fixture.SavedModel("mnist_mlp_dotnet"));
        Assert.Equal([784L, 128L], bundle.VariablesByGraphNode["dense/kernel"].Shape);
        Assert.Equal("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", bundle.VariablesByGraphNode["dense/kernel"].Key);
        Assert.Equal([128L], bundle.VariablesByGraphNode["dense/bias"].Shape);
        Assert.Equal([128L, 10L], bundle.VariablesByGraphNode["dense_1/kernel"].Shape);
        Assert.Equal([10L], bundle.VariablesBySharedName["dense_1/bias"].Shape);

        // Every captured input of the serving call has a value; optimizer slots stay unmapped.
        var call = bundle.Graph.Node.Single(n => n.Name == "StatefulPartitionedCall");
        Assert.All(call.Input.Skip(1), input => Assert.True(bundle.VariablesByGraphNode.ContainsKey(input), input));
        Assert.Contains("Adam/dense/kernel/m", bundle.UnmappedVariableNodes);
        Assert.Equal(4, bundle.Variables.Count);
    }

    [Fact]
    public void Load_SignatureCapturesSwapped_ThrowsInvalidArgumentInsteadOfMisplacingWeights()
    {
        // Swap the serving function's first two captured objects (kernel and bias): the
        // VarHandleOp dense/bias [128] would then receive the kernel [784,128], and the reverse.
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.SavedModel("mnist_mlp_dotnet"));
        var path = Path.Combine(model, "saved_model.pb");
        var savedModel = Tensorflow.SavedModel.Parser.ParseFrom(File.ReadAllBytes(path));
        var metaGraph = savedModel.MetaGraphs[0];
        var call = metaGraph.GraphDef.Node.Single(n => n.Name == "StatefulPartitionedCall");
        var bound = metaGraph.ObjectGraphDef.ConcreteFunctions[call.Attr["f"].Func.Name].BoundInputs;
        (bound[0], bound[1]) = (bound[1], bound[0]);
        File.WriteAllBytes(path, savedModel.ToByteArray());

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(model));
        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.Contains("'dense/bias'", error.Message);
        Assert.Contains("layer_with_weights-0/kernel", error.Message);
    }

    [Fact]
    public void Load_UnknownTags_ThrowsNotFoundListingAvailableTagSets()
    {
        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(Fixture.Serving("saved_model_half_plus_two_cpu"), ["serve", "gpu"]));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("{ gpu, serve }", error.Message);
        Assert.Contains("[{ serve }]", error.Message);
    }

    [Fact]
    public void Load_TfLiteOnlyDirectory_ThrowsNotFoundNamingTfLite()
    {
        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(Fixture.Serving("saved_model_half_plus_two_tflite")));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("model.tflite", error.Message);
    }

    [Fact]
    public void Load_CheckpointExportWithoutSavedModel_ThrowsNotFoundNamingExportMeta()
    {
        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(Path.Combine(RepoPaths.Fixtures, "bad_half_plus_two", "00000123")));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("export.meta", error.Message);
        Assert.Contains("saved_model.pb", error.Message);
    }

    [Fact]
    public void Load_EmptyDirectory_ThrowsNotFoundNamingSavedModelPb()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(temp.Path));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("saved_model.pb", error.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void Load_TruncatedSavedModelPb_ThrowsDataLossNamingFile(double keep)
    {
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.SavedModel("mnist_mlp_dotnet"));
        var path = Path.Combine(model, "saved_model.pb");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(model));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Load_GarbageSavedModelPb_ThrowsDataLossNamingFile()
    {
        using var temp = new TempDirectory();
        var path = temp.WriteFile("saved_model.pb", Enumerable.Repeat((byte)0xFF, 64).ToArray());
        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(temp.Path));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Load_VariablesDirectoryMissing_ThrowsNotFoundNamingIndex()
    {
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.Serving("saved_model_half_plus_two_cpu"));
        Directory.Delete(Path.Combine(model, "variables"), recursive: true);

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(model));
        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains(Path.Combine(model, "variables", "variables.index"), error.Message);
    }

    [Fact]
    public void Load_CorruptCheckpointTensor_ThrowsDataLossNamingShardAndKey()
    {
        using var temp = new TempDirectory();
        var model = Fixture.Copy(temp, Fixture.SavedModel("tabular_mlp13"));
        var shard = Path.Combine(model, "variables", "variables.data-00000-of-00001");
        var kernel = Checkpoint.TensorBundle.Open(Path.Combine(model, "variables", "variables"))
            .GetEntry("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
        var bytes = File.ReadAllBytes(shard);
        bytes[kernel.Offset] ^= 0x80;
        File.WriteAllBytes(shard, bytes);

        var error = Assert.Throws<ServingException>(() => SavedModelLoader.Load(model));
        Assert.Equal(ServingStatusCode.DataLoss, error.Code);
        Assert.Contains(shard, error.Message);
        Assert.Contains("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", error.Message);
    }
}
