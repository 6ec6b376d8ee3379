using System.Globalization;
using Grid.Bench.Results;

namespace Grid.Bench.Cli;

/// <summary>
/// The temporary model repositories a run serves: one per (engine, device) variant, each
/// holding only the benchmarked models under their plain names, so every client sends the same
/// requests whatever serves them.
/// <list type="bullet">
/// <item>ONNX Runtime on the CPU: <c>NAME/VERSION/model.onnx</c> copied from the examples, no
/// <c>config.pbtxt</c> (the repository every run served before engines could be chosen).</item>
/// <item>libtorch: the TorchScript twin (<c>NAME_torch/VERSION</c>: model.pt, signature.json)
/// copied to <c>NAME/VERSION</c>, with <c>NAME/config.pbtxt</c> declaring the platform and one
/// instance of kind KIND_CPU or KIND_GPU.</item>
/// </list>
/// </summary>
public static class BenchRepository
{
    public const string ConfigFile = "config.pbtxt";

    /// <summary>
    /// Copies the models for <paramref name="variant"/> from <paramref name="examples"/> (imported
    /// models from <paramref name="savedModels"/>, as SavedModels) into <paramref name="root"/>;
    /// returns <paramref name="root"/>.
    /// </summary>
    public static string Build(IReadOnlyList<BenchModel> models, string examples, string savedModels, string root, EngineVariant variant)
    {
        foreach (var model in models)
        {
            var torch = variant.Engine == BenchEngines.LibTorch;
            var source = torch ? model.TorchVersionDirectory(examples) : model.SourceDirectory(examples, savedModels);
            var target = model.VersionDirectory(root);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var dest = Path.Combine(target, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                File.Copy(file, dest);
            }
            if (ConfigText(model, variant) is { } config)
            {
                File.WriteAllText(Path.Combine(root, model.Name, ConfigFile), config);
            }
        }
        return root;
    }

    /// <summary>
    /// The model's config.pbtxt for <paramref name="variant"/>; null for ONNX Runtime on the
    /// CPU, which is served without one.
    /// </summary>
    public static string? ConfigText(BenchModel model, EngineVariant variant)
    {
        if (variant.IsDefault)
        {
            return null;
        }
        var kind = variant.Device == BenchDevices.Gpu ? "KIND_GPU" : "KIND_CPU";
        return string.Create(CultureInfo.InvariantCulture,
            $"name: \"{model.Name}\"\nplatform: \"{variant.Engine}\"\ninstance_group [ {{ count: 1 kind: {kind} }} ]\n");
    }

    /// <summary>The directory name of a variant's repository under the run's work folder: models (ONNX Runtime on the CPU), models-torch-gpu…</summary>
    /// <summary>
    /// The repository raw <c>onnx</c> and <c>minimal</c> run: <paramref name="repository"/> itself
    /// when every model is ONNX, else a copy in <paramref name="root"/> where each imported model is
    /// the ONNX graph the importer makes of its <c>serving_default</c> signature (what
    /// <c>grid convert</c> writes).
    /// </summary>
    public static string Converted(IReadOnlyList<BenchModel> models, string repository, string root)
    {
        if (!models.Any(m => m.SavedModel))
        {
            return repository;
        }
        foreach (var model in models)
        {
            var target = model.ModelFile(root);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (model.SavedModel)
            {
                var bundle = Grid.Engines.TensorFlow.SavedModel.SavedModelLoader.Load(model.VersionDirectory(repository));
                File.WriteAllBytes(target, Grid.Engines.TensorFlow.Conversion.SignatureConverter.Convert(bundle, Grid.Models.ModelSignature.DefaultKey).Model);
            }
            else
            {
                File.Copy(model.ModelFile(repository), target);
            }
        }
        return root;
    }

    public static string DirectoryName(EngineVariant variant) => variant.IsDefault ? "models" : $"models-{variant.Name}";
}
