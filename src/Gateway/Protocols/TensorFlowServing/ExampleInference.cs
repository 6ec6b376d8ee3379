using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Grid.Tensors;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Gateway.Protocols.TensorFlowServing;

/// <summary>TF Serving's two tf.Example APIs.</summary>
public enum ExampleMethod
{
    Classify,
    Regress,
}

/// <summary>
/// What one Classify or Regress task runs: its signature, the input that receives the serialized
/// examples and the outputs it reads. Built by <see cref="ExampleInference.Prepare"/>, which has
/// already checked the signature the way TF Serving does.
/// </summary>
public sealed record ExampleTask(
    string SignatureName,
    ModelSignature Signature,
    ExampleMethod Method,
    TensorSpec Input,
    TensorSpec? Classes,
    TensorSpec? Scores,
    TensorSpec? Outputs)
{
    /// <summary>The aliases the task reads, in TF Serving's order (classes before scores).</summary>
    public string[] OutputAliases => Method == ExampleMethod.Regress
        ? [Outputs!.Alias]
        : [.. new[] { Classes, Scores }.Where(s => s is not null).Select(s => s!.Alias)];

    /// <summary>The Predict request that runs this task over <paramref name="examples"/>.</summary>
    public InferenceRequest ToRequest(TensorData examples) => new(SignatureName, [new NamedTensor(Input.Alias, examples)], OutputAliases);
}

/// <summary>
/// TF Serving's Classify, Regress and MultiInference semantics (servables/tensorflow/classifier.cc,
/// regressor.cc, multi_inference.cc, util.cc), shared by the gRPC and REST adapters: the
/// serialized-example input tensor, the signature checks, and the conversion of a signature's
/// outputs into results, with TF Serving's error texts and codes. Pure and thread-safe; the
/// actual run goes through the same routing, batching and replicas as Predict.
/// </summary>
public static class ExampleInference
{
    public const string ClassifyMethodName = "tensorflow/serving/classify";
    public const string RegressMethodName = "tensorflow/serving/regress";
    public const string InputsAlias = "inputs";
    public const string ClassesAlias = "classes";
    public const string ScoresAlias = "scores";
    public const string OutputsAlias = "outputs";

    /// <summary>
    /// The DT_STRING [n] tensor of serialized examples a task is fed. With a context, each
    /// element is the serialized context followed by the serialized example, exactly as TF
    /// Serving builds it: parsing such bytes merges the two, and wherever a feature is in both
    /// the example's value wins. INVALID_ARGUMENT <c>Input is empty.</c> without examples.
    /// </summary>
    public static TensorData SerializeExamples(Input? input)
    {
        var serialized = new List<byte[]>();
        switch (input?.KindCase)
        {
            case Input.KindOneofCase.ExampleList:
                foreach (var example in input.ExampleList.Examples)
                {
                    serialized.Add(example.ToByteArray());
                }
                break;
            case Input.KindOneofCase.ExampleListWithContext:
                var context = input.ExampleListWithContext.Context?.ToByteArray() ?? [];
                foreach (var example in input.ExampleListWithContext.Examples)
                {
                    serialized.Add([.. context, .. example.ToByteArray()]);
                }
                break;
        }
        if (serialized.Count == 0)
        {
            throw ServingException.InvalidArgument("Input is empty.");
        }
        return TensorData.FromStrings([serialized.Count], serialized);
    }

    /// <summary>The signature a Classify/Regress request names (empty means <c>serving_default</c>).</summary>
    public static (string Name, ModelSignature Signature) FindSignature(IReadOnlyList<ModelSignature> signatures, string? requested)
    {
        var name = string.IsNullOrEmpty(requested) ? ModelSignature.DefaultKey : requested;
        foreach (var s in signatures)
        {
            if (s.Key == name)
            {
                return (name, s);
            }
        }
        throw ServingException.InvalidArgument($"No signature was found with the name: {name}");
    }

    /// <summary>
    /// TF Serving's PreProcessClassification / PreProcessRegression. With
    /// <paramref name="checkMethodName"/> (TF Serving's <c>--enable_signature_method_name_check</c>)
    /// a signature whose method_name is not the API's is refused first; without it, as in TF
    /// Serving by default, any signature shaped like a classifier or regressor is accepted
    /// (native TF2 SavedModels mark every signature predict).
    /// </summary>
    public static ExampleTask Prepare(string signatureName, ModelSignature signature, ExampleMethod method, bool checkMethodName)
    {
        var (kind, methodName) = method == ExampleMethod.Classify ? ("classification", ClassifyMethodName) : ("regression", RegressMethodName);
        if (checkMethodName && signature.MethodName != methodName)
        {
            throw ServingException.InvalidArgument($"Expected {kind} signature method_name to be {methodName}. Was: {signature.MethodName}");
        }
        if (signature.Inputs.Length != 1)
        {
            throw ServingException.InvalidArgument("Expected one input Tensor.");
        }
        if (method == ExampleMethod.Classify && signature.Outputs.Length is not (1 or 2))
        {
            throw ServingException.InvalidArgument($"Expected one or two output Tensors, found {signature.Outputs.Length}");
        }
        if (method == ExampleMethod.Regress && signature.Outputs.Length != 1)
        {
            throw ServingException.InvalidArgument("Expected one output Tensor.");
        }
        var input = signature.FindInput(InputsAlias)
            ?? throw ServingException.InvalidArgument($"No {kind} inputs found in SignatureDef: {DebugString(signature)}");
        if (method == ExampleMethod.Regress)
        {
            var outputs = signature.FindOutput(OutputsAlias)
                ?? throw ServingException.InvalidArgument($"No regression outputs found in SignatureDef: {DebugString(signature)}");
            return new ExampleTask(signatureName, signature, method, input, null, null, outputs);
        }
        var classes = signature.FindOutput(ClassesAlias);
        var scores = signature.FindOutput(ScoresAlias);
        if (classes is null && scores is null)
        {
            throw ServingException.InvalidArgument(
                $"Expected classification signature outputs to contain at least one of \"{ClassesAlias}\" or \"{ScoresAlias}\". Signature was: {DebugString(signature)}");
        }
        return new ExampleTask(signatureName, signature, method, input, classes, scores, null);
    }

    /// <summary>TF Serving's PostProcessClassificationResult: classes DT_STRING and scores DT_FLOAT, both [batch, k].</summary>
    public static ClassificationResult ToClassificationResult(ExampleTask task, long examples, IReadOnlyList<NamedTensor> outputs)
    {
        var classes = task.Classes is null ? null : Find(outputs, task.Classes.Alias);
        var scores = task.Scores is null ? null : Find(outputs, task.Scores.Alias);
        if (classes is not null)
        {
            CheckClassificationOutput(classes, TensorDType.String, "classes", "DT_STRING", examples);
        }
        if (scores is not null)
        {
            CheckClassificationOutput(scores, TensorDType.Float, "scores", "DT_FLOAT", examples);
        }
        long numClasses = 0;
        if (classes is not null && scores is not null)
        {
            if (classes.Shape[1] != scores.Shape[1])
            {
                throw ServingException.InvalidArgument(
                    $"Tensors class and score should match in dim_size(1). Got {classes.Shape[1]} vs. {scores.Shape[1]}");
            }
            numClasses = classes.Shape[1];
        }
        else if (classes is not null)
        {
            numClasses = classes.Shape[1];
        }
        else if (scores is not null)
        {
            numClasses = scores.Shape[1];
        }
        var labels = classes?.ReadStrings();
        var values = scores is null ? default : scores.AsSpan<float>();
        var result = new ClassificationResult();
        for (var i = 0; i < examples; i++)
        {
            var classifications = new Classifications();
            for (var c = 0; c < numClasses; c++)
            {
                var item = new Class();
                var at = (int)(i * numClasses + c);
                if (labels is not null)
                {
                    item.Label = Encoding.UTF8.GetString(labels[at].Span);
                }
                if (scores is not null)
                {
                    item.Score = values[at];
                }
                classifications.Classes.Add(item);
            }
            result.Classifications.Add(classifications);
        }
        return result;
    }

    private static void CheckClassificationOutput(TensorData tensor, TensorDType dtype, string name, string dtypeName, long examples)
    {
        if (tensor.Shape.Length != 2)
        {
            throw ServingException.InvalidArgument($"Expected Tensor shape: [batch_size num_classes] but got {TensorData.FormatShape(tensor.Shape)}");
        }
        if (tensor.DType != dtype)
        {
            throw ServingException.InvalidArgument($"Expected {name} Tensor of {dtypeName}. Got: {tensor.DType.TfName()}");
        }
        if (tensor.Shape[0] != examples)
        {
            throw ServingException.InvalidArgument($"Expected {name} output batch size of {examples}. Got: {tensor.Shape[0]}");
        }
    }

    /// <summary>TF Serving's PostProcessRegressionResult: one float per example, [batch] or [batch, 1].</summary>
    public static RegressionResult ToRegressionResult(ExampleTask task, long examples, IReadOnlyList<NamedTensor> outputs)
    {
        var output = Find(outputs, task.Outputs!.Alias)
            ?? throw ServingException.InvalidArgument($"Could not find output tensor '{task.Outputs.TensorName}'");
        var shape = output.Shape;
        if (!(shape.Length == 1 || (shape.Length == 2 && shape[1] == 1)))
        {
            throw ServingException.InvalidArgument(
                $"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got {TensorData.FormatShape(shape)}");
        }
        if (examples != shape[0])
        {
            throw ServingException.InvalidArgument($"Input batch size did not match output batch size: {examples} vs. {shape[0]}");
        }
        if (output.DType != TensorDType.Float)
        {
            throw ServingException.InvalidArgument($"Expected output Tensor of DT_FLOAT.  Got: {output.DType.TfName()}");
        }
        if (output.ElementCount != examples)
        {
            throw ServingException.InvalidArgument($"Expected output batch size to be {examples}.  Got: {output.ElementCount}");
        }
        var result = new RegressionResult();
        foreach (var v in output.AsSpan<float>())
        {
            result.Regressions.Add(new Regression { Value = v });
        }
        return result;
    }

    private static TensorData? Find(IReadOnlyList<NamedTensor> outputs, string alias)
    {
        foreach (var o in outputs)
        {
            if (o.Name == alias)
            {
                return o.Tensor;
            }
        }
        return null;
    }

    /// <summary>
    /// The checks TF Serving's MultiInference runner makes before it runs anything: one model,
    /// distinct signatures, only classify and regress, and one shared input tensor. Returns the
    /// tasks in request order.
    /// </summary>
    public static ExampleTask[] PrepareMulti(IReadOnlyList<InferenceTask> tasks, IReadOnlyList<ModelSignature> signatures, bool checkMethodName)
    {
        string? model = null;
        string? inputTensor = null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var prepared = new ExampleTask[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            var spec = task.ModelSpec ?? new ModelSpec();
            if (string.IsNullOrEmpty(spec.Name))
            {
                throw ServingException.InvalidArgument("Found ModelSpec with an empty model name.");
            }
            if (model is null)
            {
                model = spec.Name;
            }
            else if (model != spec.Name)
            {
                throw ServingException.InvalidArgument("All ModelSpecs in a MultiInferenceRequest must access the same model name.");
            }
            var name = string.IsNullOrEmpty(spec.SignatureName) ? ModelSignature.DefaultKey : spec.SignatureName;
            if (!names.Add(name))
            {
                throw ServingException.InvalidArgument($"Duplicate evaluation of signature: {name}");
            }
            var signature = signatures.FirstOrDefault(s => s.Key == name)
                ?? throw ServingException.InvalidArgument($"Requested signature not found in model graph: {name}");
            var method = task.MethodName switch
            {
                ClassifyMethodName => ExampleMethod.Classify,
                RegressMethodName => ExampleMethod.Regress,
                _ => throw new ServingException(ServingStatusCode.Unimplemented, $"Unsupported signature method_name: {task.MethodName}"),
            };
            prepared[i] = Prepare(name, signature, method, checkMethodName);
            if (inputTensor is null)
            {
                inputTensor = prepared[i].Input.TensorName;
            }
            else if (inputTensor != prepared[i].Input.TensorName)
            {
                throw ServingException.InvalidArgument("Input tensor must be the same for all Signatures.");
            }
        }
        return prepared;
    }

    /// <summary>
    /// A signature as TensorFlow's <c>SignatureDef::DebugString()</c> prints it (protobuf text
    /// format, map entries sorted by key), for the messages that quote the signature.
    /// </summary>
    public static string DebugString(ModelSignature signature)
    {
        var sb = new StringBuilder();
        AppendMap(sb, "inputs", signature.Inputs);
        AppendMap(sb, "outputs", signature.Outputs);
        if (!string.IsNullOrEmpty(signature.MethodName))
        {
            sb.Append("method_name: \"").Append(Escape(signature.MethodName)).Append("\"\n");
        }
        return sb.ToString();
    }

    private static void AppendMap(StringBuilder sb, string field, IEnumerable<TensorSpec> specs)
    {
        foreach (var spec in specs.OrderBy(s => s.Alias, StringComparer.Ordinal))
        {
            sb.Append(field).Append(" {\n");
            sb.Append("  key: \"").Append(Escape(spec.Alias)).Append("\"\n");
            sb.Append("  value {\n");
            if (!string.IsNullOrEmpty(spec.TensorName))
            {
                sb.Append("    name: \"").Append(Escape(spec.TensorName)).Append("\"\n");
            }
            if (spec.DType != TensorDType.Invalid)
            {
                sb.Append("    dtype: ").Append(spec.DType.TfName()).Append('\n');
            }
            sb.Append("    tensor_shape {\n");
            if (spec.Shape is null)
            {
                sb.Append("      unknown_rank: true\n");
            }
            else
            {
                foreach (var d in spec.Shape)
                {
                    sb.Append("      dim {\n        size: ").Append(d.ToString(CultureInfo.InvariantCulture)).Append("\n      }\n");
                }
            }
            sb.Append("    }\n");
            sb.Append("  }\n");
            sb.Append("}\n");
        }
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            switch (b)
            {
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\'': sb.Append("\\'"); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                case >= 0x20 and < 0x7F: sb.Append((char)b); break;
                default: sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0')); break;
            }
        }
        return sb.ToString();
    }
}
