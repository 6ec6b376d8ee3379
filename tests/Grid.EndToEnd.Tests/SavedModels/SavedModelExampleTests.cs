using System.Net;
using System.Text;
using System.Text.Json;
using Grid.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// TF Serving's half_plus_two SavedModel (version 123) under the name <c>default</c>, its native
/// TF2 export (every signature marked predict) as <c>tf2</c>, and the TF1 MNIST softmax
/// classifier (ParseExample, TopK, a class-name table) as <c>mnist</c>, from the shared fixtures.
/// </summary>
public sealed class SavedModelExampleFixture : IAsyncLifetime
{
    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateSymbolicLink(_repo.Combine("default"), Path.Combine(RepoPaths.Fixtures, "saved_model_half_plus_two_cpu"));
        Directory.CreateSymbolicLink(_repo.Combine("tf2"), Path.Combine(RepoPaths.Fixtures, "saved_model_half_plus_two_tf2_cpu"));
        Directory.CreateSymbolicLink(_repo.Combine("mnist"), Path.Combine(RepoPaths.SavedModels, "tf1_mnist_softmax"));
        Grid = GridProcess.Start("--model_repository", _repo.Path, "--file_system_poll_wait_seconds", "0");
        await Grid.WaitForAvailableAsync("default", "tf2", "mnist");
        Channel = GrpcChannel.ForAddress(Grid.GrpcAddress);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (Grid is not null)
        {
            await Grid.DisposeAsync();
        }
        _repo.Dispose();
    }
}

/// <summary>
/// Classify, Regress and MultiInference on real SavedModels: half_plus_two gives the results TF
/// Serving's own tests and REST documentation give (y = 0.5x + 2, y2 = 0.5x + 3); its TF2 export
/// is classified as TF Serving does by default; MNIST answers with its class names.
/// </summary>
public sealed class SavedModelExampleTests(SavedModelExampleFixture fixture) : IClassFixture<SavedModelExampleFixture>
{
    private PredictionService.PredictionServiceClient Client => new(fixture.Channel);

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

    private static ModelSpec Spec(string signature) => new() { Name = "default", SignatureName = signature };

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await fixture.Grid.Http.PostAsync(path, content).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private static string Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;

    [Fact]
    public async Task Classify_ClassifyXToY_ScoreIsHalfXPlusTwoWithEmptyLabel()
    {
        var request = new ClassificationRequest { ModelSpec = Spec("classify_x_to_y"), Input = Examples(2f) };

        var response = await Client.ClassifyAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout();

        var c = Assert.Single(Assert.Single(response.Result.Classifications).Classes);
        Assert.Equal("", c.Label);
        Assert.Equal(3f, c.Score);
        Assert.Equal("default", response.ModelSpec.Name);
        Assert.Equal(123L, response.ModelSpec.Version);
        Assert.Equal("classify_x_to_y", response.ModelSpec.SignatureName);
    }

    [Theory]
    [InlineData("regress_x_to_y", 3f, 3.5f)]
    [InlineData("regress_x_to_y2", 4f, 4.5f)]
    public async Task Regress_FixtureSignatures_GiveTheirDocumentedValues(string signature, float atTwo, float atThree)
    {
        var request = new RegressionRequest { ModelSpec = Spec(signature), Input = Examples(2f, 3f) };

        var response = await Client.RegressAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout();

        Assert.Equal([atTwo, atThree], response.Result.Regressions.Select(r => r.Value));
        Assert.Equal(123L, response.ModelSpec.Version);
        Assert.Equal(signature, response.ModelSpec.SignatureName);
    }

    [Fact]
    public async Task Regress_ContextSuppliesAMissingFeature_ExampleValueWinsElsewhere()
    {
        var context = new Example { Features = new Features() };
        context.Features.Feature["x"] = new Feature { FloatList = new FloatList { Value = { 1f } } };
        var input = new Input { ExampleListWithContext = new ExampleListWithContext { Context = context, Examples = { Examples(2f).ExampleList.Examples[0], new Example() } } };

        var response = await Client.RegressAsync(new RegressionRequest { ModelSpec = Spec("regress_x_to_y"), Input = input }, deadline: Deadline).ResponseAsync.DefaultTimeout();

        Assert.Equal([3f, 2.5f], response.Result.Regressions.Select(r => r.Value));
    }

    [Fact]
    public async Task MultiInference_RegressAndClassify_BothGiveThree()
    {
        var request = new MultiInferenceRequest { Input = Examples(2f) };
        request.Tasks.Add(new InferenceTask { ModelSpec = Spec("regress_x_to_y"), MethodName = "tensorflow/serving/regress" });
        request.Tasks.Add(new InferenceTask { ModelSpec = Spec("classify_x_to_y"), MethodName = "tensorflow/serving/classify" });

        var response = await Client.MultiInferenceAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout();

        Assert.Equal(2, response.Results.Count);
        Assert.Equal(3f, Assert.Single(response.Results[0].RegressionResult.Regressions).Value);
        Assert.Equal(3f, response.Results[1].ClassificationResult.Classifications[0].Classes[0].Score);
        Assert.Equal([123L, 123L], response.Results.Select(r => r.ModelSpec.Version));
        Assert.Equal(["regress_x_to_y", "classify_x_to_y"], response.Results.Select(r => r.ModelSpec.SignatureName));
    }

    [Fact]
    public async Task Rest_Classify_IsTfServingsDocumentedAnswer()
    {
        var (status, body) = await PostAsync("/v1/models/default:classify", """{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"results":[[["",3.0]]]}""", body);
    }

    [Fact]
    public async Task Rest_Regress_IsTfServingsDocumentedAnswer()
    {
        var (status, body) = await PostAsync("/v1/models/default/versions/123:regress", """{"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"results":[3.0]}""", body);
    }

    [Fact]
    public async Task Rest_IntegerFeature_IsTensorFlowsDataTypeError()
    {
        var (status, body) = await PostAsync("/v1/models/default:regress", """{"signature_name": "regress_x_to_y", "examples": [{"x": 2}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Name: <unknown>, Key: x, Index: 0.  Data types don't match. Data type: int64 but expected type: float", Error(body));
    }

    [Fact]
    public async Task Regress_MissingRequiredFeature_IsTensorFlowsError()
    {
        var input = new Input { ExampleList = new ExampleList { Examples = { new Example() } } };

        var error = await Assert.ThrowsAsync<RpcException>(() => Client.RegressAsync(new RegressionRequest { ModelSpec = Spec("regress_x_to_y"), Input = input }, deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Name: <unknown>, Feature: x (data type: float) is required but could not be found.", error.Status.Detail);
    }

    [Fact]
    public async Task Regress_FloatInputSignature_IsTensorFlowsFeedTypeError()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.RegressAsync(new RegressionRequest { ModelSpec = Spec("regress_x2_to_y3"), Input = Examples(2f) }, deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Expects arg[0] to be float but string is provided", error.Status.Detail);
    }

    [Fact]
    public async Task Classify_PredictSignature_IsNoClassificationInputs()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.ClassifyAsync(new ClassificationRequest { ModelSpec = Spec(""), Input = Examples(2f) }, deadline: Deadline).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("No classification inputs found in SignatureDef: inputs {\n  key: \"x\"\n  value {\n    name: \"x:0\"", error.Status.Detail);
    }

    [Fact]
    public async Task Tf2Export_PredictMarkedSignatures_ClassifyAndRegressAsTfServingDoesByDefault()
    {
        var classify = new ClassificationRequest { ModelSpec = new ModelSpec { Name = "tf2", SignatureName = "classify_x_to_y" }, Input = Examples(2f) };
        var regress = new RegressionRequest { ModelSpec = new ModelSpec { Name = "tf2", SignatureName = "regress_x_to_y" }, Input = Examples(2f, 4f) };

        var classified = await Client.ClassifyAsync(classify, deadline: Deadline).ResponseAsync.DefaultTimeout();
        var regressed = await Client.RegressAsync(regress, deadline: Deadline).ResponseAsync.DefaultTimeout();

        Assert.Equal(3f, classified.Result.Classifications[0].Classes[0].Score);
        Assert.Equal([3f, 4f], regressed.Result.Regressions.Select(r => r.Value));
    }

    [Fact]
    public async Task Mnist_ClassifyServingDefault_GivesTenNamedClassesInScoreOrder()
    {
        var example = new Example { Features = new Features() };
        var pixels = new FloatList();
        pixels.Value.AddRange(Enumerable.Range(0, 784).Select(i => (i % 28) is > 10 and < 18 ? 1f : 0f));
        example.Features.Feature["x"] = new Feature { FloatList = pixels };
        var request = new ClassificationRequest { ModelSpec = new ModelSpec { Name = "mnist" }, Input = new Input { ExampleList = new ExampleList { Examples = { example } } } };

        var response = await Client.ClassifyAsync(request, deadline: Deadline).ResponseAsync.DefaultTimeout();

        var classes = Assert.Single(response.Result.Classifications).Classes;
        Assert.Equal(10, classes.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), classes.Select(c => c.Label).Order());
        Assert.Equal(classes.Select(c => c.Score).OrderDescending(), classes.Select(c => c.Score));
        Assert.InRange(classes.Sum(c => c.Score), 0.999f, 1.001f);
        Assert.Equal("serving_default", response.ModelSpec.SignatureName);
    }

    [Fact]
    public async Task Rest_MnistClassify_WritesLabelScorePairs()
    {
        var pixels = string.Join(",", Enumerable.Repeat("0.0", 784));

        var (status, body) = await PostAsync("/v1/models/mnist:classify", $$"""{"examples": [{"x": [{{pixels}}]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var first = JsonDocument.Parse(body).RootElement.GetProperty("results")[0];
        Assert.Equal(10, first.GetArrayLength());
        Assert.Equal(JsonValueKind.String, first[0][0].ValueKind);
        Assert.Equal(JsonValueKind.Number, first[0][1].ValueKind);
    }
}
