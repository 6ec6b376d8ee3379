namespace Grid.Bench.Tests;

/// <summary>
/// Tests whose results depend on getting the CPU for a fraction of a second (the load loops)
/// and the end-to-end run that saturates both cores: never run beside each other or beside
/// the rest of this assembly.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}
