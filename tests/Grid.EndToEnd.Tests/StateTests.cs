using Grid.Testing;

namespace Grid.EndToEnd.Tests;

/// <summary><c>grid serve --state_dir</c>: grain state kept in files across restarts.</summary>
public sealed class StateTests : IDisposable
{
    private readonly TempDirectory _repository = new();
    private readonly TempDirectory _state = new();

    public void Dispose()
    {
        _repository.Dispose();
        _state.Dispose();
    }

    [Fact]
    public async Task Restart_ModelRemovedWhileDown_IsUnloadedAndTheOtherServes()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123"), _repository.Combine("kept", "1"));
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123"), _repository.Combine("removed", "1"));
        await using (var first = GridProcess.Start("--model_repository", _repository.Path, "--state_dir", _state.Path))
        {
            await first.WaitForAvailableAsync("kept", "removed");
        }

        Directory.Delete(_repository.Combine("removed"), recursive: true);
        await using var second = GridProcess.Start("--model_repository", _repository.Path, "--state_dir", _state.Path);

        await second.WaitUntilAsync(async () => (await second.GetStatesAsync("removed")).GetValueOrDefault(1) == "END", "the removed model's version END after the restart");
        await second.WaitUntilAsync(async () =>
        {
            using var response = await second.Http.PostAsync("/v1/models/kept:predict", new StringContent("{\"instances\": [2.0]}"));
            return response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync()).Contains("3.0");
        }, "kept serving after the restart");
        Assert.NotEmpty(Directory.GetFiles(_state.Path, "*.state"));
    }
}
