using System.Runtime.InteropServices;
using System.Text;
using Grid.Serving;
using Grid.Tensors;

namespace Grid.Engines.TensorFlow.Examples;

/// <summary>A sparse feature's three outputs, as ParseExample returns them.</summary>
/// <param name="Indices">Int64 [n, 2]: (example, position in the example's list) of each value.</param>
/// <param name="Values">The values, [n], in example order.</param>
/// <param name="DenseShape">Int64 [2]: (batch size, longest list).</param>
public sealed record SparseTensorData(TensorData Indices, TensorData Values, TensorData DenseShape);

/// <summary>ParseExample's outputs: one tensor per dense feature and one triple per sparse feature, in spec order.</summary>
public sealed record ParsedExamples(TensorData[] Dense, SparseTensorData[] Sparse);

/// <summary>
/// TensorFlow's ParseExample / ParseExampleV2 in C#, for running a SavedModel's parsing step on
/// the host ahead of the converted graph. Follows TensorFlow's fast parser
/// (example_proto_fast_parsing.cc): when a key appears more than once in an example (as when a
/// context was concatenated in front of it) the last occurrence wins; a feature whose value is
/// unset counts as missing; features the spec does not name are ignored. Errors are
/// INVALID_ARGUMENT with TensorFlow's texts. Pure and thread-safe.
/// </summary>
/// <remarks>
/// Supported: dense features (fixed shape, or variable length with a padding value) and sparse
/// (<c>VarLenFeature</c>) features. Ragged features (ParseExampleV2's <c>ragged_keys</c>) are
/// not supported; a spec cannot express them.
/// </remarks>
public static class ExampleParser
{
    public const string UnknownName = "<unknown>";

    /// <summary>
    /// Parses the DT_STRING tensor a ParseExample node is fed: shape [batch] of serialized
    /// examples, or (as ParseExampleV2 allows) a scalar holding one example, whose outputs then
    /// have no batch dimension (dense values of the feature's shape, sparse indices [n, 1] and
    /// dense shape [1]). <paramref name="names"/> (the node's <c>names</c> input) labels
    /// examples in errors; empty means <c>&lt;unknown&gt;</c>.
    /// </summary>
    public static ParsedExamples Parse(ExampleSpec spec, TensorData serialized, IReadOnlyList<string>? names = null)
    {
        if (serialized.DType != TensorDType.String)
        {
            throw ServingException.InvalidArgument($"Expected serialized to be a string tensor, got {serialized.DType.TfName()}");
        }
        if (serialized.Shape.Length > 1)
        {
            throw ServingException.InvalidArgument($"Expected serialized to be a vector, got shape: {ExampleSpec.FormatShape(serialized.Shape)}");
        }
        var parsed = Parse(spec, serialized.ReadStrings(), names);
        return serialized.Shape.Length == 1 ? parsed : WithoutBatchDimension(parsed);
    }

    private static ParsedExamples WithoutBatchDimension(ParsedExamples parsed) => new(
        [.. parsed.Dense.Select(t => t with { Shape = t.Shape[1..] })],
        [.. parsed.Sparse.Select(s =>
        {
            var pairs = s.Indices.AsSpan<long>();
            var positions = new long[pairs.Length / 2];
            for (var i = 0; i < positions.Length; i++)
            {
                positions[i] = pairs[2 * i + 1];
            }
            return new SparseTensorData(
                TensorData.FromSpan<long>(TensorDType.Int64, [positions.Length, 1], positions),
                s.Values,
                TensorData.FromSpan<long>(TensorDType.Int64, [1], [s.DenseShape.AsSpan<long>()[1]]));
        })]);

    /// <summary>Parses a batch of serialized examples: each dense output is [batch, …shape].</summary>
    public static ParsedExamples Parse(ExampleSpec spec, IReadOnlyList<ReadOnlyMemory<byte>> serialized, IReadOnlyList<string>? names = null)
    {
        if (names is { Count: > 0 } && names.Count != serialized.Count)
        {
            throw ServingException.InvalidArgument(
                $"Expected len(names) == len(serialized), but got: {names.Count} vs. {serialized.Count}");
        }
        var batch = serialized.Count;
        var dense = new DenseBuffer[spec.Dense.Count];
        for (var d = 0; d < dense.Length; d++)
        {
            dense[d] = new DenseBuffer(spec.Dense[d], batch);
        }
        var sparse = new SparseBuffer[spec.Sparse.Count];
        for (var s = 0; s < sparse.Length; s++)
        {
            sparse[s] = new SparseBuffer(spec.Sparse[s].DType);
        }
        var entries = new List<ExampleWire.Entry>();
        var denseSeen = new bool[dense.Length];
        var sparseSeen = new bool[sparse.Length];
        for (var e = 0; e < batch; e++)
        {
            var name = names is { Count: > 0 } ? names[e] : UnknownName;
            ParseOne(spec, serialized[e].Span, name, e, entries, dense, sparse, denseSeen, sparseSeen);
        }
        return new ParsedExamples(
            [.. dense.Select(b => b.ToTensor())],
            [.. sparse.Select(b => b.ToTensors(batch))]);
    }

    /// <summary>Convenience for callers holding byte arrays: the dense outputs only, in spec order.</summary>
    public static TensorData[] ParseDense(ExampleSpec spec, IReadOnlyList<byte[]> serialized)
        => Parse(spec, [.. serialized.Select(s => new ReadOnlyMemory<byte>(s))]).Dense;

    private static void ParseOne(
        ExampleSpec spec, ReadOnlySpan<byte> data, string name, int index, List<ExampleWire.Entry> entries,
        DenseBuffer[] dense, SparseBuffer[] sparse, bool[] denseSeen, bool[] sparseSeen)
    {
        entries.Clear();
        if (!ExampleWire.TryReadEntries(data, entries))
        {
            throw ServingException.InvalidArgument($"Could not parse example input, value: '{Printable(data)}'");
        }
        Array.Clear(denseSeen);
        Array.Clear(sparseSeen);
        // Last entry first: like protobuf's own parsing, a later occurrence of a key overrides.
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var entry = entries[i];
            var keyBytes = data.Slice(entry.KeyStart, entry.KeyLength);
            var key = Encoding.UTF8.GetString(keyBytes);
            if (!spec.Index.TryGetValue(key, out var slot))
            {
                continue;
            }
            var feature = data.Slice(entry.FeatureStart, entry.FeatureLength);
            var kind = ExampleWire.KindOf(feature);
            if (kind == ExampleWire.Kind.Unsupported)
            {
                throw ServingException.InvalidArgument("Unsupported datatype.");
            }
            var actual = kind switch
            {
                ExampleWire.Kind.Bytes => TensorDType.String,
                ExampleWire.Kind.Float => TensorDType.Float,
                ExampleWire.Kind.Int64 => TensorDType.Int64,
                _ => TensorDType.Invalid,
            };
            if (slot.IsDense)
            {
                if (actual == TensorDType.Invalid || denseSeen[slot.Index])
                {
                    continue;
                }
                denseSeen[slot.Index] = true;
                var buffer = dense[slot.Index];
                if (actual != buffer.Feature.DType)
                {
                    throw ExampleError(name, key, index,
                        $"Data types don't match. Data type: {actual.ShortName()} but expected type: {buffer.Feature.DType.ShortName()}");
                }
                buffer.Add(index, feature, name, key);
            }
            else
            {
                if (sparseSeen[slot.Index])
                {
                    continue;
                }
                sparseSeen[slot.Index] = true;
                var buffer = sparse[slot.Index];
                if (actual != TensorDType.Invalid && actual != buffer.DType)
                {
                    throw ExampleError(name, key, index,
                        $"Data types don't match. Expected type: {buffer.DType.ShortName()}, Actual type: {actual.ShortName()}");
                }
                buffer.Add(index, actual == TensorDType.Invalid ? default : feature, name, key);
            }
        }
        for (var d = 0; d < dense.Length; d++)
        {
            if (denseSeen[d])
            {
                continue;
            }
            var f = dense[d].Feature;
            if (f.IsRequired)
            {
                throw ServingException.InvalidArgument(
                    $"Name: {name}, Feature: {f.Key} (data type: {f.DType.ShortName()}) is required but could not be found.");
            }
            dense[d].AddDefault(index);
        }
        for (var s = 0; s < sparse.Length; s++)
        {
            if (!sparseSeen[s])
            {
                sparse[s].Add(index, default, name, "");
            }
        }
    }

    internal static ServingException ExampleError(string name, string key, int index, string suffix)
        => ServingException.InvalidArgument($"Name: {name}, Key: {key}, Index: {index}.  {suffix}");

    internal static ServingException ParseError(string name, string key, int index)
        => ExampleError(name, key, index, "Can't parse serialized Example.");

    /// <summary>
    /// The serialized bytes for an error message. TensorFlow prints them raw; here bytes outside
    /// printable ASCII are C-escaped (<c>\ooo</c>) so the message stays valid text.
    /// </summary>
    internal static string Printable(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(data.Length);
        foreach (var b in data)
        {
            switch (b)
            {
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'\'': sb.Append("\\'"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case >= 0x20 and < 0x7F: sb.Append((char)b); break;
                default: sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0')); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Typed list reading shared by dense and sparse buffers.</summary>
    private static int ReadList(TensorDType dtype, ReadOnlySpan<byte> feature, List<float> floats, List<long> ints, List<byte[]> bytes)
    {
        var ok = dtype switch
        {
            TensorDType.Float => ExampleWire.TryReadFloatList(feature, floats),
            TensorDType.Int64 => ExampleWire.TryReadInt64List(feature, ints),
            _ => ExampleWire.TryReadBytesList(feature, bytes),
        };
        return ok ? 0 : -1;
    }

    /// <summary>One dense feature's values for the batch, in example order.</summary>
    private sealed class DenseBuffer(DenseFeature feature, int batch)
    {
        private readonly List<float> _floats = [];
        private readonly List<long> _ints = [];
        private readonly List<byte[]> _bytes = [];

        /// <summary>Per example: where its values start and how many (variable length only).</summary>
        private readonly (int Start, int Count)[] _spans = new (int, int)[batch];

        public DenseFeature Feature { get; } = feature;

        private int Count => Feature.DType switch
        {
            TensorDType.Float => _floats.Count,
            TensorDType.Int64 => _ints.Count,
            _ => _bytes.Count,
        };

        public void Add(int index, ReadOnlySpan<byte> serialized, string name, string key)
        {
            var before = Count;
            if (ReadList(Feature.DType, serialized, _floats, _ints, _bytes) < 0)
            {
                throw ParseError(name, key, index);
            }
            var added = Count - before;
            var stride = Feature.Stride;
            var kind = Feature.DType switch { TensorDType.Float => "float", TensorDType.Int64 => "int64", _ => "bytes" };
            if (Feature.IsVariableLength)
            {
                if (stride == 0 ? added != 0 : added % stride != 0)
                {
                    throw ExampleError(name, key, index,
                        $"Number of {kind} values is not a multiple of stride length. Saw {added} values but output shape is: {ExampleSpec.FormatShape(Feature.Shape)}");
                }
            }
            else if (added != stride)
            {
                throw ExampleError(name, key, index,
                    $"Number of {kind} values != expected.  Values size: {added} but output shape: {ExampleSpec.FormatShape(Feature.Shape)}");
            }
            _spans[index] = (before, added);
        }

        public void AddDefault(int index)
        {
            var start = Count;
            if (Feature.IsVariableLength)
            {
                _spans[index] = (start, 0);
                return;
            }
            var def = Feature.DefaultValue!;
            switch (Feature.DType)
            {
                case TensorDType.Float: _floats.AddRange(def.AsSpan<float>()); break;
                case TensorDType.Int64: _ints.AddRange(def.AsSpan<long>()); break;
                default: _bytes.AddRange(def.ReadStrings().Select(s => s.ToArray())); break;
            }
            _spans[index] = (start, (int)def.ElementCount);
        }

        public TensorData ToTensor()
        {
            if (!Feature.IsVariableLength)
            {
                // Examples were visited in order, so the values are already laid out row by row.
                long[] shape = [_spans.Length, .. Feature.Shape];
                return Feature.DType switch
                {
                    TensorDType.Float => TensorData.FromSpan(TensorDType.Float, shape, CollectionsMarshal.AsSpan(_floats)),
                    TensorDType.Int64 => TensorData.FromSpan(TensorDType.Int64, shape, CollectionsMarshal.AsSpan(_ints)),
                    _ => TensorData.FromStrings(shape, _bytes),
                };
            }
            var stride = Feature.Stride;
            var maxRows = 0L;
            foreach (var (_, count) in _spans)
            {
                maxRows = Math.Max(maxRows, stride == 0 ? 0 : count / stride);
            }
            long[] outShape = [_spans.Length, maxRows, .. Feature.Shape.AsSpan(1)];
            var perExample = (int)(maxRows * stride);
            var def = Feature.DefaultValue!;
            switch (Feature.DType)
            {
                case TensorDType.Float:
                    return TensorData.FromSpan(TensorDType.Float, outShape, Pad(_floats, perExample, def.AsSpan<float>()[0]));
                case TensorDType.Int64:
                    return TensorData.FromSpan(TensorDType.Int64, outShape, Pad(_ints, perExample, def.AsSpan<long>()[0]));
                default:
                    return TensorData.FromStrings(outShape, Pad(_bytes, perExample, def.ReadStrings()[0].ToArray()));
            }
        }

        private T[] Pad<T>(List<T> values, int perExample, T padding)
        {
            var result = new T[_spans.Length * perExample];
            Array.Fill(result, padding);
            for (var e = 0; e < _spans.Length; e++)
            {
                values.CopyTo(_spans[e].Start, result, e * perExample, _spans[e].Count);
            }
            return result;
        }
    }

    /// <summary>One sparse feature's values for the batch, with each example's end offset.</summary>
    private sealed class SparseBuffer(TensorDType dtype)
    {
        private readonly List<float> _floats = [];
        private readonly List<long> _ints = [];
        private readonly List<byte[]> _bytes = [];
        private readonly List<int> _ends = [];

        public TensorDType DType { get; } = dtype;

        private int Count => DType switch
        {
            TensorDType.Float => _floats.Count,
            TensorDType.Int64 => _ints.Count,
            _ => _bytes.Count,
        };

        /// <summary>Adds one example's list; an empty span adds none (feature missing or unset).</summary>
        public void Add(int index, ReadOnlySpan<byte> serialized, string name, string key)
        {
            if (!serialized.IsEmpty && ReadList(DType, serialized, _floats, _ints, _bytes) < 0)
            {
                throw ParseError(name, key, index);
            }
            _ends.Add(Count);
        }

        public SparseTensorData ToTensors(int batch)
        {
            var total = Count;
            var indices = new long[total * 2];
            var maxLength = 0;
            var start = 0;
            for (var e = 0; e < _ends.Count; e++)
            {
                var end = _ends[e];
                maxLength = Math.Max(maxLength, end - start);
                for (var j = start; j < end; j++)
                {
                    indices[2 * j] = e;
                    indices[2 * j + 1] = j - start;
                }
                start = end;
            }
            var values = DType switch
            {
                TensorDType.Float => TensorData.FromSpan(TensorDType.Float, [total], CollectionsMarshal.AsSpan(_floats)),
                TensorDType.Int64 => TensorData.FromSpan(TensorDType.Int64, [total], CollectionsMarshal.AsSpan(_ints)),
                _ => TensorData.FromStrings([total], _bytes),
            };
            return new SparseTensorData(
                TensorData.FromSpan<long>(TensorDType.Int64, [total, 2], indices),
                values,
                TensorData.FromSpan<long>(TensorDType.Int64, [2], [batch, maxLength]));
        }
    }
}
