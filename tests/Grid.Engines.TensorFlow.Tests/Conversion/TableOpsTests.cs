using Google.Protobuf;
using Grid.Serving;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>Lookup tables filled from constants, converted to ONNX and run on ONNX Runtime.</summary>
public sealed class TableOpsTests
{
    private static string ConstStrings(TestGraph g, string name, params string[] values)
    {
        var tensor = new TensorProto { Dtype = DataType.DtString, TensorShape = ShapeProto(values.Length == 1 && name.EndsWith("default") ? [] : [values.Length]) };
        tensor.StringVal.AddRange(values.Select(ByteString.CopyFromUtf8));
        return g.Node("Const", name, [], ("dtype", Type(DataType.DtString)), ("value", new AttrValue { Tensor = tensor }));
    }

    /// <summary>keys → table → LookupTableFindV2 with a default; the table is filled by <paramref name="initOp"/> from the given constants.</summary>
    private static TestGraph Lookup(DataType keyType, DataType valueType, Action<TestGraph> constants, string initOp = "InitializeTableV2", string tableOp = "HashTableV2")
    {
        var g = new TestGraph();
        g.Input("keys", keyType, [-1]);
        g.Node(tableOp, "table", [], ("key_dtype", Type(keyType)), ("value_dtype", Type(valueType)));
        constants(g);
        g.Node(initOp, "table/init", ["table", "table/keys", "table/values"]);
        g.Node(tableOp == "HashTable" ? "LookupTableFind" : "LookupTableFindV2", "lookup", ["table", "keys", "table/default"],
            ("Tin", Type(keyType)), ("Tout", Type(valueType)));
        g.Output("values", "lookup", valueType, [-1]);
        return g;
    }

    private static string[] RunStrings(Grid.Engines.TensorFlow.Conversion.OnnxConversion conversion, NamedOnnxValue input)
    {
        using var session = new InferenceSession(conversion.Model);
        using var results = session.Run([input]);
        return results.Single().AsTensor<string>().ToArray();
    }

    [Theory]
    [InlineData("HashTableV2", "InitializeTableV2")]
    [InlineData("HashTable", "InitializeTable")]
    [InlineData("HashTableV2", "LookupTableImportV2")]
    public void Convert_Int64ToStringTable_MapsKeysAndGivesTheDefaultForOthers(string tableOp, string initOp)
    {
        var g = Lookup(DataType.DtInt64, DataType.DtString, g =>
        {
            g.ConstLong("table/keys", [3, 1, 7], 3);
            ConstStrings(g, "table/values", "three", "one", "seven");
            ConstStrings(g, "table/default", "UNK");
        }, initOp, tableOp);

        var values = RunStrings(g.Convert(), OnnxRun.Input("keys", new long[] { 7, 2, 1, 3, -1 }, 5));

        Assert.Equal(new[] { "seven", "UNK", "one", "three", "UNK" }, values);
    }

    [Fact]
    public void Convert_TableWithComputedConstantKeys_FoldsCastOfRange()
    {
        // tf1_mnist_softmax's index_to_string: keys = Cast(Range(0, 3, 1)) to int64.
        var g = Lookup(DataType.DtInt64, DataType.DtString, g =>
        {
            g.ConstInt("start", [0]);
            g.ConstInt("limit", [3]);
            g.ConstInt("delta", [1]);
            g.Node("Range", "range", ["start", "limit", "delta"], ("Tidx", Type(DataType.DtInt32)));
            g.Node("Cast", "table/keys", ["range"], ("SrcT", Type(DataType.DtInt32)), ("DstT", Type(DataType.DtInt64)));
            ConstStrings(g, "table/values", "zero", "one", "two");
            ConstStrings(g, "table/default", "UNK");
        });

        var values = RunStrings(g.Convert(), OnnxRun.Input("keys", new long[] { 2, 0, 3 }, 3));

        Assert.Equal(new[] { "two", "zero", "UNK" }, values);
    }

    [Fact]
    public void Convert_StringToInt64Table_MapsKeysAndGivesTheDefaultForOthers()
    {
        var g = Lookup(DataType.DtString, DataType.DtInt64, g =>
        {
            ConstStrings(g, "table/keys", "a", "b", "c");
            g.ConstLong("table/values", [10, 20, 30], 3);
            g.ConstLong("table/default", [-1]);
        });

        using var session = new InferenceSession(g.Convert().Model);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("keys", new DenseTensor<string>(new[] { "c", "z", "a" }, [3]))]);

        Assert.Equal(new long[] { 30, -1, 10 }, results.Single().AsTensor<long>().ToArray());
    }

    [Fact]
    public void Convert_TableWithoutInitializer_FailsNamingTheTable()
    {
        var g = new TestGraph();
        g.Input("keys", DataType.DtInt64, [-1]);
        g.Node("HashTableV2", "table", [], ("key_dtype", Type(DataType.DtInt64)), ("value_dtype", Type(DataType.DtString)));
        ConstStrings(g, "table/default", "UNK");
        g.Node("LookupTableFindV2", "lookup", ["table", "keys", "table/default"]);
        g.Output("values", "lookup", DataType.DtString, [-1]);

        var error = Assert.Throws<ServingException>(() => g.Convert());

        Assert.Equal(ServingStatusCode.Unimplemented, error.Code);
        Assert.Contains("lookup table table (HashTableV2) has no initializer in the graph", error.Message);
    }

    [Fact]
    public void Convert_TableWithConflictingDuplicateKey_FailsAsTensorFlowDoes()
    {
        var g = Lookup(DataType.DtInt64, DataType.DtString, g =>
        {
            g.ConstLong("table/keys", [1, 1], 2);
            ConstStrings(g, "table/values", "one", "uno");
            ConstStrings(g, "table/default", "UNK");
        });

        var error = Assert.Throws<ServingException>(() => g.Convert());

        Assert.Equal("HashTable has different value for same key. Key 1 has one and trying to add value uno", error.Message);
    }

    [Fact]
    public void Convert_GraphThatAssignsAVariable_IsRefusedAsStateful()
    {
        var g = new TestGraph();
        g.Input("delta", DataType.DtFloat, []);
        g.Node("VariableV2", "counter", [], ("dtype", Type(DataType.DtFloat)), ("shape", Shape([])));
        g.Node("AssignAdd", "incr", ["counter", "delta"], ("T", Type(DataType.DtFloat)));
        g.Output("output", "incr", DataType.DtFloat, []);

        var error = Assert.Throws<ServingException>(() => g.Convert(new TestVariables().Add("counter", [0f])));

        Assert.Equal("the graph is stateful (AssignAdd (node incr)): Grid serves only stateless graphs", error.Message);
    }
}
