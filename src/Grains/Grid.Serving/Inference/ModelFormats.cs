namespace Grid.Serving.Inference;

/// <summary>
/// One model format Grid serves: Triton's platform name (what <c>config.pbtxt</c>'s
/// <c>platform</c> says and what status reports), Triton's backend name (<c>backend</c>), and the
/// file that marks a version directory as holding a model of that format.
/// </summary>
public sealed record ModelFormat(string Platform, string Backend, string ModelFile);

/// <summary>
/// The one registry of model formats: the repository scanner, the <c>config.pbtxt</c> parser, the
/// engines and the engine selector all take names and files from here, so adding a format is one
/// line here plus its engine.
/// </summary>
public static class ModelFormats
{
    /// <summary>ONNX Runtime: <c>model.onnx</c>.</summary>
    public static readonly ModelFormat Onnx = new("onnxruntime_onnx", "onnxruntime", "model.onnx");

    /// <summary>libtorch: a TorchScript <c>model.pt</c> (with <c>signature.json</c>).</summary>
    public static readonly ModelFormat TorchScript = new("pytorch_libtorch", "pytorch", "model.pt");

    /// <summary>A TensorFlow SavedModel (<c>saved_model.pb</c> and <c>variables/</c>), imported to ONNX Runtime.</summary>
    public static readonly ModelFormat SavedModel = new("tensorflow_savedmodel", "tensorflow", "saved_model.pb");

    public static readonly IReadOnlyList<ModelFormat> All = [Onnx, TorchScript, SavedModel];

    /// <summary>Every file that makes a directory a loadable version.</summary>
    public static readonly IReadOnlySet<string> ModelFiles = All.Select(f => f.ModelFile).ToHashSet(StringComparer.Ordinal);

    public static ModelFormat? ByPlatform(string platform) => All.FirstOrDefault(f => f.Platform == platform);

    public static ModelFormat? ByBackend(string backend) => All.FirstOrDefault(f => f.Backend == backend);
}
