using Microsoft.ML.OnnxRuntime;
using Tensorflow;
using static Grid.Engines.TensorFlow.Tests.Conversion.TestGraph;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>One-node graphs: inputs as signature Placeholders (or Consts), one op, one output.</summary>
internal static class OpTest
{
    /// <summary>Runs <paramref name="op"/> on float inputs fed at run time; returns the output of type <typeparamref name="T"/>.</summary>
    public static (T[] Values, long[] Shape) Run<T>(string op, (float[] Values, int[] Shape)[] inputs, DataType outputType,
        params (string Name, AttrValue Value)[] attrs)
    {
        var g = new TestGraph();
        var feeds = new List<NamedOnnxValue>();
        for (var i = 0; i < inputs.Length; i++)
        {
            g.Input("in" + i, DataType.DtFloat, inputs[i].Shape.Select(d => (long)d).ToArray());
            feeds.Add(OnnxRun.Input("in" + i, inputs[i].Values, inputs[i].Shape));
        }

        g.Node(op, "op", Enumerable.Range(0, inputs.Length).Select(i => "in" + i), attrs);
        g.Output("y", "op", outputType);
        return OnnxRun.Single<T>(g.Convert(), [.. feeds]);
    }

    public static float[] Floats(string op, float[] input, params (string Name, AttrValue Value)[] attrs)
        => Run<float>(op, [(input, [input.Length])], DataType.DtFloat, attrs).Values;

    public static float[] Floats(string op, float[] a, float[] b, params (string Name, AttrValue Value)[] attrs)
        => Run<float>(op, [(a, [a.Length]), (b, [b.Length])], DataType.DtFloat, attrs).Values;
}
