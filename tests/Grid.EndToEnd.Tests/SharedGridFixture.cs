using Grid.Testing;
using Grpc.Net.Client;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// One grid process serving a repository of every example and test model, with a 1 MiB
/// message limit so the over-limit cases are cheap to provoke.
/// </summary>
public sealed class SharedGridFixture : IAsyncLifetime
{
    public const int MessageLimit = 1024 * 1024;

    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public PredictionService.PredictionServiceClient Predictions => new(Channel);

    public ModelService.ModelServiceClient Models => new(Channel);

    public async Task InitializeAsync()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "half_plus_two"), _repo.Combine("half_plus_two"));
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion"), _repo.Combine("fashion"));
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion", "1"), _repo.Combine("fashion_v1", "1"));
        foreach (var model in new[] { "dtypes", "strings", "multi_io", "batch_probe" })
        {
            TempDirectory.CopyDirectory(Path.Combine(RepoPaths.TestModels, model), _repo.Combine(model));
        }
        Grid = GridProcess.Start("--model_repository", _repo.Path, "--max_message_bytes", MessageLimit.ToString());
        await Grid.WaitForAvailableAsync("half_plus_two", "fashion", "fashion_v1", "dtypes", "strings", "multi_io", "batch_probe");
        Channel = GrpcChannel.ForAddress(Grid.GrpcAddress, new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
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

[CollectionDefinition(Name)]
public sealed class SharedGridCollection : ICollectionFixture<SharedGridFixture>
{
    public const string Name = "shared grid";
}
