using Grid.Models;
using Grid.Serving.Inference;
using Grid.Testing;

namespace Grid.Serving.Tests.Inference;

public sealed class ModelEngineSelectorTests : IDisposable
{
    private readonly TempDirectory _model = new();

    public void Dispose() => _model.Dispose();

    /// <summary>An engine that claims directories holding its file and records what it loaded.</summary>
    private sealed class FileEngine(string name, string file) : IModelEngine
    {
        public string Name => name;

        public List<string> Loaded { get; } = [];

        public bool CanLoad(string versionDirectory) => File.Exists(Path.Combine(versionDirectory, file));

        public IModelSession Load(string versionDirectory, ExecutionDevice device)
        {
            Loaded.Add(versionDirectory);
            return null!;
        }
    }

    private readonly FileEngine _onnx = new("onnxruntime_onnx", "model.onnx");
    private readonly FileEngine _torch = new("pytorch_libtorch", "model.pt");

    private string Version(params string[] files)
    {
        var dir = _model.Combine("1");
        Directory.CreateDirectory(dir);
        foreach (var f in files)
        {
            File.WriteAllBytes(Path.Combine(dir, f), [0]);
        }
        return dir;
    }

    [Theory]
    [InlineData("model.onnx", "onnxruntime_onnx")]
    [InlineData("model.pt", "pytorch_libtorch")]
    public void Choose_OneModelFile_PicksItsEngine(string file, string engine)
    {
        var selector = new ModelEngineSelector([_onnx, _torch]);

        Assert.Equal(engine, selector.Choose(Version(file)).Name);
    }

    [Fact]
    public void Choose_BothFilesAndADeclaredPlatform_PicksTheDeclaredEngine()
    {
        File.WriteAllText(_model.Combine("config.pbtxt"), "platform: \"pytorch_libtorch\"\n");
        var selector = new ModelEngineSelector([_onnx, _torch]);

        Assert.Equal("pytorch_libtorch", selector.Choose(Version("model.onnx", "model.pt")).Name);
    }

    [Fact]
    public void Choose_BothFilesAndNoPlatform_FailsNamingBothEngines()
    {
        var selector = new ModelEngineSelector([_onnx, _torch]);

        var error = Assert.Throws<ServingException>(() => selector.Choose(Version("model.onnx", "model.pt")));

        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.Contains("onnxruntime_onnx and pytorch_libtorch", error.Message);
    }

    [Fact]
    public void Load_NoModelFile_FailsWithNotFoundListingTheFiles()
    {
        var selector = new ModelEngineSelector([_onnx, _torch]);

        var error = Assert.Throws<ServingException>(() => selector.Load(Version("README.md")));

        Assert.Equal(ServingStatusCode.NotFound, error.Code);
        Assert.Contains("model.onnx, model.pt", error.Message);
        Assert.Empty(_onnx.Loaded);
    }
}
