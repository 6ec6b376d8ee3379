using System.Text.Json;
using Grid.Testing;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// Device binding through a real <c>grid serve</c> on a machine without CUDA: a stand-in GPU
/// with a memory budget (a model over it fails its load with RESOURCE_EXHAUSTED while the rest
/// serve), a listed GPU that CUDA cannot use (the reason shows in the silo's status), start-up
/// errors for a bad <c>--libtorch_path</c>, and the benchmark convnet's TorchScript twin against
/// its ONNX original.
/// </summary>
public sealed class DeviceBindingTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _repository = new();

    public void Dispose() => _repository.Dispose();

    private void AddModel(string example, string name, string? kind = null)
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, example), _repository.Combine(name));
        if (kind is not null)
        {
            File.WriteAllText(_repository.Combine(name, "config.pbtxt"), $"instance_group [ {{ count: 1 kind: {kind} }} ]\n");
        }
    }

    private static async Task<JsonElement> GetJsonAsync(GridProcess grid, string path)
    {
        var body = await grid.Http.GetStringAsync(path).WaitAsync(Timeout);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task StandInGpuWithBudget_ModelOverBudgetFailsWithResourceExhausted_OthersServeOnTheGpu()
    {
        // Arrange: 1 MiB per GPU; fashion_torch's model.pt is 0.8 MB, convnet_torch's 1.9 MB
        AddModel("fashion_torch", "fashion_torch", "KIND_GPU");
        AddModel("convnet_torch", "convnet_torch", "KIND_GPU");
        await using var grid = GridProcess.Start("--model_repository", _repository.Path, "--devices", "cpu,gpu:0", "--gpu_stand_in", "--gpu_memory_mib", "1");

        // Act
        await grid.WaitForAvailableAsync("fashion_torch");
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("convnet_torch")).GetValueOrDefault(1) == "END", "convnet_torch version 1 END");
        var convnet = await GetJsonAsync(grid, "/v1/models/convnet_torch");
        var fashion = await GetJsonAsync(grid, "/v1/grid/models/fashion_torch");
        using var predict = await grid.Http.PostAsync("/v1/models/fashion_torch:predict", new StringContent($"{{\"instances\": [[{string.Join(",", Enumerable.Repeat("0.5", 784))}]]}}")).WaitAsync(Timeout);

        // Assert
        var status = convnet.GetProperty("model_version_status")[0].GetProperty("status");
        output.WriteLine(status.ToString());
        Assert.Equal("RESOURCE_EXHAUSTED", status.GetProperty("error_code").GetString());
        // What is free depends on whether fashion_torch was bound first: 1 - 0.8 MiB, or all of it.
        Assert.Matches(@"^model convnet_torch version 1 replica 0 needs about 1\.8 MiB of GPU memory, and no GPU on this silo has that left under --gpu_memory_mib 1 \(most free: (0\.2|1) MiB\)$",
            status.GetProperty("error_message").GetString());
        var replica = fashion.GetProperty("versions")[0].GetProperty("replicas")[0];
        Assert.Equal("gpu", replica.GetProperty("device").GetString());
        Assert.Equal("gpu:0", replica.GetProperty("runs_on").GetString());
        Assert.True(predict.IsSuccessStatusCode, await predict.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ListedGpuWithoutCuda_SiloStatusSaysWhy_AndGpuModelsStayUnplaced()
    {
        // Arrange: no --gpu_stand_in, so the silo probes CUDA on the bundled CPU libtorch
        AddModel("fashion_torch", "fashion_torch", "KIND_GPU");
        AddModel("fashion", "fashion", "KIND_AUTO");
        await using var grid = GridProcess.Start("--model_repository", _repository.Path, "--devices", "cpu,gpu:0");

        // Act
        await grid.WaitForAvailableAsync("fashion");
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("fashion_torch")).GetValueOrDefault(2) == "END", "fashion_torch version 2 END");
        var cluster = await GetJsonAsync(grid, "/v1/grid/cluster");
        var torch = await GetJsonAsync(grid, "/v1/models/fashion_torch");

        // Assert
        // Both engines were asked and both say why: the bundled CPU libtorch, the CPU build of ONNX Runtime.
        const string reason = "libtorch: the bundled libtorch is the CPU build; start with --libtorch_path pointing at a CUDA build of libtorch (for example a PyTorch install's torch/lib); "
            + "ONNX Runtime: this build's ONNX Runtime has no CUDA execution provider (build with -p:GridOnnxRuntime=cuda)";
        var silo = cluster.GetProperty("silos")[0];
        Assert.Equal(["cpu", "gpu:0"], silo.GetProperty("devices").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(reason, silo.GetProperty("gpu_unusable_reason").GetString());
        var status = torch.GetProperty("model_version_status")[0].GetProperty("status");
        Assert.Equal("UNAVAILABLE", status.GetProperty("error_code").GetString());
        Assert.Contains("cannot be placed", status.GetProperty("error_message").GetString());
        Assert.Contains($"GPUs gpu:0 are not offered for placement: {reason}", grid.Output);
        var fashion = cluster.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "fashion");
        Assert.Equal("cpu", fashion.GetProperty("versions")[0].GetProperty("replicas")[0].GetProperty("runs_on").GetString());
    }

    [Fact]
    public async Task Serve_LibtorchPathWithoutLibtorch_ExitsWithTheReason()
    {
        // Act
        var (exitCode, _, stderr) = await GridCli.RunAsync(Timeout, "serve", "--model_repository", _repository.Path, "--libtorch_path", _repository.Path, "--port", FreePort.Next().ToString(), "--rest_api_port", "0");

        // Assert
        Assert.Equal(2, exitCode);
        Assert.Equal($"grid: --libtorch_path {_repository.Path}: no libtorch.so there; expected the lib folder of a libtorch or PyTorch install (e.g. .../site-packages/torch/lib)", stderr.Trim());
    }

    [Fact]
    public async Task Serve_LibtorchPathOnABuildThatBundlesLibtorch_ExitsWithTheReason()
    {
        // Arrange: a directory that looks like a libtorch lib folder
        var lib = _repository.Combine("torch", "lib");
        Directory.CreateDirectory(lib);
        File.WriteAllBytes(Path.Combine(lib, "libtorch.so"), []);

        // Act
        var (exitCode, _, stderr) = await GridCli.RunAsync(Timeout, "serve", "--model_repository", _repository.Path, "--libtorch_path", lib, "--port", FreePort.Next().ToString(), "--rest_api_port", "0");

        // Assert
        Assert.Equal(2, exitCode);
        Assert.StartsWith($"grid: --libtorch_path {lib}: this Grid build bundles libtorch-cpu (", stderr.Trim());
        Assert.EndsWith("use a build made with -p:GridLibTorch=host (scripts/gpu/pack.sh makes one)", stderr.Trim());
    }

    [Fact]
    public async Task ConvnetTorch_RandomImages_MatchesItsOnnxTwin()
    {
        // Arrange
        AddModel("convnet", "convnet");
        AddModel("convnet_torch", "convnet_torch");
        await using var grid = GridProcess.Start("--model_repository", _repository.Path);
        await grid.WaitForAvailableAsync("convnet", "convnet_torch");
        var random = new Random(11);
        var images = Enumerable.Range(0, 8).Select(_ => Enumerable.Range(0, 3 * 64 * 64).Select(_ => random.NextSingle()).ToArray()).ToArray();
        var body = JsonSerializer.Serialize(new { inputs = new { images = images.Select(i => Reshape(i)).ToArray() } });

        async Task<double[]> ScoresAsync(string model)
        {
            using var response = await grid.Http.PostAsync($"/v1/models/{model}:predict", new StringContent(body)).WaitAsync(Timeout);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.GetProperty("outputs").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble()).ToArray();
        }

        // Act
        var onnx = await ScoresAsync("convnet");
        var torch = await ScoresAsync("convnet_torch");

        // Assert
        Assert.Equal(80, onnx.Length);
        Assert.Equal(onnx.Length, torch.Length);
        var worst = onnx.Zip(torch, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"convnet_torch against convnet on 8 random images: largest score difference {worst:E2}");
        Assert.True(worst < 1e-4, $"largest difference {worst}");
    }

    [Fact]
    public async Task Predict_RequestRunsOutOfMemory_FailsWithResourceExhaustedAndTheModelKeepsServing()
    {
        // Arrange: alloc_torch allocates as many MiB as asked; 1e9 MiB is beyond any address space
        TempDirectory.CopyDirectory(RepoPaths.TestModel("alloc_torch"), _repository.Combine("alloc", "1"));
        await using var grid = GridProcess.Start("--model_repository", _repository.Path);
        await grid.WaitForAvailableAsync("alloc");

        // Act
        using var huge = await grid.Http.PostAsync("/v1/models/alloc:predict", new StringContent("{\"instances\": [[1e9]]}")).WaitAsync(Timeout);
        var hugeBody = await huge.Content.ReadAsStringAsync();
        using var small = await grid.Http.PostAsync("/v1/models/alloc:predict", new StringContent("{\"instances\": [[1.0]]}")).WaitAsync(Timeout);
        var smallBody = await small.Content.ReadAsStringAsync();

        // Assert
        output.WriteLine(hugeBody);
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, huge.StatusCode);
        using var error = JsonDocument.Parse(hugeBody);
        Assert.Matches("^cpu ran out of memory running the model: .*(can't allocate memory|not enough memory)", error.RootElement.GetProperty("error").GetString());
        Assert.True(small.IsSuccessStatusCode, smallBody);
        using var answer = JsonDocument.Parse(smallBody);
        Assert.Equal(262144.0, answer.RootElement.GetProperty("predictions")[0][0].GetDouble());
    }

    /// <summary>[3*64*64] → [3][64][64], the row format's nesting.</summary>
    private static float[][][] Reshape(float[] flat)
        => Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, 64).Select(h => flat.AsSpan(c * 4096 + h * 64, 64).ToArray()).ToArray()).ToArray();
}
