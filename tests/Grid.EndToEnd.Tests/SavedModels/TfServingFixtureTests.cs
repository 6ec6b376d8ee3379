using System.Net;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grid.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// TF Serving's own test SavedModels behind a real <c>grid serve</c>, started as TF Serving is
/// (<c>--model_name default --model_base_path …/saved_model_half_plus_two_cpu</c>): every call
/// in the fixtures' README gives the response it states, and metadata equals TF Serving's
/// recorded responses in <c>expected/</c>, key order aside.
/// </summary>
public sealed class TfServingFixtureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _temp = new();
    private GridProcess _grid = null!;
    private GrpcChannel _channel = null!;

    private static string Fixture(string name) => Path.Combine(RepoPaths.Fixtures, name);

    public async Task InitializeAsync()
    {
        _grid = GridProcess.Start("--model_name", "default", "--model_base_path", Fixture("saved_model_half_plus_two_cpu"),
            "--file_system_poll_wait_seconds", "0", "--state_dir", _temp.CreateDirectory("state"));
        await _grid.WaitForAvailableAsync("default");
        _channel = GrpcChannel.ForAddress(_grid.GrpcAddress);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await _grid.DisposeAsync();
        _temp.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
    {
        using var response = await _grid.Http.PostAsync(path, new StringContent(body)).WaitAsync(Timeout);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(":predict", """{"instances": [2.0, 3.0, 4.0]}""", """{"predictions":[3.0,3.5,4.0]}""")]
    [InlineData(":predict", """{"instances": [1.0, 2.0, 5.0]}""", """{"predictions":[2.5,3.0,4.5]}""")]
    [InlineData(":predict", """{"inputs": [2.0, 3.0, 4.0]}""", """{"outputs":[3.0,3.5,4.0]}""")]
    [InlineData(":predict", """{"instances": [[1.0, 2.0], [3.0, 4.0]]}""", """{"predictions":[[2.5,3.0],[3.5,4.0]]}""")]
    [InlineData(":classify", """{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}""", """{"results":[[["",3.0]]]}""")]
    [InlineData(":regress", """{"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}""", """{"results":[3.0]}""")]
    public async Task Rest_ReadmeCall_GivesTfServingsResponse(string verb, string request, string expected)
    {
        // Act
        var (status, body) = await PostAsync($"/v1/models/default{verb}", request);

        // Assert
        output.WriteLine(body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(body)), $"expected {expected}, got {body}");
    }

    [Fact]
    public async Task Rest_StatusAndMetadata_EqualTfServingsResponses()
    {
        // Act
        var status = await _grid.Http.GetStringAsync("/v1/models/default").WaitAsync(Timeout);
        var metadata = await _grid.Http.GetStringAsync("/v1/models/default/metadata").WaitAsync(Timeout);

        // Assert
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"model_version_status": [{"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}"""), JsonNode.Parse(status)), status);
        AssertJsonEqual(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "expected", "half_plus_two_model_metadata.json")), metadata);
    }

    [Fact]
    public async Task Grpc_ReadmeCalls_GiveTfServingsResponses()
    {
        // Arrange
        var client = new PredictionService.PredictionServiceClient(_channel);
        var predict = new PredictRequest { ModelSpec = new ModelSpec { Name = "default" }, OutputFilter = { "y" } };
        predict.Inputs["x"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 } } }, FloatVal = { 2f } };
        // TF Serving's own test sends a scalar here and gets a scalar 4.0 back; Grid imports the
        // TF1 Identity this signature feeds with its declared rank, so it takes [1,1] (README).
        var scalar = new PredictRequest { ModelSpec = new ModelSpec { Name = "default", SignatureName = "regress_x2_to_y3" } };
        scalar.Inputs["inputs"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 }, new TensorShapeProto.Types.Dim { Size = 1 } } }, FloatVal = { 2f } };
        var example = new Example { Features = new Features() };
        example.Features.Feature["x"] = new Feature { FloatList = new FloatList { Value = { 2f } } };
        var input = new Input { ExampleList = new ExampleList { Examples = { example } } };

        // Act
        var y = await client.PredictAsync(predict, deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout);
        var y3 = await client.PredictAsync(scalar, deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout);
        var classified = await client.ClassifyAsync(new ClassificationRequest { ModelSpec = new ModelSpec { Name = "default", SignatureName = "classify_x_to_y" }, Input = input }, deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout);
        var regressed = await client.RegressAsync(new RegressionRequest { ModelSpec = new ModelSpec { Name = "default", SignatureName = "regress_x_to_y" }, Input = input }, deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout);
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.PredictAsync(new PredictRequest { ModelSpec = new ModelSpec { Name = "intentionally_missing_model" } }, deadline: DateTime.UtcNow.Add(Timeout)).ResponseAsync.WaitAsync(Timeout));

        // Assert
        Assert.Equal([3f], y.Outputs["y"].FloatVal);
        Assert.Equal(DataType.DtFloat, y.Outputs["y"].Dtype);
        Assert.Equal(new ModelSpec { Name = "default", SignatureName = "serving_default", Version = 123 }, y.ModelSpec);
        Assert.Equal([4f], y3.Outputs["outputs"].FloatVal);
        Assert.Equal(3f, classified.Result.Classifications[0].Classes[0].Score);
        Assert.Equal("", classified.Result.Classifications[0].Classes[0].Label);
        Assert.Equal(3f, regressed.Result.Regressions[0].Value);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Servable", missing.Status.Detail);
    }

    [Theory]
    [InlineData("saved_model_half_plus_two_2_versions", "saved_model_half_plus_two_2_versions_metadata.json")]
    [InlineData("saved_model_half_plus_two_tf2_cpu", "saved_model_half_plus_two_tf2_2_versions_metadata.json")]
    public async Task Metadata_TfOneAndTfTwoExports_EqualTfServingsResponses(string fixture, string expectedFile)
    {
        // Arrange: served under the name TF Serving's recording used, every version loaded
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "expected", expectedFile)))!;
        var name = expected["model_spec"]!["name"]!.GetValue<string>();
        var model = _temp.CreateDirectory("repo-" + fixture, name);
        foreach (var version in Directory.GetDirectories(Fixture(fixture)))
        {
            Directory.CreateSymbolicLink(Path.Combine(model, Path.GetFileName(version)), version);
        }
        File.WriteAllText(Path.Combine(model, "config.pbtxt"), "version_policy { all { } }\n");
        await using var grid = GridProcess.Start("--model_repository", Path.GetDirectoryName(model)!, "--file_system_poll_wait_seconds", "0",
            "--state_dir", _temp.CreateDirectory("state-" + fixture));
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync(name)).GetValueOrDefault(123L) == "AVAILABLE", $"{name} version 123 AVAILABLE");

        // Act
        var metadata = await grid.Http.GetStringAsync($"/v1/models/{name}/versions/123/metadata").WaitAsync(Timeout);

        // Assert
        AssertJsonEqual(expected.ToJsonString(), metadata);
    }

    private void AssertJsonEqual(string expected, string actual)
    {
        if (!JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)))
        {
            output.WriteLine(actual);
            Assert.Fail($"expected (key order aside) {expected}{Environment.NewLine}got {actual}");
        }
    }
}
