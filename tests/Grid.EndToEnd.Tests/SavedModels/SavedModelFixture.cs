using Grid.Testing;
using Grpc.Net.Client;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// One <c>grid serve</c> over every real SavedModel in <c>../shared/fixtures/savedmodels</c>,
/// each linked (not copied) into a temporary repository under its own name, with a message
/// limit large enough for a whole test-set batch.
/// </summary>
public sealed class SavedModelFixture : IAsyncLifetime
{
    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public PredictionService.PredictionServiceClient Predictions => new(Channel);

    /// <summary>The real models, by directory name.</summary>
    public static IReadOnlyList<string> RealModels { get; } =
        [.. Directory.GetDirectories(RepoPaths.SavedModels).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    public async Task InitializeAsync()
    {
        foreach (var model in RealModels)
        {
            Directory.CreateSymbolicLink(_repo.Combine(model), Path.Combine(RepoPaths.SavedModels, model));
        }
        Grid = GridProcess.Start("--model_repository", _repo.Path, "--file_system_poll_wait_seconds", "0", "--max_message_bytes", (256 * 1024 * 1024).ToString());
        await Grid.WaitUntilAsync(async () =>
        {
            foreach (var model in RealModels)
            {
                var states = await Grid.GetStatesAsync(model);
                if (states.Count == 0 || states.Values.Any(s => s is not ("AVAILABLE" or "END")))
                {
                    return false;
                }
            }
            return true;
        }, "every real SavedModel AVAILABLE or END", TimeSpan.FromMinutes(3));
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
