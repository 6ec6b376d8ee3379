using System.Text.Json;
using Grid.Testing;

namespace Grid.Gpu.Tests;

/// <summary>
/// One <c>grid serve</c> on the GPU for the serving tests, with batching on: the reference
/// models on the CPU (KIND_CPU), the models under test on the GPU (KIND_GPU), plus an
/// allocation probe on the GPU named <c>alloc</c>. Started lazily by the first test that has a
/// GPU, so machines without one never start it.
/// </summary>
public abstract class GpuGridFixtureBase : IAsyncLifetime
{
    private readonly TempDirectory _repository = new();
    private GridProcess? _grid;

    /// <summary>(served name, example or test model directory, kind) of every model to serve.</summary>
    protected abstract IEnumerable<(string Name, string Source, string Kind)> Models { get; }

    public async Task<GridProcess> GridAsync()
    {
        if (_grid is not null)
        {
            return _grid;
        }
        var gpu = GpuEnvironment.RequireGpu();
        foreach (var (name, source, kind) in Models)
        {
            TempDirectory.CopyDirectory(source, _repository.Combine(name));
            File.WriteAllText(_repository.Combine(name, "config.pbtxt"), $"instance_group [ {{ count: 1 kind: {kind} }} ]\n");
        }
        var batching = _repository.Combine("batching.pbtxt");
        File.WriteAllText(batching, "max_batch_size { value: 256 }\nbatch_timeout_micros { value: 1000 }\nmax_enqueued_batches { value: 1000 }\nnum_batch_threads { value: 1 }\n");
        _grid = GridProcess.Start(["--model_repository", _repository.Path, .. gpu, "--enable_batching", "--batching_parameters_file", batching]);
        await _grid.WaitForAvailableAsync([.. Models.Select(m => m.Name)]);
        return _grid;
    }

    protected static string Example(string name) => Path.Combine(RepoPaths.ExampleModels, name);

    /// <summary>A test model's base directory (its version folders inside).</summary>
    protected static string TestModel(string name) => Path.Combine(RepoPaths.TestModels, name);

    public static async Task<JsonElement> GetJsonAsync(GridProcess grid, string path)
    {
        var body = await grid.Http.GetStringAsync(path).WaitAsync(TimeSpan.FromSeconds(30));
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_grid is not null)
        {
            await _grid.DisposeAsync();
        }
        _repository.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>libtorch on the GPU: the TorchScript twins on KIND_GPU, the ONNX models on the CPU as the reference.</summary>
public sealed class GpuGridFixture : GpuGridFixtureBase
{
    protected override IEnumerable<(string Name, string Source, string Kind)> Models =>
    [
        ("fashion", Example("fashion"), "KIND_CPU"),
        ("convnet", Example("convnet"), "KIND_CPU"),
        ("fashion_torch", Example("fashion_torch"), "KIND_GPU"),
        ("convnet_torch", Example("convnet_torch"), "KIND_GPU"),
        ("alloc", TestModel("alloc_torch"), "KIND_GPU"),
    ];
}

/// <summary>ONNX Runtime's CUDA provider: the ONNX models on KIND_GPU, copies of them on the CPU as the reference.</summary>
public sealed class OnnxGpuGridFixture : GpuGridFixtureBase
{
    protected override IEnumerable<(string Name, string Source, string Kind)> Models =>
    [
        ("fashion_cpu", Example("fashion"), "KIND_CPU"),
        ("convnet_cpu", Example("convnet"), "KIND_CPU"),
        ("fashion", Example("fashion"), "KIND_GPU"),
        ("convnet", Example("convnet"), "KIND_GPU"),
        ("alloc", TestModel("alloc_onnx"), "KIND_GPU"),
    ];
}
