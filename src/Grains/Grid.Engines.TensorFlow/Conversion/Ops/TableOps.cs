using Google.Protobuf;
using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Grid.Serving;
using Onnx;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Lookup tables filled from constants: <c>HashTable</c>/<c>HashTableV2</c> become a constant
/// mapping read from the table's initializer (<see cref="TableInitializers"/>) and
/// <c>LookupTableFind</c>/<c>LookupTableFindV2</c> an ONNX-ML <c>LabelEncoder</c> over it, with
/// the lookup's default value for keys the table lacks (TensorFlow's semantics). Keys may be
/// int64, int32 or string; values int64, int32, float or string.
/// </summary>
internal static class TableOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["HashTable"] = HashTable;
        table["HashTableV2"] = HashTable;
        table["LookupTableFind"] = Find;
        table["LookupTableFindV2"] = Find;
        table["LookupTableSize"] = Size;
        table["LookupTableSizeV2"] = Size;
    }

    private static IReadOnlyList<ConvertedTensor> HashTable(OpContext op)
    {
        var (keys, values) = op.Graph.Tables.Resolve(op.Node);
        var (uniqueKeys, uniqueValues) = Deduplicate(op.Node.Name, keys, values);
        return [ConvertedTensor.LookupTable(op.Node.Name, uniqueKeys, uniqueValues)];
    }

    private static IReadOnlyList<ConvertedTensor> Size(OpContext op)
    {
        var table = TableOf(op);
        return [ConvertedTensor.Const(HostTensor.FromInt64([], [table.Keys.ElementCount]))];
    }

    private static IReadOnlyList<ConvertedTensor> Find(OpContext op)
    {
        var table = TableOf(op);
        var keys = op.Input(1);
        if (keys.DType != table.Keys.DType)
        {
            throw ServingException.InvalidArgument(
                $"node {op.Node}: table {table.Name} has {table.Keys.DType} keys but is looked up with {keys.DType}");
        }

        var fallback = op.Constant(2, "the default value");
        if (fallback.ElementCount != 1 || fallback.DType != table.Values.DType)
        {
            throw op.Unsupported($"a default value of {fallback.DType} [{string.Join(",", fallback.Shape)}] (not one {table.Values.DType})");
        }

        var attributes = new List<AttributeProto>();
        var input = op.Name(1);
        switch (table.Keys.DType)
        {
            case DataType.DtString:
                attributes.Add(OnnxAttributes.Strings("keys_strings", table.Keys.Strings!));
                break;
            case DataType.DtInt64:
                attributes.Add(OnnxAttributes.Ints("keys_int64s", table.Keys.ToInt64Array()));
                break;
            case DataType.DtInt32:
                attributes.Add(OnnxAttributes.Ints("keys_int64s", table.Keys.ToInt64Array()));
                input = op.Graph.Cast(input, DataType.DtInt64, op.Node.Name + "_keys");
                break;
            default:
                throw op.Unsupported($"a table with {table.Keys.DType} keys");
        }

        var valueType = table.Values.DType;
        switch (valueType)
        {
            case DataType.DtString:
                attributes.Add(OnnxAttributes.Strings("values_strings", table.Values.Strings!));
                attributes.Add(OnnxAttributes.String("default_string", fallback.Strings![0]));
                break;
            case DataType.DtInt64 or DataType.DtInt32:
                attributes.Add(OnnxAttributes.Ints("values_int64s", table.Values.ToInt64Array()));
                attributes.Add(OnnxAttributes.Int("default_int64", fallback.ToInt64Array()[0]));
                break;
            case DataType.DtFloat:
                attributes.Add(OnnxAttributes.Floats("values_floats", table.Values.ToDoubleArray().Select(v => (float)v)));
                attributes.Add(OnnxAttributes.Float("default_float", (float)fallback.ToDoubleArray()[0]));
                break;
            default:
                throw op.Unsupported($"a table with {valueType} values");
        }

        var output = op.Graph.Builder.AddDomainNode(OnnxGraphBuilder.MlDomain, OnnxGraphBuilder.MlOpset, "LabelEncoder", [input], op.Node.Name, [.. attributes]);
        if (valueType == DataType.DtInt32)
        {
            output = op.Graph.Cast(output, DataType.DtInt32, op.Node.Name + "_int32");
        }

        return OpContext.One(output, valueType, keys.Dims);
    }

    private static (HostTensor Keys, HostTensor Values, string Name) TableOf(OpContext op)
        => op.Input(0).Table ?? throw ServingException.InvalidArgument($"node {op.Node} looks up a handle that is not a lookup table Grid could read");

    /// <summary>
    /// TensorFlow's InitializeTable accepts a key listed twice only with the same value; the
    /// repeat is dropped here (a LabelEncoder wants unique keys).
    /// </summary>
    private static (HostTensor Keys, HostTensor Values) Deduplicate(string table, HostTensor keys, HostTensor values)
    {
        var keyList = keys.Strings is { } ks ? ks.Select(k => (object)k).ToArray() : keys.ToInt64Array().Select(k => (object)k).ToArray();
        var valueList = values.Strings is { } vs ? vs.Select(v => (object)v).ToArray()
            : TfDataTypes.IsInteger(values.DType) ? values.ToInt64Array().Select(v => (object)v).ToArray()
            : values.ToDoubleArray().Select(v => (object)v).ToArray();
        var seen = new Dictionary<object, int>();
        var keep = new List<int>();
        for (var i = 0; i < keyList.Length; i++)
        {
            if (seen.TryGetValue(keyList[i], out var first))
            {
                if (!Equals(valueList[first], valueList[i]))
                {
                    throw ServingException.FailedPrecondition($"HashTable has different value for same key. Key {Format(keyList[i])} has {Format(valueList[first])} and trying to add value {Format(valueList[i])}");
                }

                continue;
            }

            seen[keyList[i]] = i;
            keep.Add(i);
        }

        if (keep.Count == keyList.Length)
        {
            return (keys.Reshape([keys.ElementCount]), values.Reshape([values.ElementCount]));
        }

        return (Pick(keys, keep), Pick(values, keep));
    }

    private static string Format(object value) => value is ByteString b ? b.ToStringUtf8() : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;

    private static HostTensor Pick(HostTensor tensor, List<int> indices)
    {
        if (tensor.Strings is { } strings)
        {
            return new HostTensor([indices.Count], indices.Select(i => strings[i]).ToArray());
        }

        var size = TfDataTypes.ElementSize(tensor.DType);
        var data = tensor.Data.Span;
        var result = new byte[indices.Count * size];
        for (var i = 0; i < indices.Count; i++)
        {
            data.Slice(indices[i] * size, size).CopyTo(result.AsSpan(i * size));
        }

        return new HostTensor(tensor.DType, [indices.Count], result);
    }
}
