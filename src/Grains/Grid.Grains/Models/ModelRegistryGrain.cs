namespace Grid.Grains.Models;

[GenerateSerializer, Alias("grid.ModelRegistryState")]
public sealed class ModelRegistryState
{
    [Id(0)] public SortedSet<string> Models { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Persists the set of model names; registering a known model costs no write.</summary>
public sealed class ModelRegistryGrain(
    [PersistentState("registry", Hosting.GridStorage.Name)] IPersistentState<ModelRegistryState> state) : Grain, IModelRegistryGrain
{
    public async Task RegisterAsync(string model)
    {
        if (state.State.Models.Add(model))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Models.ToArray());
}
