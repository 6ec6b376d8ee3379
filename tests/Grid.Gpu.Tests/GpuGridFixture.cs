using System.Text.Json;
using Grid.Testing;

namespace Grid.Gpu.Tests;

/// <summary>
/// One <c>grid serve</c> on the GPU for the serving tests, with batching on: the ONNX models on
/// the CPU (KIND_CPU) and their TorchScript twins on the GPU (KIND_GPU), plus the allocation
/// probe. Started lazily by the first test that has a GPU, so machines without one never start
/// it.
/// </summary>
public sealed class GpuGridFixture : IAsyncLifetime
{
    private readonly TempDirectory _repository = new();
    private GridProcess? _grid;

    public async Task<GridProcess> GridAsync()
    {
        if (_grid is not null)
        {
            return _grid;
        }
        var gpu = GpuEnvironment.RequireGpu();
        AddExample("fashion", "KIND_CPU");
        AddExample("convnet", "KIND_CPU");
        AddExample("fashion_torch", "KIND_GPU");
        AddExample("convnet_torch", "KIND_GPU");
        TempDirectory.CopyDirectory(RepoPaths.TestModel("alloc_torch"), _repository.Combine("alloc", "1"));
        File.WriteAllText(_repository.Combine("alloc", "config.pbtxt"), "instance_group [ { count: 1 kind: KIND_GPU } ]\n");
        var batching = _repository.Combine("batching.pbtxt");
        File.WriteAllText(batching, "max_batch_size { value: 256 }\nbatch_timeout_micros { value: 1000 }\nmax_enqueued_batches { value: 1000 }\nnum_batch_threads { value: 1 }\n");
        _grid = GridProcess.Start(["--model_repository", _repository.Path, .. gpu, "--enable_batching", "--batching_parameters_file", batching]);
        await _grid.WaitForAvailableAsync("fashion", "convnet", "fashion_torch", "convnet_torch", "alloc");
        return _grid;
    }

    private void AddExample(string name, string kind)
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, name), _repository.Combine(name));
        File.WriteAllText(_repository.Combine(name, "config.pbtxt"), $"instance_group [ {{ count: 1 kind: {kind} }} ]\n");
    }

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
    }
}
