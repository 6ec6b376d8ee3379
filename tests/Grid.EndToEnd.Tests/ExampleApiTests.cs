using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grid.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// Two grid processes over one repository: one with TF Serving's default (no method_name
/// check), one with <c>--enable_signature_method_name_check</c>. The repository holds the ONNX
/// half_plus_two and a TorchScript model (both predict signatures) and two ONNX models built here whose signatures are
/// shaped like a classifier (<c>inputs</c> string [batch] → <c>scores</c> float [batch, 1]) and
/// a regressor (→ <c>outputs</c> float [batch]); both answer 0.5 for every example.
/// </summary>
public sealed class ExampleApiFixture : IAsyncLifetime
{
    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public GridProcess CheckingGrid { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public GrpcChannel CheckingChannel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "half_plus_two"), _repo.Combine("half_plus_two"));
        TempDirectory.CopyDirectory(RepoPaths.TestModel("tiny_torch"), _repo.Combine("tiny_torch", "1"));
        WriteModel(_repo.CreateDirectory("example_classifier", "1"), "scores", [Dim("batch"), Dim(1)]);
        WriteModel(_repo.CreateDirectory("example_regressor", "1"), "outputs", [Dim("batch")]);
        Grid = GridProcess.Start("--model_repository", _repo.Path);
        CheckingGrid = GridProcess.Start("--model_repository", _repo.Path, "--enable_signature_method_name_check");
        await Grid.WaitForAvailableAsync("half_plus_two", "example_classifier", "example_regressor", "tiny_torch");
        await CheckingGrid.WaitForAvailableAsync("half_plus_two", "example_classifier", "tiny_torch");
        Channel = GrpcChannel.ForAddress(Grid.GrpcAddress);
        CheckingChannel = GrpcChannel.ForAddress(CheckingGrid.GrpcAddress);
    }

    private static Onnx.TensorShapeProto.Types.Dimension Dim(string param) => new() { DimParam = param };

    private static Onnx.TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    /// <summary>inputs (string [batch]) → output = ConstantOfShape(shape, 0.5), shape = Shape(inputs) ++ [1] when rank 2.</summary>
    private static void WriteModel(string directory, string output, Onnx.TensorShapeProto.Types.Dimension[] outputDims)
    {
        var graph = new Onnx.GraphProto { Name = output };
        graph.Input.Add(Value("inputs", Onnx.TensorProto.Types.DataType.String, [Dim("batch")]));
        graph.Output.Add(Value(output, Onnx.TensorProto.Types.DataType.Float, outputDims));
        graph.Node.Add(new Onnx.NodeProto { OpType = "Shape", Input = { "inputs" }, Output = { "batch_shape" } });
        var shape = "batch_shape";
        if (outputDims.Length == 2)
        {
            var one = new Onnx.TensorProto { Name = "one", DataType = (int)Onnx.TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { 1 } };
            graph.Initializer.Add(one);
            graph.Node.Add(new Onnx.NodeProto { OpType = "Concat", Input = { "batch_shape", "one" }, Output = { "out_shape" }, Attribute = { new Onnx.AttributeProto { Name = "axis", Type = Onnx.AttributeProto.Types.AttributeType.Int, I = 0 } } });
            shape = "out_shape";
        }
        var half = new Onnx.TensorProto { DataType = (int)Onnx.TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 0.5f } };
        graph.Node.Add(new Onnx.NodeProto
        {
            OpType = "ConstantOfShape",
            Input = { shape },
            Output = { output },
            Attribute = { new Onnx.AttributeProto { Name = "value", Type = Onnx.AttributeProto.Types.AttributeType.Tensor, T = half } },
        });
        var model = new Onnx.ModelProto { IrVersion = 7, ProducerName = "grid-tests", Graph = graph };
        model.OpsetImport.Add(new Onnx.OperatorSetIdProto { Domain = "", Version = 13 });
        File.WriteAllBytes(Path.Combine(directory, "model.onnx"), model.ToByteArray());
    }

    private static Onnx.ValueInfoProto Value(string name, Onnx.TensorProto.Types.DataType type, Onnx.TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new Onnx.TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new Onnx.ValueInfoProto { Name = name, Type = new Onnx.TypeProto { TensorType = new Onnx.TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        CheckingChannel?.Dispose();
        if (Grid is not null)
        {
            await Grid.DisposeAsync();
        }
        if (CheckingGrid is not null)
        {
            await CheckingGrid.DisposeAsync();
        }
        _repo.Dispose();
    }
}

/// <summary>TF Serving's Classify, Regress and MultiInference over real gRPC and HTTP.</summary>
public sealed class ExampleApiTests(ExampleApiFixture fixture) : IClassFixture<ExampleApiFixture>
{
    private PredictionService.PredictionServiceClient Client => new(fixture.Channel);

    private PredictionService.PredictionServiceClient CheckingClient => new(fixture.CheckingChannel);

    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    private static Input Examples(params float[] xs)
    {
        var list = new ExampleList();
        foreach (var x in xs)
        {
            var example = new Example { Features = new Features() };
            example.Features.Feature["x"] = new Feature { FloatList = new FloatList { Value = { x } } };
            list.Examples.Add(example);
        }
        return new Input { ExampleList = list };
    }

    private static ClassificationRequest Classify(string model, Input input, string signature = "")
        => new() { ModelSpec = new ModelSpec { Name = model, SignatureName = signature }, Input = input };

    private static RegressionRequest Regress(string model, Input input, string signature = "")
        => new() { ModelSpec = new ModelSpec { Name = model, SignatureName = signature }, Input = input };

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(GridProcess grid, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await grid.Http.PostAsync(path, content).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private static string Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;

    [Fact]
    public async Task Classify_OnnxPredictSignatureWithMethodCheck_IsTfServingsWrongMethodError()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CheckingClient.ClassifyAsync(Classify("half_plus_two", Examples(2f)), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict", error.Status.Detail);
    }

    [Fact]
    public async Task Regress_OnnxPredictSignatureWithMethodCheck_IsTfServingsWrongMethodError()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CheckingClient.RegressAsync(Regress("half_plus_two", Examples(2f)), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict", error.Status.Detail);
    }

    [Theory]
    [InlineData("classify", "Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict")]
    [InlineData("regress", "Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict")]
    public async Task Rest_OnnxPredictSignatureWithMethodCheck_Is400WithTfServingsError(string method, string expected)
    {
        var (status, body) = await PostAsync(fixture.CheckingGrid, $"/v1/models/half_plus_two:{method}", """{"examples": [{"x": 2.0}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(expected, Error(body));
    }

    [Fact]
    public async Task Classify_TorchScriptPredictSignatureWithMethodCheck_IsTfServingsWrongMethodError()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CheckingClient.ClassifyAsync(Classify("tiny_torch", Examples(2f)), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict", error.Status.Detail);
    }

    [Fact]
    public async Task Rest_RegressTorchScriptPredictSignatureWithMethodCheck_Is400WithTfServingsError()
    {
        var (status, body) = await PostAsync(fixture.CheckingGrid, "/v1/models/tiny_torch:regress", """{"examples": [{"x": 2.0}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict", Error(body));
    }

    [Fact]
    public async Task Classify_OnnxPredictSignatureByDefault_IsNoClassificationInputs()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ClassifyAsync(Classify("half_plus_two", Examples(2f)), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("No classification inputs found in SignatureDef: inputs {\n  key: \"x\"", error.Status.Detail);
    }

    [Fact]
    public async Task Rest_RegressOnnxPredictSignatureByDefault_Is400NoRegressionInputs()
    {
        var (status, body) = await PostAsync(fixture.Grid, "/v1/models/half_plus_two:regress", """{"examples": [{"x": 2.0}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("No regression inputs found in SignatureDef: ", Error(body));
    }

    [Fact]
    public async Task Classify_ClassifierShapedSignature_ReturnsScoresAndEchoesModelSpec()
    {
        var response = await Client.ClassifyAsync(Classify("example_classifier", Examples(1f, 2f, 3f)), deadline: Deadline).ResponseAsync.DefaultTimeout();

        Assert.Equal(3, response.Result.Classifications.Count);
        Assert.All(response.Result.Classifications, c => Assert.Equal(("", 0.5f), (Assert.Single(c.Classes).Label, c.Classes[0].Score)));
        Assert.Equal("example_classifier", response.ModelSpec.Name);
        Assert.Equal(1L, response.ModelSpec.Version);
        Assert.Equal("serving_default", response.ModelSpec.SignatureName);
    }

    [Fact]
    public async Task Classify_WithMethodCheck_ClassifierShapedPredictSignatureIsRefused()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CheckingClient.ClassifyAsync(Classify("example_classifier", Examples(1f)), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("Expected classification signature method_name", error.Status.Detail);
    }

    [Fact]
    public async Task Regress_RegressorShapedSignatureWithContext_ReturnsOneValuePerExample()
    {
        var input = Examples(1f, 2f);
        var context = new Example { Features = new Features() };
        context.Features.Feature["c"] = new Feature { Int64List = new Int64List { Value = { 7 } } };
        var request = Regress("example_regressor", new Input { ExampleListWithContext = new ExampleListWithContext { Context = context, Examples = { input.ExampleList.Examples } } });

        var response = await Client.RegressAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout();

        Assert.Equal([0.5f, 0.5f], response.Result.Regressions.Select(r => r.Value));
        Assert.Equal(1L, response.ModelSpec.Version);
    }

    [Fact]
    public async Task Rest_Classify_ReturnsTfServingsResultsLayout()
    {
        var (status, body) = await PostAsync(fixture.Grid, "/v1/models/example_classifier/versions/1:classify",
            """{"context": {"c": "shared"}, "examples": [{"x": 2.0}, {"x": 3, "s": {"b64": "AAE="}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"results":[[["",0.5]],[["",0.5]]]}""", body);
    }

    [Fact]
    public async Task Rest_Regress_ReturnsTfServingsResultsLayout()
    {
        var (status, body) = await PostAsync(fixture.Grid, "/v1/models/example_regressor:regress", """{"examples": [{"x": 1.0}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"results":[0.5]}""", body);
    }

    [Fact]
    public async Task Rest_BadExampleJson_Is400BeforeTheModelIsLookedUp()
    {
        var (status, body) = await PostAsync(fixture.Grid, "/v1/models/no_such_model:classify", """{"examples": [{"x": [1, 2.0]}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Unexpected element type in feature: x expecting type: int64", Error(body));
    }

    [Fact]
    public async Task Rest_UnknownModel_Is404ServableNotFound()
    {
        var (status, body) = await PostAsync(fixture.Grid, "/v1/models/no_such_model:regress", """{"examples": [{"x": 1.0}]}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Servable not found for request: Latest(no_such_model)", Error(body));
    }

    [Fact]
    public async Task Classify_UnknownSignature_IsTfServingsInvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ClassifyAsync(Classify("example_classifier", Examples(1f), "nope"), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("No signature was found with the name: nope", error.Status.Detail);
    }

    [Fact]
    public async Task Classify_NoExamples_IsInputIsEmpty()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ClassifyAsync(Classify("example_classifier", new Input()), deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Input is empty.", error.Status.Detail);
    }

    [Fact]
    public async Task Regress_MissingModelSpec_IsInvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.RegressAsync(new RegressionRequest { Input = Examples(1f) }, deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Missing ModelSpec", error.Status.Detail);
    }

    [Fact]
    public async Task MultiInference_ClassifyTask_ReturnsResultWithItsModelSpec()
    {
        var request = new MultiInferenceRequest { Input = Examples(1f, 2f) };
        request.Tasks.Add(new InferenceTask { ModelSpec = new ModelSpec { Name = "example_classifier" }, MethodName = "tensorflow/serving/classify" });

        var response = await Client.MultiInferenceAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout();

        var result = Assert.Single(response.Results);
        Assert.Equal(2, result.ClassificationResult.Classifications.Count);
        Assert.Equal("example_classifier", result.ModelSpec.Name);
        Assert.Equal(1L, result.ModelSpec.Version);
        Assert.Equal("serving_default", result.ModelSpec.SignatureName);
    }

    [Fact]
    public async Task MultiInference_TwoModels_IsTfServingsSameModelError()
    {
        var request = new MultiInferenceRequest { Input = Examples(1f) };
        request.Tasks.Add(new InferenceTask { ModelSpec = new ModelSpec { Name = "example_classifier" }, MethodName = "tensorflow/serving/classify" });
        request.Tasks.Add(new InferenceTask { ModelSpec = new ModelSpec { Name = "example_regressor" }, MethodName = "tensorflow/serving/regress" });

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.MultiInferenceAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("All ModelSpecs in a MultiInferenceRequest must access the same model name.", error.Status.Detail);
    }

    [Fact]
    public async Task MultiInference_PredictMethod_IsUnimplemented()
    {
        var request = new MultiInferenceRequest { Input = Examples(1f) };
        request.Tasks.Add(new InferenceTask { ModelSpec = new ModelSpec { Name = "half_plus_two" }, MethodName = "tensorflow/serving/predict" });

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.MultiInferenceAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Equal("Unsupported signature method_name: tensorflow/serving/predict", error.Status.Detail);
    }
}
