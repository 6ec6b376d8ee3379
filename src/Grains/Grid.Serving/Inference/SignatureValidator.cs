using Grid.Inference;
using Grid.Models;
using Grid.Tensors;

namespace Grid.Serving.Inference;

/// <summary>
/// Checks a Predict request against a version's signatures before it reaches the engine, so
/// bad input gets TF Serving's INVALID_ARGUMENT messages instead of an engine error. Pure.
/// </summary>
/// <summary>A validated request, ready for the engine.</summary>
/// <param name="RestoredUnitDimension">True when outputs must drop their trailing unit dimension.</param>
public sealed record PreparedRequest(IReadOnlyList<NamedTensor> Inputs, string[] OutputAliases, bool RestoredUnitDimension);

public static class SignatureValidator
{
    /// <summary>Finds the signature a request names; FAILED_PRECONDITION when it has none.</summary>
    public static ModelSignature ResolveSignature(IReadOnlyList<ModelSignature> signatures, string? name)
    {
        var key = string.IsNullOrEmpty(name) ? ModelSignature.DefaultKey : name;
        foreach (var s in signatures)
        {
            if (s.Key == key)
            {
                return s;
            }
        }
        throw ServingException.FailedPrecondition($"Serving signature key \"{key}\" not found.");
    }

    /// <summary>
    /// Validates a request and prepares what the engine runs: the inputs (possibly with a unit
    /// dimension restored, see <see cref="RestoreTrailingUnitDimension"/>) and the output aliases.
    /// </summary>
    public static PreparedRequest Prepare(ModelSignature signature, InferenceRequest request)
    {
        var (inputs, restored) = RestoreTrailingUnitDimension(signature, request.Inputs);
        ValidateInputs(signature, inputs);
        return new PreparedRequest(inputs, ResolveOutputs(signature, request.OutputFilter), restored);
    }

    /// <summary>
    /// TensorFlow does not enforce partially known placeholder shapes, so TF Serving accepts
    /// <c>{"instances": [1.0, 2.0]}</c> (shape [2]) for an input declared [-1,1] and answers
    /// with shape [2]. ONNX Runtime enforces ranks, so Grid restores the missing trailing unit
    /// dimension here; the caller then drops the trailing unit dimension of the outputs. Applies
    /// only when every input that differs is exactly one trailing 1 short of its signature.
    /// </summary>
    public static (IReadOnlyList<NamedTensor> Inputs, bool Restored) RestoreTrailingUnitDimension(ModelSignature signature, IReadOnlyList<NamedTensor> inputs)
    {
        NamedTensor[]? adjusted = null;
        for (var i = 0; i < inputs.Count; i++)
        {
            var spec = signature.FindInput(inputs[i].Name);
            var shape = inputs[i].Tensor.Shape;
            if (spec?.Shape is not { } expected || expected.Length != shape.Length + 1 || expected[^1] != 1 || shape.Length == 0)
            {
                continue;
            }
            if (!ShapeMatches(expected[..^1], shape))
            {
                continue;
            }
            adjusted ??= [.. inputs];
            adjusted[i] = inputs[i] with { Tensor = inputs[i].Tensor with { Shape = [.. shape, 1] } };
        }
        return adjusted is null ? (inputs, false) : (adjusted, true);
    }

    /// <summary>Undoes <see cref="RestoreTrailingUnitDimension"/> on an output.</summary>
    public static NamedTensor DropTrailingUnitDimension(NamedTensor output)
    {
        var shape = output.Tensor.Shape;
        return shape.Length >= 2 && shape[^1] == 1
            ? output with { Tensor = output.Tensor with { Shape = shape[..^1] } }
            : output;
    }

    public static void ValidateInputs(ModelSignature signature, IReadOnlyList<NamedTensor> inputs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (signature.FindInput(input.Name) is null)
            {
                throw ServingException.InvalidArgument(
                    $"input tensor alias not found in signature: {input.Name}. Inputs expected to be in the set {{{string.Join(",", signature.Inputs.Select(i => i.Alias))}}}.");
            }
            seen.Add(input.Name);
        }
        if (seen.Count != signature.Inputs.Length || seen.Count != inputs.Count)
        {
            var missing = signature.Inputs.Select(i => i.Alias).Where(a => !seen.Contains(a)).ToList();
            throw ServingException.InvalidArgument(
                $"input size does not match signature: {inputs.Count}!={signature.Inputs.Length} len({{{string.Join(",", inputs.Select(i => i.Name))}}}) != len({{{string.Join(",", signature.Inputs.Select(i => i.Alias))}}}). Missing but required: {{{string.Join(",", missing)}}}.");
        }
        for (var index = 0; index < signature.Inputs.Length; index++)
        {
            var spec = signature.Inputs[index];
            var tensor = inputs.First(i => i.Name == spec.Alias).Tensor;
            if (tensor.DType != spec.DType)
            {
                throw ServingException.InvalidArgument(
                    $"Expects arg[{index}] to be {spec.DType.ShortName()} but {tensor.DType.ShortName()} is provided");
            }
            ValidateEncoding(spec.Alias, tensor);
            if (spec.ValidationShape is { } expected && !ShapeMatches(expected, tensor.Shape))
            {
                throw ServingException.InvalidArgument(
                    $"Input '{spec.Alias}' has shape {TensorData.FormatShape(tensor.Shape)} but the signature requires {TensorData.FormatShape(expected)}");
            }
        }
    }

    /// <summary>Checks that the payload size agrees with the shape and dtype.</summary>
    public static void ValidateEncoding(string alias, TensorData tensor)
    {
        foreach (var d in tensor.Shape)
        {
            if (d < 0)
            {
                throw ServingException.InvalidArgument($"Input '{alias}' has negative dimension in shape {TensorData.FormatShape(tensor.Shape)}");
            }
        }
        var count = tensor.ElementCount;
        if (tensor.DType == TensorDType.String)
        {
            int actual;
            try
            {
                actual = tensor.ReadStrings().Count;
            }
            catch (FormatException e)
            {
                throw ServingException.InvalidArgument($"Input '{alias}': {e.Message}");
            }
            if (actual != count)
            {
                throw ServingException.InvalidArgument($"Input '{alias}' has {actual} strings but shape {TensorData.FormatShape(tensor.Shape)} needs {count}");
            }
            return;
        }
        var size = tensor.DType.ElementSize();
        if (size == 0)
        {
            throw ServingException.InvalidArgument($"Input '{alias}' has unsupported dtype {tensor.DType.TfName()}");
        }
        if (tensor.Data.LongLength != count * size)
        {
            throw ServingException.InvalidArgument(
                $"Input '{alias}' has {tensor.Data.LongLength} bytes but shape {TensorData.FormatShape(tensor.Shape)} of {tensor.DType.TfName()} needs {count * size}");
        }
    }

    public static bool ShapeMatches(IReadOnlyList<long> expected, IReadOnlyList<long> actual)
    {
        if (expected.Count != actual.Count)
        {
            return false;
        }
        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i] >= 0 && expected[i] != actual[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>TF Serving's output_filter rule: empty means every output; unknown or duplicate aliases are errors.</summary>
    public static string[] ResolveOutputs(ModelSignature signature, IReadOnlyList<string> filter)
    {
        if (filter.Count == 0)
        {
            return signature.Outputs.Select(o => o.Alias).ToArray();
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var alias in filter)
        {
            if (signature.FindOutput(alias) is null)
            {
                throw ServingException.InvalidArgument(
                    $"output tensor alias not found in signature: {alias} Outputs expected to be in the set {{{string.Join(",", signature.Outputs.Select(o => o.Alias))}}}.");
            }
            if (!seen.Add(alias))
            {
                throw ServingException.InvalidArgument($"duplicate output tensor alias: {alias}");
            }
        }
        return [.. filter];
    }
}
