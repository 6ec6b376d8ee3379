using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Grid.Models;
using Grid.Serving;
using Grid.Tensors;

namespace Grid.Gateway.Protocols.TensorFlowServing.Rest;

/// <summary>A parsed TF Serving REST predict body. Owns the JSON document.</summary>
public sealed class RestPredictBody(JsonDocument document, string? signatureName, bool isRowFormat, JsonElement payload) : IDisposable
{
    public string? SignatureName { get; } = signatureName;

    /// <summary>True for <c>instances</c> (answered with <c>predictions</c>), false for <c>inputs</c>.</summary>
    public bool IsRowFormat { get; } = isRowFormat;

    public JsonElement Payload { get; } = payload;

    public void Dispose() => document.Dispose();
}

/// <summary>
/// TF Serving's JSON tensor encoding (api_rest.md): row (<c>instances</c>) and columnar
/// (<c>inputs</c>) requests, <c>{"b64": …}</c> bytes, and the matching <c>predictions</c> /
/// <c>outputs</c> responses. Dtypes come from the signature, since JSON carries none.
/// Stateless and thread-safe; every malformed body is an INVALID_ARGUMENT.
/// </summary>
public static class TfServingJsonCodec
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    public static RestPredictBody ParseBody(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(QuoteNonFiniteTokens(body), DocumentOptions);
        }
        catch (JsonException e)
        {
            throw ServingException.InvalidArgument($"JSON Parse error: {e.Message}");
        }
        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.InvalidArgument("JSON Value: not an object. Expecting an object with 'instances' or 'inputs'");
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
            var hasInstances = root.TryGetProperty("instances", out var instances);
            var hasInputs = root.TryGetProperty("inputs", out var inputs);
            if (hasInstances && hasInputs)
            {
                throw ServingException.InvalidArgument("Not formatted correctly expecting only one of 'inputs' or 'instances' keys exists");
            }
            if (!hasInstances && !hasInputs)
            {
                throw ServingException.InvalidArgument("Missing 'inputs' or 'instances' key");
            }
            if (hasInstances && (instances.ValueKind != JsonValueKind.Array || instances.GetArrayLength() == 0))
            {
                throw ServingException.InvalidArgument("Expecting 'instances' to be a non-empty list/array");
            }
            return new RestPredictBody(document, signature, hasInstances, hasInstances ? instances : inputs);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static readonly byte[][] NonFiniteTokens = [.. new[] { "-Infinity", "Infinity", "NaN" }.Select(Encoding.ASCII.GetBytes)];

    /// <summary>
    /// TF Serving parses with rapidjson's NaN/Infinity extension, so bare <c>NaN</c>,
    /// <c>Infinity</c> and <c>-Infinity</c> are legal numbers in its requests. System.Text.Json
    /// rejects them, so they are rewritten as the strings <c>"NaN"</c> etc. (outside string
    /// literals only) and read back as floating-point values by the element writer.
    /// </summary>
    internal static ReadOnlyMemory<byte> QuoteNonFiniteTokens(ReadOnlyMemory<byte> body) =>
        RewriteNonFiniteTokens(body, (output, token) =>
        {
            output.Write("\""u8);
            output.Write(token);
            output.Write("\""u8);
        });

    /// <summary>
    /// Copies <paramref name="body"/>, replacing each bare <c>NaN</c>, <c>Infinity</c> or
    /// <c>-Infinity</c> token outside string literals with what <paramref name="replace"/> writes
    /// for it; returns <paramref name="body"/> itself when it holds none.
    /// </summary>
    internal static ReadOnlyMemory<byte> RewriteNonFiniteTokens(ReadOnlyMemory<byte> body, Action<ArrayBufferWriter<byte>, byte[]> replace)
    {
        var span = body.Span;
        if (span.IndexOf("NaN"u8) < 0 && span.IndexOf("Infinity"u8) < 0)
        {
            return body;
        }
        var output = new ArrayBufferWriter<byte>(body.Length + 64);
        var inString = false;
        var i = 0;
        while (i < span.Length)
        {
            var c = span[i];
            if (inString)
            {
                output.Write([c]);
                if (c == (byte)'\\' && i + 1 < span.Length)
                {
                    output.Write([span[i + 1]]);
                    i += 2;
                    continue;
                }
                inString = c != (byte)'"';
                i++;
                continue;
            }
            if (c == (byte)'"')
            {
                inString = true;
                output.Write([c]);
                i++;
                continue;
            }
            byte[]? token = null;
            foreach (var candidate in NonFiniteTokens)
            {
                if (span[i..].StartsWith(candidate))
                {
                    token = candidate;
                    break;
                }
            }
            if (token is null)
            {
                output.Write([c]);
                i++;
                continue;
            }
            replace(output, token);
            i += token.Length;
        }
        return output.WrittenMemory;
    }

    /// <summary>Builds the request tensors for <paramref name="signature"/>.</summary>
    public static NamedTensor[] DecodeInputs(RestPredictBody body, ModelSignature signature)
        => body.IsRowFormat ? DecodeRows(body.Payload, signature) : DecodeColumns(body.Payload, signature);

    private static NamedTensor[] DecodeRows(JsonElement instances, ModelSignature signature)
    {
        var first = instances[0];
        if (first.ValueKind == JsonValueKind.Object && !IsB64(first))
        {
            var aliases = new List<string>();
            foreach (var p in first.EnumerateObject())
            {
                aliases.Add(p.Name);
            }
            var result = new NamedTensor[aliases.Count];
            for (var a = 0; a < aliases.Count; a++)
            {
                var spec = RequireInput(signature, aliases[a]);
                var items = new List<JsonElement>();
                var index = 0;
                foreach (var instance in instances.EnumerateArray())
                {
                    if (instance.ValueKind != JsonValueKind.Object || IsB64(instance))
                    {
                        throw ServingException.InvalidArgument($"Expecting object but got list at item {index} of input list");
                    }
                    if (!instance.TryGetProperty(aliases[a], out var value))
                    {
                        throw ServingException.InvalidArgument($"Failed to process element: {index} key: {aliases[a]} of 'instances' list. Error: missing key");
                    }
                    if (CountProperties(instance) != aliases.Count)
                    {
                        throw ServingException.InvalidArgument($"Failed to process element: {index} of 'instances' list. JSON object: has a different set of keys than item 0");
                    }
                    items.Add(value);
                    index++;
                }
                result[a] = new NamedTensor(spec.Alias, DecodeBatch(spec, items));
            }
            return result;
        }
        if (signature.Inputs.Length != 1)
        {
            throw ServingException.InvalidArgument(
                $"Expecting object but got list at item 0 of input list: the signature has {signature.Inputs.Length} inputs, so each instance must be an object keyed by {{{string.Join(",", signature.Inputs.Select(i => i.Alias))}}}");
        }
        var single = signature.Inputs[0];
        return [new NamedTensor(single.Alias, DecodeBatch(single, [.. instances.EnumerateArray()]))];
    }

    private static NamedTensor[] DecodeColumns(JsonElement inputs, ModelSignature signature)
    {
        if (inputs.ValueKind != JsonValueKind.Object || IsB64(inputs))
        {
            if (signature.Inputs.Length != 1)
            {
                throw ServingException.InvalidArgument(
                    $"'inputs' must be an object keyed by {{{string.Join(",", signature.Inputs.Select(i => i.Alias))}}} for a signature with {signature.Inputs.Length} inputs");
            }
            var spec = signature.Inputs[0];
            return [new NamedTensor(spec.Alias, DecodeTensor(spec, inputs))];
        }
        var result = new List<NamedTensor>();
        foreach (var p in inputs.EnumerateObject())
        {
            var spec = RequireInput(signature, p.Name);
            result.Add(new NamedTensor(spec.Alias, DecodeTensor(spec, p.Value)));
        }
        foreach (var spec in signature.Inputs)
        {
            if (!result.Any(r => r.Name == spec.Alias))
            {
                throw ServingException.InvalidArgument($"Missing named input: {spec.Alias} in 'inputs' object.");
            }
        }
        return [.. result];
    }

    private static TensorSpec RequireInput(ModelSignature signature, string alias)
        => signature.FindInput(alias) ?? throw ServingException.InvalidArgument(
            $"input tensor alias not found in signature: {alias}. Inputs expected to be in the set {{{string.Join(",", signature.Inputs.Select(i => i.Alias))}}}.");

    private static int CountProperties(JsonElement obj)
    {
        var n = 0;
        foreach (var _ in obj.EnumerateObject())
        {
            n++;
        }
        return n;
    }

    private static bool IsB64(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            return false;
        }
        var n = 0;
        var hasB64 = false;
        foreach (var p in e.EnumerateObject())
        {
            n++;
            hasB64 |= p.Name == "b64";
        }
        return n == 1 && hasB64;
    }

    /// <summary>Decodes one instance per item and stacks them: shape [items] + item shape.</summary>
    private static TensorData DecodeBatch(TensorSpec spec, IReadOnlyList<JsonElement> items)
    {
        var writer = new ElementWriter(spec.DType, spec.Alias);
        long[]? itemShape = null;
        for (var i = 0; i < items.Count; i++)
        {
            var shape = ShapeOf(items[i]);
            if (itemShape is null)
            {
                itemShape = shape;
            }
            else if (!shape.AsSpan().SequenceEqual(itemShape))
            {
                throw ServingException.InvalidArgument(
                    $"Expecting tensor size: {TensorData.CountElements(itemShape)} but got: {TensorData.CountElements(shape)} for input '{spec.Alias}' at item {i} of 'instances' (shape {TensorData.FormatShape(shape)} vs {TensorData.FormatShape(itemShape)})");
            }
            WriteValues(writer, items[i], shape, 0);
        }
        return writer.ToTensor([items.Count, .. itemShape!]);
    }

    private static TensorData DecodeTensor(TensorSpec spec, JsonElement value)
    {
        var shape = ShapeOf(value);
        var writer = new ElementWriter(spec.DType, spec.Alias);
        WriteValues(writer, value, shape, 0);
        return writer.ToTensor(shape);
    }

    private static long[] ShapeOf(JsonElement value)
    {
        var shape = new List<long>();
        var e = value;
        while (e.ValueKind == JsonValueKind.Array)
        {
            var n = e.GetArrayLength();
            shape.Add(n);
            if (n == 0)
            {
                break;
            }
            e = e[0];
        }
        return [.. shape];
    }

    private static void WriteValues(ElementWriter writer, JsonElement value, long[] shape, int depth)
    {
        if (depth == shape.Length)
        {
            if (value.ValueKind == JsonValueKind.Array)
            {
                throw ServingException.InvalidArgument($"Ragged list for input '{writer.Alias}': nesting is deeper than {TensorData.FormatShape(shape)}");
            }
            writer.Write(value);
            return;
        }
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != shape[depth])
        {
            throw ServingException.InvalidArgument(
                $"Ragged list for input '{writer.Alias}': expected {shape[depth]} elements at depth {depth} of shape {TensorData.FormatShape(shape)}");
        }
        foreach (var item in value.EnumerateArray())
        {
            WriteValues(writer, item, shape, depth + 1);
        }
    }

    /// <summary>Appends JSON leaves as little-endian elements of one dtype.</summary>
    private sealed class ElementWriter(TensorDType dtype, string alias)
    {
        private readonly ArrayBufferWriter<byte> _bytes = new();
        private readonly List<byte[]> _strings = [];

        public string Alias { get; } = alias;

        public void Write(JsonElement leaf)
        {
            switch (dtype)
            {
                case TensorDType.String:
                    _strings.Add(ReadBytes(leaf));
                    return;
                case TensorDType.Bool:
                    if (leaf.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        throw Mismatch(leaf, "a bool");
                    }
                    Put((byte)(leaf.ValueKind == JsonValueKind.True ? 1 : 0));
                    return;
                case TensorDType.Float:
                    var d = ReadDouble(leaf);
                    var f = (float)d;
                    if (float.IsInfinity(f) && double.IsFinite(d))
                    {
                        throw ServingException.InvalidArgument($"Cannot convert JSON value: {leaf.GetRawText()} to float without loss of precision.");
                    }
                    Put(f);
                    return;
                case TensorDType.Double:
                    Put(ReadDouble(leaf));
                    return;
                case TensorDType.Half:
                    Put((Half)ReadDouble(leaf));
                    return;
            }
            if (leaf.ValueKind != JsonValueKind.Number || !leaf.TryGetInt64(out var v))
            {
                if (leaf.ValueKind == JsonValueKind.Number && leaf.TryGetUInt64(out var u) && dtype == TensorDType.UInt64)
                {
                    Put(u);
                    return;
                }
                throw Mismatch(leaf, "an integer");
            }
            try
            {
                switch (dtype)
                {
                    case TensorDType.Int64: Put(v); break;
                    case TensorDType.Int32: Put(checked((int)v)); break;
                    case TensorDType.Int16: Put(checked((short)v)); break;
                    case TensorDType.Int8: Put(checked((sbyte)v)); break;
                    case TensorDType.UInt8: Put(checked((byte)v)); break;
                    case TensorDType.UInt16: Put(checked((ushort)v)); break;
                    case TensorDType.UInt32: Put(checked((uint)v)); break;
                    case TensorDType.UInt64: Put(checked((ulong)v)); break;
                    default: throw ServingException.InvalidArgument($"Input '{Alias}' has unsupported dtype {dtype.TfName()}");
                }
            }
            catch (OverflowException)
            {
                throw ServingException.InvalidArgument($"Value {v} is out of range for {dtype.TfName()} input '{Alias}'");
            }
        }

        private double ReadDouble(JsonElement leaf)
        {
            if (leaf.ValueKind == JsonValueKind.String)
            {
                switch (leaf.GetString())
                {
                    case "NaN": return double.NaN;
                    case "Infinity": return double.PositiveInfinity;
                    case "-Infinity": return double.NegativeInfinity;
                }
            }
            if (leaf.ValueKind != JsonValueKind.Number)
            {
                throw Mismatch(leaf, "a number");
            }
            return leaf.GetDouble();
        }

        private byte[] ReadBytes(JsonElement leaf)
        {
            if (leaf.ValueKind == JsonValueKind.String)
            {
                return Encoding.UTF8.GetBytes(leaf.GetString()!);
            }
            if (IsB64(leaf) && leaf.GetProperty("b64") is { ValueKind: JsonValueKind.String } b64)
            {
                try
                {
                    return Convert.FromBase64String(b64.GetString()!);
                }
                catch (FormatException)
                {
                    throw ServingException.InvalidArgument($"Unable to base64 decode the 'b64' value of input '{Alias}'");
                }
            }
            throw Mismatch(leaf, "a string or {\"b64\": ...}");
        }

        private ServingException Mismatch(JsonElement leaf, string expected) => ServingException.InvalidArgument(
            $"Input '{Alias}' of {dtype.TfName()} expects {expected} but got JSON {leaf.ValueKind.ToString().ToLowerInvariant()} {Truncate(leaf.GetRawText())}");

        private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;

        private void Put<T>(T value) where T : unmanaged
        {
            var size = Marshal.SizeOf<T>();
            var span = _bytes.GetSpan(size);
            MemoryMarshal.Write(span, in value);
            _bytes.Advance(size);
        }

        public TensorData ToTensor(long[] shape) => dtype == TensorDType.String
            ? TensorData.FromStrings(shape, _strings)
            : new TensorData(dtype, shape, _bytes.WrittenSpan.ToArray());
    }

    /// <summary>Writes <c>{"predictions": …}</c> or <c>{"outputs": …}</c>.</summary>
    public static void WriteResponse(Utf8JsonWriter writer, bool isRowFormat, IReadOnlyList<NamedTensor> outputs)
    {
        writer.WriteStartObject();
        if (isRowFormat)
        {
            writer.WritePropertyName("predictions");
            if (outputs.Count == 1)
            {
                WriteTensor(writer, outputs[0]);
            }
            else
            {
                WriteRows(writer, outputs);
            }
        }
        else
        {
            writer.WritePropertyName("outputs");
            if (outputs.Count == 1)
            {
                WriteTensor(writer, outputs[0]);
            }
            else
            {
                writer.WriteStartObject();
                foreach (var o in outputs)
                {
                    writer.WritePropertyName(o.Name);
                    WriteTensor(writer, o);
                }
                writer.WriteEndObject();
            }
        }
        writer.WriteEndObject();
    }

    private static void WriteRows(Utf8JsonWriter writer, IReadOnlyList<NamedTensor> outputs)
    {
        long batch = -1;
        foreach (var o in outputs)
        {
            var rows = o.Tensor.Shape.Length == 0 ? -1 : o.Tensor.Shape[0];
            if (rows < 0 || (batch >= 0 && rows != batch))
            {
                throw ServingException.InvalidArgument(
                    $"Tensor name: {o.Name} has inconsistent batch size: {rows} expecting: {batch}");
            }
            batch = rows;
        }
        var readers = outputs.Select(o => new ElementReader(o)).ToList();
        writer.WriteStartArray();
        for (var row = 0; row < batch; row++)
        {
            writer.WriteStartObject();
            foreach (var r in readers)
            {
                writer.WritePropertyName(r.Alias);
                r.WriteNested(writer, 1);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WriteTensor(Utf8JsonWriter writer, NamedTensor tensor) => new ElementReader(tensor).WriteNested(writer, 0);

    /// <summary>Walks a tensor's elements in order and writes them as nested JSON arrays.</summary>
    private sealed class ElementReader(NamedTensor named)
    {
        private readonly TensorData _t = named.Tensor;
        private readonly List<ReadOnlyMemory<byte>>? _strings = named.Tensor.DType == TensorDType.String ? named.Tensor.ReadStrings() : null;
        private readonly bool _asB64 = named.Name.EndsWith("_bytes", StringComparison.Ordinal);
        private int _next;

        public string Alias => named.Name;

        public void WriteNested(Utf8JsonWriter writer, int depth)
        {
            if (depth == _t.Shape.Length)
            {
                WriteElement(writer, _next++);
                return;
            }
            writer.WriteStartArray();
            for (long i = 0; i < _t.Shape[depth]; i++)
            {
                WriteNested(writer, depth + 1);
            }
            writer.WriteEndArray();
        }

        private void WriteElement(Utf8JsonWriter writer, int i)
        {
            switch (_t.DType)
            {
                case TensorDType.Float: WriteFloating(writer, _t.AsSpan<float>()[i]); break;
                case TensorDType.Double: WriteFloating(writer, _t.AsSpan<double>()[i]); break;
                case TensorDType.Half: WriteFloating(writer, (float)_t.AsSpan<Half>()[i]); break;
                case TensorDType.Int64: writer.WriteNumberValue(_t.AsSpan<long>()[i]); break;
                case TensorDType.Int32: writer.WriteNumberValue(_t.AsSpan<int>()[i]); break;
                case TensorDType.Int16: writer.WriteNumberValue(_t.AsSpan<short>()[i]); break;
                case TensorDType.Int8: writer.WriteNumberValue(_t.AsSpan<sbyte>()[i]); break;
                case TensorDType.UInt8: writer.WriteNumberValue(_t.Data[i]); break;
                case TensorDType.UInt16: writer.WriteNumberValue(_t.AsSpan<ushort>()[i]); break;
                case TensorDType.UInt32: writer.WriteNumberValue(_t.AsSpan<uint>()[i]); break;
                case TensorDType.UInt64: writer.WriteNumberValue(_t.AsSpan<ulong>()[i]); break;
                case TensorDType.Bool: writer.WriteBooleanValue(_t.Data[i] != 0); break;
                case TensorDType.String: WriteString(writer, _strings![i].Span); break;
                default: throw new ServingException(ServingStatusCode.Internal, $"Cannot encode dtype {_t.DType} as JSON");
            }
        }

        private void WriteString(Utf8JsonWriter writer, ReadOnlySpan<byte> value)
        {
            if (!_asB64 && System.Text.Unicode.Utf8.IsValid(value))
            {
                writer.WriteStringValue(value);
                return;
            }
            writer.WriteStartObject();
            writer.WriteString("b64", Convert.ToBase64String(value));
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// Writes floats as TF Serving does: shortest round-trip digits, integral values with a
    /// trailing <c>.0</c>, and the non-finite values as <c>NaN</c>/<c>Infinity</c>.
    /// </summary>
    internal static void WriteFloating(Utf8JsonWriter writer, double value)
    {
        if (double.IsNaN(value))
        {
            writer.WriteRawValue("NaN", skipInputValidation: true);
            return;
        }
        if (double.IsInfinity(value))
        {
            writer.WriteRawValue(value > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
            return;
        }
        writer.WriteRawValue(FormatFloating(value), skipInputValidation: true);
    }

    internal static void WriteFloating(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteRawValue(FormatFloating(value), skipInputValidation: true);
        }
        else
        {
            WriteFloating(writer, (double)value);
        }
    }

    private static string FormatFloating<T>(T value) where T : IFormattable
    {
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        return s.AsSpan().IndexOfAny(".eE") >= 0 ? s : s + ".0";
    }
}
