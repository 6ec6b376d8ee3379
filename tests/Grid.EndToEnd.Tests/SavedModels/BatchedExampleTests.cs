using Grid.Testing;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// half_plus_two served with <c>--enable_batching</c>: batches of exactly two rows, with a
/// timeout far longer than any test, so a single-example request is answered only once a second
/// one has joined its batch.
/// </summary>
public sealed class BatchedExampleFixture : IAsyncLifetime
{
    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateSymbolicLink(_repo.Combine("default"), Path.Combine(RepoPaths.Fixtures, "saved_model_half_plus_two_cpu"));
        var parameters = _repo.Combine("batching.txt");
        File.WriteAllText(parameters, "max_batch_size { value: 2 } batch_timeout_micros { value: 60000000 } max_enqueued_batches { value: 10 }");
        Grid = GridProcess.Start("--model_repository", _repo.Path, "--file_system_poll_wait_seconds", "0", "--enable_batching", "--batching_parameters_file", parameters);
        await Grid.WaitForAvailableAsync("default");
        Channel = GrpcChannel.ForAddress(Grid.GrpcAddress);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (Grid is not null)
        {
            await Grid.DisposeAsync();
        }
        _repo.Dispose();
    }
}

/// <summary>Classify and Regress go through server-side batching like Predict.</summary>
public sealed class BatchedExampleTests(BatchedExampleFixture fixture) : IClassFixture<BatchedExampleFixture>
{
    private static RegressionRequest Regress(float x)
    {
        var example = new Example { Features = new Features() };
        example.Features.Feature["x"] = new Feature { FloatList = new FloatList { Value = { x } } };
        return new RegressionRequest
        {
            ModelSpec = new ModelSpec { Name = "default", SignatureName = "regress_x_to_y" },
            Input = new Input { ExampleList = new ExampleList { Examples = { example } } },
        };
    }

    [Fact]
    public async Task Regress_TwoConcurrentRequests_ShareABatchAndEachGetsItsOwnValue()
    {
        var client = new PredictionService.PredictionServiceClient(fixture.Channel);
        var deadline = DateTime.UtcNow.AddSeconds(30);

        // Neither can complete alone: the batch runs only when both rows are there.
        var first = client.RegressAsync(Regress(1f), deadline: deadline).ResponseAsync;
        var second = client.RegressAsync(Regress(10f), deadline: deadline).ResponseAsync;
        var responses = await Task.WhenAll(first, second).DefaultTimeout();

        Assert.Equal(2.5f, Assert.Single(responses[0].Result.Regressions).Value);
        Assert.Equal(7f, Assert.Single(responses[1].Result.Regressions).Value);
    }
}
