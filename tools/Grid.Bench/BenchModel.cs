namespace Grid.Bench;

/// <summary>
/// A model the benchmark knows how to drive: where its version directory lives under the
/// examples (or, for an imported TensorFlow SavedModel, under the SavedModels directory), its
/// float input (batch dimension first, then <see cref="Dims"/>) and its output. Its TorchScript
/// twin (same signature and weights), where there is one, lives at <c>NAME_torch/VERSION</c>.
/// </summary>
public sealed record BenchModel(string Name, long Version, string Input, long[] Dims, string Output, double DefaultRate)
{
    /// <summary>
    /// True for a TensorFlow SavedModel that grid serves through its importer; raw <c>onnx</c> and
    /// <c>minimal</c> then run the graph <c>grid convert</c> makes of it.
    /// </summary>
    public bool SavedModel { get; init; }

    /// <summary>The real Fashion-MNIST CNN SavedModel (TensorFlow 2.0), imported: conv, pool, dense.</summary>
    public static readonly BenchModel FashionCnn = new("fashion_cnn", 1, "conv2d_input", [28, 28, 1], "dense_1", DefaultRate: 200) { SavedModel = true };

    /// <summary>MLP 784-256-10 on Fashion-MNIST images: overhead-bound.</summary>
    public static readonly BenchModel Fashion = new("fashion", 2, "images", [784], "scores", DefaultRate: 500);

    /// <summary>A small convolutional net on 3×64×64 images: compute-bound.</summary>
    public static readonly BenchModel Convnet = new("convnet", 1, "images", [3, 64, 64], "scores", DefaultRate: 50);

    public static readonly IReadOnlyList<BenchModel> All = [Fashion, Convnet, FashionCnn];

    /// <summary>The models a run drives when <c>--models</c> is not given.</summary>
    public static readonly IReadOnlyList<BenchModel> Defaults = [Fashion, Convnet];

    /// <summary>Where the model is copied from: the examples, or the SavedModels directory for an imported model.</summary>
    public string SourceDirectory(string examples, string savedModels) =>
        SavedModel ? Path.Combine(savedModels, Name, Version.ToString(System.Globalization.CultureInfo.InvariantCulture)) : VersionDirectory(examples);

    /// <summary>The file that must exist in <see cref="SourceDirectory"/>.</summary>
    public string SourceModelFile(string examples, string savedModels) =>
        Path.Combine(SourceDirectory(examples, savedModels), SavedModel ? "saved_model.pb" : "model.onnx");

    public static BenchModel? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>The version directory under an examples repository, e.g. <c>examples/models/fashion/2</c>.</summary>
    public string VersionDirectory(string examples) => Path.Combine(examples, Name, Version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string ModelFile(string examples) => Path.Combine(VersionDirectory(examples), "model.onnx");

    /// <summary>The TorchScript twin's name under the examples, e.g. <c>fashion_torch</c>.</summary>
    public string TorchName => Name + "_torch";

    /// <summary>The twin's version directory, e.g. <c>examples/models/fashion_torch/2</c> (model.pt and signature.json).</summary>
    public string TorchVersionDirectory(string examples) => Path.Combine(examples, TorchName, Version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string TorchModelFile(string examples) => Path.Combine(TorchVersionDirectory(examples), "model.pt");
}
