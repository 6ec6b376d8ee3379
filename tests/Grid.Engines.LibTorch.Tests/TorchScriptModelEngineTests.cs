using Grid.Models;
using Grid.Serving;
using Grid.Serving.Inference;
using Grid.Tensors;
using Grid.Testing;

namespace Grid.Engines.LibTorch.Tests;

public sealed class TorchScriptModelEngineTests
{
    private static readonly string TinyTorch = RepoPaths.TestModel("tiny_torch");

    /// <summary>softmax(x W^T + b) with the generator's W[i][j] = (4i + j) / 10 - 0.5, b[i] = i / 10.</summary>
    private static float[] Expected(float[] x)
    {
        var logits = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 4).Sum(j => x[j] * ((4 * i + j) / 10.0 - 0.5)) + i / 10.0).ToArray();
        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        return exp.Select(e => (float)(e / exp.Sum())).ToArray();
    }

    [Fact]
    public void Load_TinyModel_ReportsTheSidecarSignature()
    {
        using var session = new TorchScriptModelEngine().Load(TinyTorch);

        var signature = Assert.Single(session.Signatures);
        Assert.Equal(ModelSignature.DefaultKey, signature.Key);
        var input = Assert.Single(signature.Inputs);
        Assert.Equal(("x", TensorDType.Float), (input.Alias, input.DType));
        Assert.Equal([-1L, 4], input.Shape);
        var output = Assert.Single(signature.Outputs);
        Assert.Equal(("probabilities", TensorDType.Float), (output.Alias, output.DType));
    }

    [Fact]
    public void Run_Batch_MatchesTheModelsFormula()
    {
        using var session = new TorchScriptModelEngine().Load(TinyTorch);
        float[] rows = [0.1f, 0.2f, 0.3f, 0.4f, -1f, 0.5f, 2f, 0f];

        var outputs = session.Run(session.Signatures[0], [new NamedTensor("x", TensorData.FromFloats([2, 4], rows))], ["probabilities"]);

        var y = Assert.Single(outputs);
        Assert.Equal([2L, 3], y.Tensor.Shape);
        var values = y.Tensor.AsSpan<float>().ToArray();
        var expected = Expected(rows[..4]).Concat(Expected(rows[4..])).ToArray();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], values[i], 1e-5f);
        }
    }

    [Fact]
    public void Load_StandInGpu_RunsOnTheCpuWithTheSameAnswers()
    {
        // Arrange
        using var session = new TorchScriptModelEngine().Load(TinyTorch, ExecutionDevice.Gpu(0, standIn: true));
        float[] x = [0.1f, 0.2f, 0.3f, 0.4f];

        // Act
        var outputs = session.Run(session.Signatures[0], [new NamedTensor("x", TensorData.FromFloats([1, 4], x))], ["probabilities"]);

        // Assert
        var values = Assert.Single(outputs).Tensor.AsSpan<float>().ToArray();
        var expected = Expected(x);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], values[i], 1e-5f);
        }
    }

    [Fact]
    public void Load_CudaDeviceOnTheBundledCpuLibtorch_FailsWithTheReason()
    {
        // Act: this test process runs the bundled libtorch-cpu, which has no CUDA
        var error = Assert.Throws<ServingException>(() => new TorchScriptModelEngine().Load(TinyTorch, ExecutionDevice.Gpu(0)));

        // Assert
        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.EndsWith("on gpu:0: the bundled libtorch is the CPU build; start with --libtorch_path pointing at a CUDA build of libtorch (for example a PyTorch install's torch/lib)", error.Message);
        Assert.False(new TorchScriptModelEngine().SupportsCuda);
    }

    [Fact]
    public void EstimateDeviceBytes_TinyModel_IsTheModelFileSize()
    {
        // Act
        var bytes = new TorchScriptModelEngine().EstimateDeviceBytes(TinyTorch);

        // Assert
        Assert.Equal(new FileInfo(Path.Combine(TinyTorch, "model.pt")).Length, bytes);
    }

    [Fact]
    public void Initialize_AnotherLibtorchAfterTheBundledOne_Throws()
    {
        // Arrange
        var current = LibTorchRuntime.EnsureInitialized();

        // Act
        var error = Assert.Throws<InvalidOperationException>(() => LibTorchRuntime.Initialize("/opt/elsewhere/torch/lib"));

        // Assert
        Assert.Equal(LibTorchRuntime.BundledSource, current.Source);
        Assert.Equal("libtorch is already loaded from bundled libtorch-cpu; this process cannot switch to /opt/elsewhere/torch/lib", error.Message);
        Assert.Same(current, LibTorchRuntime.Initialize(null));
    }

    [Fact]
    public void Run_ConcurrentCallers_EachGetsItsOwnAnswer()
    {
        using var session = new TorchScriptModelEngine().Load(TinyTorch);

        var results = Enumerable.Range(0, 32).AsParallel().Select(i =>
        {
            float[] x = [i / 10f, 0, 0, 1];
            var y = session.Run(session.Signatures[0], [new NamedTensor("x", TensorData.FromFloats([1, 4], x))], ["probabilities"]);
            return (x, y: y[0].Tensor.AsSpan<float>().ToArray());
        }).ToList();

        foreach (var (x, y) in results)
        {
            Assert.Equal(Expected(x)[0], y[0], 1e-5f);
        }
    }

    [Fact]
    public void Load_WithoutSidecar_FailsWithFailedPrecondition()
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(TinyTorch, "model.pt"), dir.Combine("model.pt"));

        var error = Assert.Throws<ServingException>(() => new TorchScriptModelEngine().Load(dir.Path));

        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.Contains("signature.json", error.Message);
    }

    [Fact]
    public void Load_CorruptModel_FailsWithInvalidArgument()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("model.pt"), [1, 2, 3, 4]);
        File.Copy(Path.Combine(TinyTorch, "signature.json"), dir.Combine("signature.json"));

        var error = Assert.Throws<ServingException>(() => new TorchScriptModelEngine().Load(dir.Path));

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("Failed to load TorchScript model", error.Message);
    }
}
