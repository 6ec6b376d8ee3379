using Grid.Engines.TensorFlow.Conversion.OnnxModel;
using Tensorflow;

namespace Grid.Engines.TensorFlow.Conversion.Ops;

/// <summary>
/// Element-wise arithmetic, comparison and logic with NumPy broadcasting (TensorFlow's and
/// ONNX's rules agree), plus Cast, BiasAdd, Select/SelectV2, AddN and ZerosLike/OnesLike.
/// Integer <c>FloorDiv</c>/<c>FloorMod</c> keep TensorFlow's rounding toward negative infinity.
/// </summary>
internal static class ElementwiseOps
{
    private static readonly Dictionary<string, string> Binary = new(StringComparer.Ordinal)
    {
        ["Add"] = "Add", ["AddV2"] = "Add", ["Sub"] = "Sub", ["Mul"] = "Mul",
        ["RealDiv"] = "Div", ["Div"] = "Div", ["Maximum"] = "Max", ["Minimum"] = "Min", ["Pow"] = "Pow",
    };

    private static readonly Dictionary<string, string> Comparison = new(StringComparer.Ordinal)
    {
        ["Equal"] = "Equal", ["Less"] = "Less", ["LessEqual"] = "LessOrEqual",
        ["Greater"] = "Greater", ["GreaterEqual"] = "GreaterOrEqual",
        ["LogicalAnd"] = "And", ["LogicalOr"] = "Or",
    };

    private static readonly Dictionary<string, string> Unary = new(StringComparer.Ordinal)
    {
        ["Neg"] = "Neg", ["Abs"] = "Abs", ["Exp"] = "Exp", ["Log"] = "Log", ["Sqrt"] = "Sqrt",
        ["Reciprocal"] = "Reciprocal", ["Inv"] = "Reciprocal", ["Floor"] = "Floor", ["Ceil"] = "Ceil",
        ["Round"] = "Round", ["Sign"] = "Sign", ["Sin"] = "Sin", ["Cos"] = "Cos", ["Erf"] = "Erf",
        ["LogicalNot"] = "Not", ["IsNan"] = "IsNaN",
    };

    public static void Register(IDictionary<string, OpConverter> table)
    {
        foreach (var (tf, onnx) in Binary)
        {
            table[tf] = op => BinaryOp(op, onnx, op.Input(0).DType);
        }

        foreach (var (tf, onnx) in Comparison)
        {
            table[tf] = op => BinaryOp(op, onnx, DataType.DtBool);
        }

        foreach (var (tf, onnx) in Unary)
        {
            table[tf] = op => OpContext.One(op.Add(onnx, [op.Name(0)]), onnx is "IsNaN" ? DataType.DtBool : op.Input(0).DType, op.Input(0).Dims);
        }

        table["NotEqual"] = op => OpContext.One(
            op.Add("Not", [op.Graph.Builder.AddNode("Equal", [op.Name(0), op.Name(1)], op.Node.Name + "_eq")]),
            DataType.DtBool, StaticShapes.Broadcast(op.Input(0).Dims, op.Input(1).Dims));
        table["Rsqrt"] = op => OpContext.One(
            op.Add("Reciprocal", [op.Graph.Builder.AddNode("Sqrt", [op.Name(0)], op.Node.Name + "_sqrt")]), op.Input(0).DType, op.Input(0).Dims);
        table["Square"] = op => OpContext.One(op.Add("Mul", [op.Name(0), op.Name(0)]), op.Input(0).DType, op.Input(0).Dims);
        table["SquaredDifference"] = op =>
        {
            var difference = op.Graph.Builder.AddNode("Sub", [op.Name(0), op.Name(1)], op.Node.Name + "_diff");
            return OpContext.One(op.Add("Mul", [difference, difference]), op.Input(0).DType, Broadcast(op));
        };
        table["Log1p"] = op => OpContext.One(
            op.Add("Log", [op.Graph.Builder.AddNode("Add", [op.Name(0), op.Graph.Scalar(op.Input(0).DType, 1)], op.Node.Name + "_plus1")]),
            op.Input(0).DType, op.Input(0).Dims);
        table["FloorDiv"] = FloorDiv;
        table["FloorMod"] = FloorMod;
        table["Cast"] = Cast;
        table["BiasAdd"] = BiasAdd;
        table["BiasAddV1"] = BiasAdd;
        table["SelectV2"] = op => OpContext.One(op.Add("Where", [op.Name(0), op.Name(1), op.Name(2)]), op.Input(1).DType,
            StaticShapes.Broadcast(op.Input(0).Dims, StaticShapes.Broadcast(op.Input(1).Dims, op.Input(2).Dims)));
        table["Select"] = Select;
        table["AddN"] = op => OpContext.One(op.Add("Sum", op.Inputs.Select(op.Graph.Name)), op.Input(0).DType, op.Input(0).Dims);
        table["ClipByValue"] = op =>
        {
            var upper = op.Graph.Builder.AddNode("Min", [op.Name(0), op.Name(2)], op.Node.Name + "_upper");
            return OpContext.One(op.Add("Max", [upper, op.Name(1)]), op.Input(0).DType, op.Input(0).Dims);
        };
        table["ZerosLike"] = op => FilledLike(op, 0);
        table["OnesLike"] = op => FilledLike(op, 1);
    }

    private static IReadOnlyList<long>? Broadcast(OpContext op) => StaticShapes.Broadcast(op.Input(0).Dims, op.Input(1).Dims);

    private static IReadOnlyList<ConvertedTensor> BinaryOp(OpContext op, string onnx, DataType result)
        => OpContext.One(op.Add(onnx, [op.Name(0), op.Name(1)]), result, Broadcast(op));

    private static IReadOnlyList<ConvertedTensor> FloorDiv(OpContext op)
    {
        var dtype = op.Input(0).DType;
        var builder = op.Graph.Builder;
        if (TfDataTypes.IsFloat(dtype))
        {
            var quotient = builder.AddNode("Div", [op.Name(0), op.Name(1)], op.Node.Name + "_div");
            return OpContext.One(op.Add("Floor", [quotient]), dtype, Broadcast(op));
        }

        // Integers: a - floormod(a, b) is an exact multiple of b, so ONNX's truncating Div is exact.
        var remainder = builder.AddNode("Mod", [op.Name(0), op.Name(1)], op.Node.Name + "_mod", OnnxAttributes.Int("fmod", 0));
        var multiple = builder.AddNode("Sub", [op.Name(0), remainder], op.Node.Name + "_multiple");
        return OpContext.One(op.Add("Div", [multiple, op.Name(1)]), dtype, Broadcast(op));
    }

    private static IReadOnlyList<ConvertedTensor> FloorMod(OpContext op)
    {
        var dtype = op.Input(0).DType;
        if (!TfDataTypes.IsFloat(dtype))
        {
            // ONNX integer Mod with fmod=0 takes the divisor's sign, as TensorFlow's FloorMod does.
            return OpContext.One(op.Add("Mod", [op.Name(0), op.Name(1)], OnnxAttributes.Int("fmod", 0)), dtype, Broadcast(op));
        }

        // Floats: a - floor(a / b) * b (ONNX float Mod is C fmod, whose sign follows the dividend).
        var builder = op.Graph.Builder;
        var quotient = builder.AddNode("Floor", [builder.AddNode("Div", [op.Name(0), op.Name(1)], op.Node.Name + "_div")], op.Node.Name + "_floor");
        var product = builder.AddNode("Mul", [quotient, op.Name(1)], op.Node.Name + "_times");
        return OpContext.One(op.Add("Sub", [op.Name(0), product]), dtype, Broadcast(op));
    }

    private static IReadOnlyList<ConvertedTensor> Cast(OpContext op)
    {
        var target = TfDataTypes.BaseType(op.Node.Type("DstT"));
        var input = op.Input(0);
        if (input.DType == target)
        {
            return [input];
        }

        if (input.Constant is { } constant && TfDataTypes.IsInteger(constant.DType) && target is DataType.DtInt32 or DataType.DtInt64)
        {
            return [ConvertedTensor.Const(constant.CastTo(target))];
        }

        return OpContext.One(op.Graph.Cast(op.Name(0), target, op.Node.Name), target, input.Dims);
    }

    private static IReadOnlyList<ConvertedTensor> BiasAdd(OpContext op)
    {
        var input = op.Input(0);
        var format = op.Node.Op == "BiasAddV1" ? "NHWC" : op.Node.String("data_format");
        if (format == "NHWC")
        {
            return OpContext.One(op.Add("Add", [op.Name(0), op.Name(1)]), input.DType, input.Dims);
        }

        // NCHW (or NCDHW): the bias runs along axis 1, so it gets rank-2 trailing unit axes.
        var rank = input.Rank ?? throw op.Unsupported("BiasAdd with data_format NCHW on an input of unknown rank");
        var axes = Enumerable.Range(1, rank - 2).Select(a => (long)a).ToArray();
        var bias = op.Graph.Builder.AddNode("Unsqueeze", [op.Name(1), op.Graph.Int64(axes)], op.Node.Name + "_bias");
        return OpContext.One(op.Add("Add", [op.Name(0), bias]), input.DType, input.Dims);
    }

    private static IReadOnlyList<ConvertedTensor> Select(OpContext op)
    {
        var condition = op.Input(0);
        var then = op.Input(1);
        var dims = StaticShapes.Broadcast(then.Dims, op.Input(2).Dims);
        var conditionName = op.Name(0);
        if (condition.Rank == 1 && then.Rank is > 1)
        {
            // TF1 Select: a vector condition picks whole rows of higher-rank operands.
            var axes = Enumerable.Range(1, then.Rank.Value - 1).Select(a => (long)a).ToArray();
            conditionName = op.Graph.Builder.AddNode("Unsqueeze", [conditionName, op.Graph.Int64(axes)], op.Node.Name + "_cond");
        }
        else if (condition.Rank is null || (condition.Rank != 0 && then.Rank is null))
        {
            throw op.Unsupported("Select whose condition and operands have unknown ranks");
        }

        return OpContext.One(op.Add("Where", [conditionName, op.Name(1), op.Name(2)]), then.DType, dims);
    }

    private static IReadOnlyList<ConvertedTensor> FilledLike(OpContext op, double value)
    {
        var input = op.Input(0);
        var shape = op.Graph.Builder.AddNode("Shape", [op.Name(0)], op.Node.Name + "_shape");
        return OpContext.One(op.Add("Expand", [op.Graph.Scalar(input.DType, value), shape]), input.DType, input.Dims);
    }
}
