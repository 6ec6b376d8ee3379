using Grid.Tensors;
using Grid.Serving.Inference;
using Grid.Testing;

namespace Grid.Serving.Tests.Inference;

/// <summary>
/// What can be checked of ONNX Runtime's CUDA path without a GPU: where the CUDA libraries are
/// looked for, how the CPU build says it has no CUDA provider, and that a CUDA device is refused
/// with that reason. The GPU suite (tests/Grid.Gpu.Tests) runs the provider on a real device.
/// </summary>
public sealed class OnnxCudaRuntimeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void SearchDirectories_ExplicitColonList_ReturnsEachFullPathInOrder()
    {
        // Act
        var dirs = OnnxCudaRuntime.SearchDirectories("/opt/a/lib: /opt/b/lib ::", "/ignored/torch/lib");

        // Assert
        Assert.Equal(["/opt/a/lib", "/opt/b/lib"], dirs);
    }

    [Fact]
    public void SearchDirectories_OnlyALibtorchPath_FindsTheNvidiaLibFoldersOfItsPyTorchInstall()
    {
        // Arrange: site-packages/torch/lib beside site-packages/nvidia/{cu13,cudnn}/lib, as a CUDA 13 PyTorch wheel installs them
        var sitePackages = _temp.Combine("site-packages");
        var torchLib = Path.Combine(sitePackages, "torch", "lib");
        Directory.CreateDirectory(torchLib);
        Directory.CreateDirectory(Path.Combine(sitePackages, "nvidia", "cudnn", "lib"));
        Directory.CreateDirectory(Path.Combine(sitePackages, "nvidia", "cu13", "lib"));
        Directory.CreateDirectory(Path.Combine(sitePackages, "nvidia", "cu13", "include"));

        // Act
        var dirs = OnnxCudaRuntime.SearchDirectories(null, torchLib);

        // Assert
        Assert.Equal([Path.Combine(sitePackages, "nvidia", "cu13", "lib"), Path.Combine(sitePackages, "nvidia", "cudnn", "lib")], dirs);
    }

    [Fact]
    public void SearchDirectories_NothingGiven_ReturnsNone()
    {
        // Act
        var dirs = OnnxCudaRuntime.SearchDirectories(null, null);

        // Assert
        Assert.Empty(dirs);
    }

    [Fact]
    public void BuildHasCudaProvider_CpuBuild_ReturnsFalse()
    {
        // Act
        var has = OnnxCudaRuntime.BuildHasCudaProvider();

        // Assert: the test suite builds the default flavour (Microsoft.ML.OnnxRuntime, CPU only)
        Assert.False(has);
    }

    [Fact]
    public void Initialize_CpuBuild_IsUnavailableNamingTheBuildFlag()
    {
        // Act
        var status = OnnxCudaRuntime.Initialize([_temp.Path]);

        // Assert
        Assert.False(status.Available);
        Assert.Equal(0, status.DeviceCount);
        Assert.Equal("this build's ONNX Runtime has no CUDA execution provider (build with -p:GridOnnxRuntime=cuda)", status.UnavailableReason);
    }

    [Fact]
    public void Load_OnAGpuWithoutCuda_FailsWithFailedPreconditionAndTheReason()
    {
        // Arrange
        var engine = new OnnxModelEngine(new OnnxRuntimeOptions { Cuda = new OnnxCudaStatus(false, 0, "libcublas.so.13 not found in /nowhere", ["/nowhere"]) });

        // Act
        var error = Assert.Throws<ServingException>(() => engine.Load(RepoPaths.ExampleModel("half_plus_two", 123), ExecutionDevice.Gpu(0)));

        // Assert
        Assert.False(engine.SupportsCuda);
        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.Contains("onnxruntime_onnx cannot run on gpu:0 in this process (libcublas.so.13 not found in /nowhere)", error.Message);
    }

    [Fact]
    public void SupportsCuda_ProviderAvailable_IsTrue()
    {
        // Arrange
        var engine = new OnnxModelEngine(new OnnxRuntimeOptions { Cuda = new OnnxCudaStatus(true, 1, null, ["/cuda"]) });

        // Act
        var supports = engine.SupportsCuda;

        // Assert
        Assert.True(supports);
    }

    [Fact]
    public void Run_AllocationBeyondMemory_FailsWithResourceExhaustedAndTheSessionKeepsServing()
    {
        // Arrange: alloc_onnx fills as many MiB as asked with ones; 1e9 MiB fits in no machine
        using var session = new OnnxModelEngine(new OnnxRuntimeOptions()).Load(RepoPaths.TestModel("alloc_onnx"));
        var signature = session.Signatures[0];
        NamedTensor Ask(float mib) => new("mib", TensorData.FromSpan<float>(TensorDType.Float, [1, 1], [mib]));

        // Act
        var error = Assert.Throws<ServingException>(() => session.Run(signature, [Ask(1e9f)], ["bytes"]));
        var small = session.Run(signature, [Ask(4f)], ["bytes"]);

        // Assert
        Assert.Equal(ServingStatusCode.ResourceExhausted, error.Code);
        Assert.StartsWith("cpu ran out of memory running the model: ", error.Message);
        Assert.Equal(4f * 262144f, small[0].Tensor.AsSpan<float>()[0]);
    }
}
