namespace Grid.Grains;

/// <summary>
/// The cluster's list of known models (key: <see cref="Key"/>), persisted, so any gateway can
/// list them and their managers can be found after every process has restarted.
/// </summary>
[Alias("grid.IModelRegistryGrain")]
public interface IModelRegistryGrain : IGrainWithStringKey
{
    const string Key = "models";

    [Alias("Register")]
    Task RegisterAsync(string model);

    [Alias("List"), Orleans.Concurrency.AlwaysInterleave]
    Task<string[]> ListAsync();
}
