namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// The one table of supported TensorFlow ops: op type → converter. Each op family registers its
/// converters here; an op missing from the table makes a conversion fail (nothing partial).
/// </summary>
internal static class OpRegistry
{
    private static readonly Dictionary<string, OpConverter> Converters = Build();

    public static bool TryGet(string op, out OpConverter converter) => Converters.TryGetValue(op, out converter!);

    public static bool IsSupported(string op) => Converters.ContainsKey(op);

    /// <summary>Every supported op type, sorted.</summary>
    public static IReadOnlyList<string> SupportedOps => Converters.Keys.Order(StringComparer.Ordinal).ToArray();

    private static Dictionary<string, OpConverter> Build()
    {
        var table = new Dictionary<string, OpConverter>(StringComparer.Ordinal);
        GraphOps.Register(table);
        ElementwiseOps.Register(table);
        ActivationOps.Register(table);
        MatrixOps.Register(table);
        ConvolutionOps.Register(table);
        PoolingOps.Register(table);
        NormalizationOps.Register(table);
        ShapeOps.Register(table);
        ArrayOps.Register(table);
        SliceOps.Register(table);
        ReductionOps.Register(table);
        ImageOps.Register(table);
        LoopOps.Register(table);
        ConditionalOps.Register(table);
        TensorListOps.Register(table);
        TableOps.Register(table);
        return table;
    }
}
