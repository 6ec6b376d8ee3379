using System.Text;
using System.Text.Json;
using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Grid.Serving;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Gateway.Tests.Protocols.TensorFlowServing.Rest;

public sealed class TfServingExampleJsonTests
{
    private static RestExampleBody Parse(string json) => TfServingExampleJson.ParseBody(Encoding.UTF8.GetBytes(json));

    private static Feature OnlyFeature(string json, string key = "x") => Assert.Single(Parse(json).Input.ExampleList.Examples).Features.Feature[key];

    private static string ParseError(string json) => Assert.Throws<ServingException>(() => Parse(json)).Message;

    [Fact]
    public void ParseBody_TfServingsExample_GivesOneFloatFeature()
    {
        var body = Parse("""{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}""");

        Assert.Equal("classify_x_to_y", body.SignatureName);
        Assert.Equal(Input.KindOneofCase.ExampleList, body.Input.KindCase);
        Assert.Equal([2f], body.Input.ExampleList.Examples[0].Features.Feature["x"].FloatList.Value);
    }

    [Fact]
    public void ParseBody_IntegerToken_IsInt64List()
    {
        var feature = OnlyFeature("""{"examples": [{"x": 2}]}""");

        Assert.Equal([2L], feature.Int64List.Value);
    }

    [Fact]
    public void ParseBody_ExponentToken_IsFloatList()
    {
        Assert.Equal([200f], OnlyFeature("""{"examples": [{"x": 2e2}]}""").FloatList.Value);
    }

    [Fact]
    public void ParseBody_StringsBytesAndBooleans_HaveTfServingsKinds()
    {
        var example = Assert.Single(Parse("""{"examples": [{"s": ["a", "b"], "b": {"b64": "AAH/"}, "t": [true, false]}]}""").Input.ExampleList.Examples);

        Assert.Equal(["a", "b"], example.Features.Feature["s"].BytesList.Value.Select(v => v.ToStringUtf8()));
        Assert.Equal(new byte[] { 0, 1, 255 }, example.Features.Feature["b"].BytesList.Value[0].ToByteArray());
        Assert.Equal([1L, 0L], example.Features.Feature["t"].Int64List.Value);
    }

    [Fact]
    public void ParseBody_NonFiniteTokens_AreFloatsButQuotedOnesStayStrings()
    {
        var example = Assert.Single(Parse("""{"examples": [{"f": [NaN, Infinity, -Infinity], "s": "NaN"}]}""").Input.ExampleList.Examples);

        var floats = example.Features.Feature["f"].FloatList.Value;
        Assert.True(float.IsNaN(floats[0]));
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity], floats.Skip(1));
        Assert.Equal("NaN", example.Features.Feature["s"].BytesList.Value[0].ToStringUtf8());
    }

    [Fact]
    public void ParseBody_EmptyList_IsAFeatureWithoutKind()
    {
        Assert.Equal(Feature.KindOneofCase.None, OnlyFeature("""{"examples": [{"x": []}]}""").KindCase);
    }

    [Fact]
    public void ParseBody_Context_MakesExampleListWithContext()
    {
        var body = Parse("""{"context": {"c": "shared"}, "examples": [{"x": 1.0}, {"x": 2.0}]}""");

        Assert.Equal(Input.KindOneofCase.ExampleListWithContext, body.Input.KindCase);
        Assert.Equal("shared", body.Input.ExampleListWithContext.Context.Features.Feature["c"].BytesList.Value[0].ToStringUtf8());
        Assert.Equal(2, body.Input.ExampleListWithContext.Examples.Count);
    }

    [Theory]
    [InlineData("""{"examples": [{"x": [1, 2.0]}]}""", "Unexpected element type in feature: x expecting type: int64")]
    [InlineData("""{"examples": [{"x": ["a", 2]}]}""", "Unexpected element type in feature: x expecting type: bytes")]
    [InlineData("""{"examples": [{"x": null}]}""", "Feature: x has element with unexpected JSON type: Null")]
    [InlineData("""{"examples": [{"x": [[1.0]]}]}""", "Feature: x has element with unexpected JSON type: Array")]
    [InlineData("""{"examples": [{"x": {"a": 1}}]}""", "Feature: x has element with unexpected JSON type: Object")]
    [InlineData("""{"examples": [{"x": 18446744073709551615}]}""", "Feature: x has uint64 element. Only int64 is supported.")]
    [InlineData("""{"examples": [{"x": 1e300}]}""", "Cannot convert JSON value: 1e300 to float without loss of precision.")]
    [InlineData("""{"examples": [[1.0]]}""", "Example must be JSON object but got JSON Array")]
    [InlineData("""{"examples": []}""", "'examples' value is an empty array")]
    [InlineData("""{"examples": {"x": 1}}""", "Expecting 'examples' value to be an list/array")]
    [InlineData("""{"instances": [1.0]}""", "When method is classify, key 'examples' is expected and was not found")]
    [InlineData("""{"signature_name": 3, "examples": [{"x": 1.0}]}""", "'signature_name' key must be a string value.")]
    [InlineData("""{"examples": [{"x": {"b64": "!!"}}]}""", "Unable to base64 decode")]
    [InlineData("", "JSON Parse error: The document is empty")]
    public void ParseBody_BadInput_IsTfServingsMessage(string json, string expected)
    {
        Assert.Equal(expected, ParseError(json));
    }

    [Fact]
    public void ParseBody_NotJson_IsJsonParseError()
    {
        Assert.StartsWith("JSON Parse error: ", ParseError("{\"examples\": [}"));
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void WriteClassification_LabelScorePairs_TfServingsLayout()
    {
        var result = new ClassificationResult
        {
            Classifications =
            {
                new Classifications { Classes = { new Class { Label = "", Score = 3f } } },
                new Classifications { Classes = { new Class { Label = "cat", Score = 0.3f }, new Class { Label = "dog", Score = 0.7f } } },
            },
        };

        var json = Write(w => TfServingExampleJson.WriteClassification(w, result));

        Assert.Equal("""{"results":[[["",3.0]],[["cat",0.3],["dog",0.7]]]}""", json);
    }

    [Fact]
    public void WriteRegression_Values_TfServingsLayout()
    {
        var result = new RegressionResult { Regressions = { new Regression { Value = 3f }, new Regression { Value = float.NaN } } };

        var json = Write(w => TfServingExampleJson.WriteRegression(w, result));

        Assert.Equal("""{"results":[3.0,NaN]}""", json);
    }
}
