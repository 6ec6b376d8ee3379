using Grid.Serving.Configuration;

namespace Grid.Serving.Inference;

/// <summary>
/// Chooses the engine for a version directory, as Triton does: by the model file it holds
/// (<c>model.onnx</c> → <c>onnxruntime_onnx</c>, <c>model.pt</c> → <c>pytorch_libtorch</c>), or,
/// when it holds more than one, by the <c>platform</c> declared in the model's
/// <c>config.pbtxt</c> (the version directory's parent). Each version chooses on its own, so a
/// model can hot-swap from an ONNX version to a TorchScript one.
/// </summary>
public sealed class ModelEngineSelector(IEnumerable<IModelEngine> engines) : IModelEngine
{
    private readonly IModelEngine[] _engines = [.. engines];

    public string Name => "auto";

    public bool CanLoad(string versionDirectory) => _engines.Any(e => e.CanLoad(versionDirectory));

    public bool SupportsCuda => _engines.Any(e => e.SupportsCuda);

    public IModelSession Load(string versionDirectory) => Load(versionDirectory, ExecutionDevice.Cpu);

    public IModelSession Load(string versionDirectory, ExecutionDevice device) => Choose(versionDirectory).Load(versionDirectory, device);

    public IModelEngine Resolve(string versionDirectory) => Choose(versionDirectory);

    public long EstimateDeviceBytes(string versionDirectory) => Choose(versionDirectory).EstimateDeviceBytes(versionDirectory);

    public IModelEngine Choose(string versionDirectory)
    {
        var candidates = _engines.Where(e => e.CanLoad(versionDirectory)).ToList();
        if (candidates.Count == 0)
        {
            throw ServingException.NotFound($"No model file found in {versionDirectory}; expected one of: {string.Join(", ", Repository.RepositoryScanner.ModelFileNames.Order())}");
        }
        if (candidates.Count == 1)
        {
            return candidates[0];
        }
        var platform = DeclaredPlatform(versionDirectory);
        return candidates.FirstOrDefault(e => e.Name == platform)
            ?? throw ServingException.FailedPrecondition(
                $"{versionDirectory} holds model files for {string.Join(" and ", candidates.Select(e => e.Name))}; declare one with platform in the model's {ModelConfig.FileName}");
    }

    private static string? DeclaredPlatform(string versionDirectory)
    {
        var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(versionDirectory).TrimEnd(Path.DirectorySeparatorChar))!, ModelConfig.FileName);
        try
        {
            return File.Exists(config) ? ModelConfigParser.Parse(File.ReadAllText(config)).Platform : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
