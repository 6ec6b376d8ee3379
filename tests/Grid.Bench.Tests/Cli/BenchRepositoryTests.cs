using Grid.Bench.Cli;
using Grid.Bench.Results;
using Grid.Devices;
using Grid.Serving.Configuration;
using Grid.Testing;

namespace Grid.Bench.Tests.Cli;

/// <summary>The temporary repositories: the ONNX models as before, the TorchScript twins under the same names with a config.pbtxt.</summary>
public sealed class BenchRepositoryTests
{
    [Fact]
    public void Build_OnnxRuntimeOnCpu_CopiesTheOnnxModelsWithoutConfig()
    {
        // Arrange
        using var temp = new TempDirectory();

        // Act
        var root = BenchRepository.Build(BenchModel.Defaults, RepoPaths.ExampleModels, RepoPaths.SavedModels, temp.Combine("models"), EngineVariant.OnnxCpu);

        // Assert
        Assert.True(File.Exists(Path.Combine(root, "fashion", "2", "model.onnx")));
        Assert.True(File.Exists(Path.Combine(root, "convnet", "1", "model.onnx")));
        Assert.False(File.Exists(Path.Combine(root, "fashion", "config.pbtxt")));
        Assert.Equal(["convnet", "fashion"], Directory.GetDirectories(root).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Build_ImportedSavedModel_ServesTheSavedModelAndRunsRawOnnxOnItsConvertedGraph()
    {
        // Arrange
        using var temp = new TempDirectory();
        List<BenchModel> models = [BenchModel.Fashion, BenchModel.FashionCnn];

        // Act
        var root = BenchRepository.Build(models, RepoPaths.ExampleModels, RepoPaths.SavedModels, temp.Combine("models"), EngineVariant.OnnxCpu);
        var converted = BenchRepository.Converted(models, root, temp.Combine("models-converted"));

        // Assert: grid gets the SavedModel itself, raw onnx and minimal the ONNX graph it imports to
        Assert.True(File.Exists(Path.Combine(root, "fashion_cnn", "1", "saved_model.pb")));
        Assert.True(File.Exists(Path.Combine(root, "fashion_cnn", "1", "variables", "variables.index")));
        Assert.False(File.Exists(Path.Combine(root, "fashion_cnn", "1", "model.onnx")));
        Assert.True(new FileInfo(Path.Combine(converted, "fashion_cnn", "1", "model.onnx")).Length > 500_000);
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "fashion", "2", "model.onnx")), File.ReadAllBytes(Path.Combine(converted, "fashion", "2", "model.onnx")));
        Assert.Equal(root, BenchRepository.Converted([BenchModel.Fashion], root, temp.Combine("unused")));
    }

    [Fact]
    public void Build_LibTorchOnGpu_CopiesTheTwinsUnderThePlainNamesWithAGpuConfig()
    {
        // Arrange
        using var temp = new TempDirectory();

        // Act
        var root = BenchRepository.Build(BenchModel.Defaults, RepoPaths.ExampleModels, RepoPaths.SavedModels, temp.Combine("models-torch-gpu"), new EngineVariant(BenchEngines.LibTorch, BenchDevices.Gpu));

        // Assert: fashion_torch/2 → fashion/2, convnet_torch/1 → convnet/1, byte for byte, and no ONNX file
        foreach (var model in BenchModel.Defaults)
        {
            var version = Path.Combine(root, model.Name, model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(File.ReadAllBytes(model.TorchModelFile(RepoPaths.ExampleModels)), File.ReadAllBytes(Path.Combine(version, "model.pt")));
            Assert.True(File.Exists(Path.Combine(version, "signature.json")));
            Assert.False(File.Exists(Path.Combine(version, "model.onnx")));

            // ...with a config.pbtxt Grid reads as libtorch on one GPU replica
            var config = ModelConfigParser.Parse(File.ReadAllText(Path.Combine(root, model.Name, "config.pbtxt")));
            Assert.Equal(model.Name, config.Name);
            Assert.Equal("pytorch_libtorch", config.Platform);
            Assert.Equal(DeviceRequirement.Gpu, config.Device);
            Assert.Equal(1, config.Replicas);
        }
        Assert.False(Directory.Exists(Path.Combine(root, "fashion_torch")));
    }

    [Fact]
    public void ConfigText_LibTorchOnCpu_AsksForKindCpu()
    {
        var text = BenchRepository.ConfigText(BenchModel.Fashion, new EngineVariant(BenchEngines.LibTorch, BenchDevices.Cpu));

        Assert.Equal("name: \"fashion\"\nplatform: \"pytorch_libtorch\"\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n", text);
        Assert.Equal(DeviceRequirement.Cpu, ModelConfigParser.Parse(text!).Device);
    }

    [Fact]
    public void ConfigText_LibTorchOnGpu_AsksForKindGpu()
    {
        var text = BenchRepository.ConfigText(BenchModel.Convnet, new EngineVariant(BenchEngines.LibTorch, BenchDevices.Gpu));

        Assert.Equal("name: \"convnet\"\nplatform: \"pytorch_libtorch\"\ninstance_group [ { count: 1 kind: KIND_GPU } ]\n", text);
    }

    [Fact]
    public void ConfigText_OnnxRuntimeOnCpu_IsNone()
    {
        Assert.Null(BenchRepository.ConfigText(BenchModel.Fashion, EngineVariant.OnnxCpu));
    }

    [Fact]
    public void DirectoryName_PerVariant_IsDistinct()
    {
        Assert.Equal("models", BenchRepository.DirectoryName(EngineVariant.OnnxCpu));
        Assert.Equal("models-torch-cpu", BenchRepository.DirectoryName(new EngineVariant(BenchEngines.LibTorch, BenchDevices.Cpu)));
        Assert.Equal("models-torch-gpu", BenchRepository.DirectoryName(new EngineVariant(BenchEngines.LibTorch, BenchDevices.Gpu)));
    }
}
