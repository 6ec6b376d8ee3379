using Grid.Engines.TensorFlow.Conversion;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Grid.Engines.TensorFlow.Tests.Conversion;

/// <summary>Runs a converted model on ONNX Runtime.</summary>
internal static class OnnxRun
{
    /// <summary>Runs <paramref name="conversion"/> and returns each output (by signature key) as values and shape.</summary>
    public static Dictionary<string, (T[] Values, long[] Shape)> Run<T>(OnnxConversion conversion, params NamedOnnxValue[] inputs)
    {
        using var session = new InferenceSession(conversion.Model);
        using var results = session.Run(inputs);
        var byName = results.ToDictionary(r => r.Name);
        return conversion.Outputs.ToDictionary(
            o => o.Key,
            o =>
            {
                var tensor = byName[o.OnnxName].AsTensor<T>();
                return (tensor.ToArray(), tensor.Dimensions.ToArray().Select(d => (long)d).ToArray());
            });
    }

    /// <summary>Runs a model with one output and returns it.</summary>
    public static (T[] Values, long[] Shape) Single<T>(OnnxConversion conversion, params NamedOnnxValue[] inputs)
        => Run<T>(conversion, inputs).Single().Value;

    public static NamedOnnxValue Input<T>(string key, T[] values, params int[] shape)
        => NamedOnnxValue.CreateFromTensor(key, new DenseTensor<T>(values, shape));

    /// <summary>Asserts element-wise closeness with an absolute tolerance.</summary>
    public static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, float tolerance = 1e-5f)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance})");
        }
    }
}
