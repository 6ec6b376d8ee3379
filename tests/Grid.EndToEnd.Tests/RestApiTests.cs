using System.Net;
using System.Text;
using System.Text.Json;
using Grid.Testing;

namespace Grid.EndToEnd.Tests;

/// <summary>TF Serving's REST API against a real grid process.</summary>
[Collection(SharedGridCollection.Name)]
public sealed class RestApiTests(SharedGridFixture fixture)
{
    private HttpClient Http => fixture.Grid.Http;

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(path, content).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private static string Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;

    /// <summary>After a bad request, the same server still answers a good one.</summary>
    private async Task AssertStillServingAsync()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"instances": [1.0, 2.0, 5.0]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"predictions":[2.5,3.0,4.5]}""", body);
    }

    [Fact]
    public async Task Predict_TfServingCurlExample_ReturnsItsPredictions()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"instances": [1.0, 2.0, 5.0]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"predictions":[2.5,3.0,4.5]}""", body);
    }

    [Fact]
    public async Task Predict_ColumnarInputs_ReturnsOutputs()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"inputs": [2.0, 3.0, 4.0]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"outputs":[3.0,3.5,4.0]}""", body);
    }

    [Fact]
    public async Task Predict_ExplicitVersionAndSignature_IsServed()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two/versions/123:predict",
            """{"signature_name": "serving_default", "instances": [[2.0]]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"predictions":[[3.0]]}""", body);
    }

    [Fact]
    public async Task Predict_SeveralInputsRowFormat_ReturnsObjectPerInstance()
    {
        var (status, body) = await PostAsync("/v1/models/multi_io:predict",
            """{"instances": [{"a": [1.0, 2.0], "b": [3.0, 5.0]}, {"a": [0.5, 0.5], "b": [0.5, 1.5]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var rows = JsonDocument.Parse(body).RootElement.GetProperty("predictions");
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal([4.0, 7.0], rows[0].GetProperty("sum").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal([-2.0, -3.0], rows[0].GetProperty("diff").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal([1.0, 2.0], rows[1].GetProperty("sum").EnumerateArray().Select(e => e.GetDouble()));
    }

    [Fact]
    public async Task Predict_B64Strings_AreDecodedAndServed()
    {
        var hello = Convert.ToBase64String("hello"u8.ToArray());
        var (status, body) = await PostAsync("/v1/models/strings:predict",
            $$$"""{"inputs": {"text": [{"b64": "{{{hello}}}"}, "World"]}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var outputs = JsonDocument.Parse(body).RootElement.GetProperty("outputs");
        Assert.Equal(["HELLO", "WORLD"], outputs.GetProperty("upper").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["hello", "World"], outputs.GetProperty("echo").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task GetStatus_ServedModel_ReportsAvailableInTfServingFormat()
    {
        var (status, body) = await GetAsync("/v1/models/half_plus_two");

        Assert.Equal(HttpStatusCode.OK, status);
        var v = Assert.Single(JsonDocument.Parse(body).RootElement.GetProperty("model_version_status").EnumerateArray());
        Assert.Equal("123", v.GetProperty("version").GetString());
        Assert.Equal("AVAILABLE", v.GetProperty("state").GetString());
        Assert.Equal("OK", v.GetProperty("status").GetProperty("error_code").GetString());
        Assert.Equal("", v.GetProperty("status").GetProperty("error_message").GetString());
    }

    [Fact]
    public async Task GetStatus_UnknownVersion_Returns404WithTfMessage()
    {
        var (status, body) = await GetAsync("/v1/models/half_plus_two/versions/7");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Could not find version 7 of model half_plus_two", Error(body));
    }

    [Fact]
    public async Task GetModels_WithoutName_Returns400()
    {
        var (status, body) = await GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Missing model name in request.", Error(body));
    }

    [Fact]
    public async Task GetMetadata_HalfPlusTwo_ReturnsServingDefaultSignatureDef()
    {
        var (status, body) = await GetAsync("/v1/models/half_plus_two/metadata");

        Assert.Equal(HttpStatusCode.OK, status);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal("half_plus_two", root.GetProperty("model_spec").GetProperty("name").GetString());
        Assert.Equal("123", root.GetProperty("model_spec").GetProperty("version").GetString());
        var def = root.GetProperty("metadata").GetProperty("signature_def").GetProperty("signature_def").GetProperty("serving_default");
        Assert.Equal("tensorflow/serving/predict", def.GetProperty("method_name").GetString());
        var x = def.GetProperty("inputs").GetProperty("x");
        Assert.Equal("DT_FLOAT", x.GetProperty("dtype").GetString());
        Assert.Equal(["-1", "1"], x.GetProperty("tensor_shape").GetProperty("dim").EnumerateArray().Select(d => d.GetProperty("size").GetString()));
        Assert.Equal("DT_FLOAT", def.GetProperty("outputs").GetProperty("y").GetProperty("dtype").GetString());
    }

    [Fact]
    public async Task Predict_UnknownModel_Returns404ServableNotFound()
    {
        var (status, body) = await PostAsync("/v1/models/intentionally_missing_model:predict", """{"instances": [1.0]}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Servable not found for request: Latest(intentionally_missing_model)", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_UnknownVersion_Returns404ServableNotFound()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two/versions/5:predict", """{"instances": [1.0]}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Servable not found for request: Specific(half_plus_two, 5)", Error(body));
    }

    [Fact]
    public async Task Predict_MalformedJson_Returns400()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"instances": [1.0, 2.0""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("JSON Parse error", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_EmptyInstances_Returns400()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"instances": []}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'instances'", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_MissingInstancesAndInputs_Returns400()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"signature_name": "serving_default"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Missing 'inputs' or 'instances' key", Error(body));
    }

    [Fact]
    public async Task Predict_UnknownInputName_Returns400()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"inputs": {"z": [1.0]}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input tensor alias not found in signature: z. Inputs expected to be in the set {x}.", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_WrongDtype_Returns400()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"instances": ["one", "two"]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("DT_FLOAT", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_WrongShape_Returns400()
    {
        var pixels = string.Join(",", Enumerable.Repeat("0.5", 783));
        var (status, body) = await PostAsync("/v1/models/fashion:predict", $$"""{"instances": [[{{pixels}}]]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Input 'images' has shape [1,783] but the signature requires [-1,784]", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Predict_UnknownSignature_Returns400()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", """{"signature_name": "foo", "instances": [1.0]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Serving signature name: \"foo\" not found in signature def", Error(body));
    }

    [Fact]
    public async Task Predict_BodyOverLimit_Returns413AndKeepsServing()
    {
        var values = string.Join(",", Enumerable.Repeat("1.0", SharedGridFixture.MessageLimit / 4 + 1));
        var (status, body) = await PostAsync("/v1/models/half_plus_two:predict", $$"""{"instances": [{{values}}]}""");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("limit", Error(body));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Classify_OnnxPredictSignature_Returns400NoClassificationInputs()
    {
        var (status, body) = await PostAsync("/v1/models/half_plus_two:classify", """{"examples": [{"x": 1.0}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("No classification inputs found in SignatureDef: ", Error(body));
        await AssertStillServingAsync();
    }
}
