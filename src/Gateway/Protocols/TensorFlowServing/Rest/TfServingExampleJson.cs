using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grid.Serving;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Gateway.Protocols.TensorFlowServing.Rest;

/// <summary>A parsed <c>:classify</c> / <c>:regress</c> body: the optional signature name and the examples.</summary>
public sealed record RestExampleBody(string? SignatureName, Input Input);

/// <summary>
/// TF Serving's JSON for Classify and Regress (util/json_tensor.cc):
/// <c>{"signature_name"?, "context"?: {…}, "examples": [{…}, …]}</c> in, <c>{"results": …}</c>
/// out. A feature's kind follows its JSON tokens as TF Serving types them: a number without
/// fraction or exponent is int64, any other number float (NaN and ±Infinity included), a
/// string or <c>{"b64": …}</c> bytes, true/false int64 1/0; a list holds one kind. A context
/// turns the input into an example list with context. Stateless; malformed bodies are
/// INVALID_ARGUMENT in TF Serving's words.
/// </summary>
public static class TfServingExampleJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    /// <summary>What a bare NaN/Infinity/-Infinity token is rewritten to, so it cannot be mistaken for a string.</summary>
    private const string NonFiniteKey = "\u0000grid-non-finite";

    public static RestExampleBody ParseBody(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            throw ServingException.InvalidArgument("JSON Parse error: The document is empty");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(RewriteNonFinite(body), DocumentOptions);
        }
        catch (JsonException e)
        {
            throw ServingException.InvalidArgument($"JSON Parse error: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.InvalidArgument($"JSON Value: {Truncate(root.GetRawText())} Is not object");
            }
            string? signature = null;
            if (root.TryGetProperty("signature_name", out var sig))
            {
                if (sig.ValueKind != JsonValueKind.String)
                {
                    throw ServingException.InvalidArgument("'signature_name' key must be a string value.");
                }
                signature = sig.GetString();
            }
            var input = new Input();
            Example? context = null;
            if (root.TryGetProperty("context", out var contextJson))
            {
                context = ToExample(contextJson);
                input.ExampleListWithContext = new ExampleListWithContext { Context = context };
            }
            if (!root.TryGetProperty("examples", out var examples))
            {
                // TF Serving names classify here for regress requests too.
                throw ServingException.InvalidArgument("When method is classify, key 'examples' is expected and was not found");
            }
            if (examples.ValueKind != JsonValueKind.Array)
            {
                throw ServingException.InvalidArgument("Expecting 'examples' value to be an list/array");
            }
            if (examples.GetArrayLength() == 0)
            {
                throw ServingException.InvalidArgument("'examples' value is an empty array");
            }
            var list = context is null ? (input.ExampleList = new ExampleList()).Examples : input.ExampleListWithContext.Examples;
            foreach (var item in examples.EnumerateArray())
            {
                list.Add(ToExample(item));
            }
            return new RestExampleBody(signature, input);
        }
    }

    private static Example ToExample(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object || IsNonFinite(value))
        {
            throw ServingException.InvalidArgument($"Example must be JSON object but got JSON {TypeName(value)}");
        }
        var example = new Example { Features = new Features() };
        foreach (var property in value.EnumerateObject())
        {
            var feature = new Feature();
            if (property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray())
                {
                    AddValue(feature, property.Name, item);
                }
            }
            else
            {
                AddValue(feature, property.Name, property.Value);
            }
            example.Features.Feature[property.Name] = feature;
        }
        return example;
    }

    private static void AddValue(Feature feature, string name, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.True:
            case JsonValueKind.False:
                Expect(feature, name, Feature.KindOneofCase.Int64List);
                (feature.Int64List ??= new Int64List()).Value.Add(value.ValueKind == JsonValueKind.True ? 1 : 0);
                return;
            case JsonValueKind.String:
                Expect(feature, name, Feature.KindOneofCase.BytesList);
                (feature.BytesList ??= new BytesList()).Value.Add(ByteString.CopyFromUtf8(value.GetString()!));
                return;
            case JsonValueKind.Number:
                AddNumber(feature, name, value);
                return;
            case JsonValueKind.Object when IsNonFinite(value):
                Expect(feature, name, Feature.KindOneofCase.FloatList);
                (feature.FloatList ??= new FloatList()).Value.Add(value.GetProperty(NonFiniteKey).GetString() switch
                {
                    "NaN" => float.NaN,
                    "-Infinity" => float.NegativeInfinity,
                    _ => float.PositiveInfinity,
                });
                return;
            case JsonValueKind.Object when IsB64(value, out var b64):
                Expect(feature, name, Feature.KindOneofCase.BytesList);
                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(b64);
                }
                catch (FormatException)
                {
                    throw ServingException.InvalidArgument("Unable to base64 decode");
                }
                (feature.BytesList ??= new BytesList()).Value.Add(ByteString.CopyFrom(bytes));
                return;
            default:
                throw ServingException.InvalidArgument($"Feature: {name} has element with unexpected JSON type: {TypeName(value)}");
        }
    }

    private static void AddNumber(Feature feature, string name, JsonElement value)
    {
        var raw = value.GetRawText();
        var isDecimal = raw.AsSpan().IndexOfAny(".eE") >= 0;
        if (!isDecimal && value.TryGetInt64(out var integer))
        {
            Expect(feature, name, Feature.KindOneofCase.Int64List);
            (feature.Int64List ??= new Int64List()).Value.Add(integer);
            return;
        }
        if (!isDecimal && value.TryGetUInt64(out _))
        {
            Expect(feature, name, Feature.KindOneofCase.Int64List);
            throw ServingException.InvalidArgument($"Feature: {name} has uint64 element. Only int64 is supported.");
        }
        // A decimal, or an integer too large for 64 bits: a float, if it fits.
        Expect(feature, name, Feature.KindOneofCase.FloatList);
        var d = value.GetDouble();
        if (d > float.MaxValue || d < float.MinValue)
        {
            throw ServingException.InvalidArgument($"Cannot convert JSON value: {raw} to float without loss of precision.");
        }
        (feature.FloatList ??= new FloatList()).Value.Add((float)d);
    }

    /// <summary>A list holds one kind; TF Serving names the kind it already has.</summary>
    private static void Expect(Feature feature, string name, Feature.KindOneofCase kind)
    {
        if (feature.KindCase != Feature.KindOneofCase.None && feature.KindCase != kind)
        {
            var has = feature.KindCase switch
            {
                Feature.KindOneofCase.BytesList => "bytes",
                Feature.KindOneofCase.FloatList => "float",
                _ => "int64",
            };
            throw ServingException.InvalidArgument($"Unexpected element type in feature: {name} expecting type: {has}");
        }
    }

    private static bool IsB64(JsonElement value, out string b64)
    {
        b64 = "";
        var count = 0;
        foreach (var p in value.EnumerateObject())
        {
            count++;
            if (p.Name == "b64" && p.Value.ValueKind == JsonValueKind.String)
            {
                b64 = p.Value.GetString()!;
            }
        }
        return count == 1 && value.TryGetProperty("b64", out var v) && v.ValueKind == JsonValueKind.String;
    }

    private static bool IsNonFinite(JsonElement value)
        => value.ValueKind == JsonValueKind.Object && value.TryGetProperty(NonFiniteKey, out _);

    private static string TypeName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "Null",
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.Array => "Array",
        JsonValueKind.String => "String",
        JsonValueKind.Number => "Number",
        _ when IsNonFinite(value) => "Number",
        _ => "Object",
    };

    private static string Truncate(string s) => s.Length > 80 ? s[..80] + "…" : s;

    /// <summary>
    /// TF Serving accepts bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> numbers. They are
    /// rewritten (outside string literals) into a marker object System.Text.Json can read; a
    /// marker is read back as the float it stands for, never as a string.
    /// </summary>
    internal static ReadOnlyMemory<byte> RewriteNonFinite(ReadOnlyMemory<byte> body) =>
        TfServingJsonCodec.RewriteNonFiniteTokens(body, (output, token) =>
            output.Write(Encoding.UTF8.GetBytes($"{{\"\\u0000grid-non-finite\":\"{Encoding.ASCII.GetString(token)}\"}}")));

    /// <summary><c>{"results": [[["label", score], …], …]}</c>: one list of (label, score) per example.</summary>
    public static void WriteClassification(Utf8JsonWriter writer, ClassificationResult result)
    {
        if (result.Classifications.Count == 0)
        {
            throw ServingException.InvalidArgument("Cannot convert empty ClassificationResults to JSON");
        }
        writer.WriteStartObject();
        writer.WriteStartArray("results");
        foreach (var classifications in result.Classifications)
        {
            writer.WriteStartArray();
            foreach (var c in classifications.Classes)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(c.Label);
                TfServingJsonCodec.WriteFloating(writer, c.Score);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary><c>{"results": [v, …]}</c>: one value per example.</summary>
    public static void WriteRegression(Utf8JsonWriter writer, RegressionResult result)
    {
        if (result.Regressions.Count == 0)
        {
            throw ServingException.InvalidArgument("Cannot convert empty RegressionResults to JSON");
        }
        writer.WriteStartObject();
        writer.WriteStartArray("results");
        foreach (var r in result.Regressions)
        {
            TfServingJsonCodec.WriteFloating(writer, r.Value);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
