using Grid.Engines.TensorFlow.Conversion.OnnxModel;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Matrix products: MatMul (transpose_a/b), BatchMatMul V1–V3 (adj_x/adj_y transpose the last
/// two axes) and Einsum (TensorFlow's equations are valid ONNX Einsum equations). A constant
/// operand that must be transposed is transposed at conversion time.
/// </summary>
internal static class MatrixOps
{
    public static void Register(IDictionary<string, OpConverter> table)
    {
        table["MatMul"] = op => Product(op, "transpose_a", "transpose_b");
        table["BatchMatMul"] = op => Product(op, "adj_x", "adj_y");
        table["BatchMatMulV2"] = op => Product(op, "adj_x", "adj_y");
        table["BatchMatMulV3"] = op => Product(op, "adj_x", "adj_y");
        table["Einsum"] = op =>
        {
            var equation = op.Node.String("equation");
            var arrow = equation.IndexOf("->", StringComparison.Ordinal);
            var output = arrow < 0 ? null : equation[(arrow + 2)..].Trim();
            var dims = output is null || output.Contains('.') ? null : StaticShapes.OfRank(output.Count(char.IsLetter));
            return OpContext.One(op.Add("Einsum", op.Inputs.Select(op.Graph.Name), OnnxAttributes.String("equation", equation)),
                op.Input(0).DType, dims);
        };
    }

    private static IReadOnlyList<ConvertedTensor> Product(OpContext op, string transposeA, string transposeB)
    {
        var a = Operand(op, 0, op.Node.Bool(transposeA));
        var b = Operand(op, 1, op.Node.Bool(transposeB));
        IReadOnlyList<long>? dims = null;
        if (a.Dims is { Count: >= 2 } da && b.Dims is { Count: >= 2 } db)
        {
            var batch = StaticShapes.Broadcast(da.Take(da.Count - 2).ToArray(), db.Take(db.Count - 2).ToArray());
            dims = batch?.Append(da[^2]).Append(db[^1]).ToArray();
        }

        return OpContext.One(op.Add("MatMul", [op.Graph.Name(a), op.Graph.Name(b)]), op.Input(0).DType, dims);
    }

    /// <summary>Input <paramref name="index"/>, with its last two axes swapped when <paramref name="transpose"/>.</summary>
    private static ConvertedTensor Operand(OpContext op, int index, bool transpose)
    {
        var input = op.Input(index);
        if (!transpose)
        {
            return input;
        }

        var rank = input.Rank ?? throw op.Unsupported("a transposed matrix operand of unknown rank");
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
        if (input.Constant is { } constant)
        {
            return ConvertedTensor.Const(constant.Transpose(perm.Select(p => (int)p).ToArray()));
        }

        return ConvertedTensor.Value(op.Graph.Transpose(op.Name(index), perm, op.Node.Name + "_t" + index), input.DType, StaticShapes.Permute(input.Dims, perm));
    }
}
