using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Grid.Testing;

namespace Grid.Gpu.Tests;

/// <summary>
/// One engine on a real CUDA device behind a real <c>grid serve</c>: the silo offers its GPUs,
/// KIND_GPU models bind to one, their answers match the same network on ONNX Runtime's CPU
/// provider, a concurrent load through the batch queue answers every request correctly, and a
/// request that exhausts device memory fails alone. Each engine's class names its models.
/// </summary>
public abstract class GpuServingTestsBase<TFixture>(TFixture fixture, ITestOutputHelper output) : IClassFixture<TFixture>
    where TFixture : GpuGridFixtureBase
{
    /// <summary>The Fashion-MNIST and convnet models on the GPU, and their references on the CPU.</summary>
    protected abstract (string Fashion, string Convnet, string FashionCpu, string ConvnetCpu) Names { get; }

    /// <summary>The start-up log line that shows this engine found CUDA, for <paramref name="gpus"/> devices.</summary>
    protected abstract string CudaLogLine(int gpus);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<float[][]> PredictAsync(GridProcess grid, string model, IEnumerable<object> instances, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.Serialize(new { instances });
        using var response = await grid.Http.PostAsync($"/v1/models/{model}:predict", new StringContent(body), cancellationToken).WaitAsync(Timeout, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{model}: {(int)response.StatusCode} {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("predictions").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
    }

    private static double LargestDifference(float[][] a, float[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).Max();
    }

    [Fact]
    public async Task Silo_WithCudaLibtorch_OffersEveryGpu()
    {
        // Arrange
        var grid = await fixture.GridAsync();

        // Act
        var cluster = await GpuGridFixtureBase.GetJsonAsync(grid, "/v1/grid/cluster");

        // Assert
        var silo = cluster.GetProperty("silos")[0];
        var gpus = silo.GetProperty("devices").EnumerateArray().Select(d => d.GetString()).Where(d => d!.StartsWith("gpu:")).ToList();
        output.WriteLine($"devices: {silo.GetProperty("devices")}");
        Assert.NotEmpty(gpus);
        Assert.False(silo.TryGetProperty("gpu_unusable_reason", out var reason), $"GPU refused: {reason}");
        if (!GpuEnvironment.Rehearsal)
        {
            Assert.Contains(CudaLogLine(gpus.Count), grid.Output);
        }
    }

    [Fact]
    public async Task Placement_GpuModelsBindAGpu_CpuModelsTheCpu()
    {
        // Arrange
        var grid = await fixture.GridAsync();

        // Act
        var cluster = await GpuGridFixtureBase.GetJsonAsync(grid, "/v1/grid/cluster");

        // Assert
        var runsOn = cluster.GetProperty("models").EnumerateArray().ToDictionary(
            m => m.GetProperty("name").GetString()!,
            m => m.GetProperty("versions")[0].GetProperty("replicas")[0].GetProperty("runs_on").GetString()!);
        output.WriteLine(string.Join(", ", runsOn.Select(p => $"{p.Key} on {p.Value}")));
        Assert.Equal("cpu", runsOn[Names.FashionCpu]);
        Assert.Equal("cpu", runsOn[Names.ConvnetCpu]);
        Assert.StartsWith("gpu:", runsOn[Names.Fashion]);
        Assert.StartsWith("gpu:", runsOn[Names.Convnet]);
        Assert.StartsWith("gpu:", runsOn["alloc"]);
    }

    [Fact]
    public async Task FashionOnGpu_100TestImages_MatchesOnnxOnCpuWithin1e4()
    {
        // Arrange
        var grid = await fixture.GridAsync();
        var (images, _) = FashionMnist.LoadTest(100);

        // Act
        var cpu = await PredictAsync(grid, Names.FashionCpu, images, TestContext.Current.CancellationToken);
        var gpu = await PredictAsync(grid, Names.Fashion, images, TestContext.Current.CancellationToken);

        // Assert
        var worst = LargestDifference(cpu, gpu);
        output.WriteLine($"{Names.Fashion} on the GPU against {Names.FashionCpu} on ONNX Runtime CPU, 100 test images: largest score difference {worst:E2}");
        Assert.True(worst < 1e-4, $"largest difference {worst}");
    }

    [Fact]
    public async Task ConvnetOnGpu_RandomImages_MatchesOnnxOnCpu()
    {
        // Arrange: cuDNN may run these convolutions in TF32 (PyTorch's and ONNX Runtime's
        // default on Ampere and later), so scores may differ by a few 1e-4; 2e-3 still catches a
        // wrong layer.
        var grid = await fixture.GridAsync();
        var random = new Random(5);
        var images = Enumerable.Range(0, 16).Select(_ => Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 64).Select(_ => random.NextSingle()).ToArray()).ToArray()).ToArray()).ToArray();

        // Act
        var cpu = await PredictAsync(grid, Names.ConvnetCpu, images, TestContext.Current.CancellationToken);
        var gpu = await PredictAsync(grid, Names.Convnet, images, TestContext.Current.CancellationToken);

        // Assert
        var worst = LargestDifference(cpu, gpu);
        output.WriteLine($"{Names.Convnet} on the GPU against {Names.ConvnetCpu} on ONNX Runtime CPU, 16 random images: largest score difference {worst:E2}");
        Assert.True(worst < 2e-3, $"largest difference {worst}");
    }

    [Fact]
    public async Task ConcurrentLoad_32ClientsThroughTheBatchQueue_EveryAnswerMatchesItsImage()
    {
        // Arrange: each client sends its own images one at a time; the queue merges them on the GPU
        var grid = await fixture.GridAsync();
        var (images, _) = FashionMnist.LoadTest(256);
        var expected = await PredictAsync(grid, Names.Fashion, images, TestContext.Current.CancellationToken);
        const int clients = 32, perClient = 40;
        var worst = 0.0;
        var watch = Stopwatch.StartNew();

        // Act
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < perClient; i++)
            {
                var index = (c * perClient + i) % images.Length;
                var answer = await PredictAsync(grid, Names.Fashion, [images[index]], TestContext.Current.CancellationToken);
                var difference = answer[0].Zip(expected[index], (p, q) => Math.Abs(p - q)).Max();
                lock (images)
                {
                    worst = Math.Max(worst, difference);
                }
            }
        }, TestContext.Current.CancellationToken))).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        watch.Stop();

        // Assert
        var batches = await GpuGridFixtureBase.GetJsonAsync(grid, $"/v1/grid/models/{Names.Fashion}");
        output.WriteLine($"{clients * perClient} requests from {clients} clients in {watch.Elapsed.TotalSeconds:F2} s ({clients * perClient / watch.Elapsed.TotalSeconds:F0} req/s); largest difference from the one-batch answers {worst:E2}");
        output.WriteLine(batches.ToString());
        Assert.True(worst < 1e-4, $"largest difference {worst}");
    }

    [Fact]
    public async Task Predict_GpuOutOfMemory_FailsWithResourceExhaustedAndTheGpuKeepsServing()
    {
        // Arrange: alloc allocates as many MiB as asked on its device; 1e9 MiB fits on no GPU
        var grid = await fixture.GridAsync();

        // Act
        using var huge = await grid.Http.PostAsync("/v1/models/alloc:predict", new StringContent("{\"instances\": [[1e9]]}"), TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        var hugeBody = await huge.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var small = await PredictAsync(grid, "alloc", [new[] { 64f }], TestContext.Current.CancellationToken);
        var (images, _) = FashionMnist.LoadTest(4);
        var fashion = await PredictAsync(grid, Names.Fashion, images, TestContext.Current.CancellationToken);

        // Assert
        output.WriteLine(hugeBody);
        Assert.Equal(HttpStatusCode.TooManyRequests, huge.StatusCode);
        using var error = JsonDocument.Parse(hugeBody);
        Assert.Matches("^gpu:[0-9]+ ran out of memory running the model: ", error.RootElement.GetProperty("error").GetString());
        Assert.Equal(64f * 262144f, small[0][0]);
        Assert.Equal(4, fashion.Length);
    }
}

/// <summary>libtorch (TorchSharp on the host's CUDA libtorch) on the GPU.</summary>
public sealed class GpuServingTests(GpuGridFixture fixture, ITestOutputHelper output) : GpuServingTestsBase<GpuGridFixture>(fixture, output)
{
    protected override (string Fashion, string Convnet, string FashionCpu, string ConvnetCpu) Names => ("fashion_torch", "convnet_torch", "fashion", "convnet");

    protected override string CudaLogLine(int gpus) => $"CUDA: {gpus} device(s)";
}

/// <summary>ONNX Runtime's CUDA execution provider on the GPU.</summary>
public sealed class OnnxGpuServingTests(OnnxGpuGridFixture fixture, ITestOutputHelper output) : GpuServingTestsBase<OnnxGpuGridFixture>(fixture, output)
{
    protected override (string Fashion, string Convnet, string FashionCpu, string ConvnetCpu) Names => ("fashion", "convnet", "fashion_cpu", "convnet_cpu");

    protected override string CudaLogLine(int gpus) => $"ONNX Runtime CUDA provider: {gpus} device(s)";
}
