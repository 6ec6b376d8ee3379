using Grid.Grains.Hosting;
using Grid.Devices;
using Orleans.TestingHost;

namespace Grid.Grains.Tests;

/// <summary>One in-process Orleans cluster with the model grains, shared by a test class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddGridTestSilo().Services.AddGridGrains());
        Cluster = builder.Build();
        await Cluster.DeployAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
    }
}

/// <summary>The same cluster with <c>--enable_batching</c>: 8-row batches that wait up to 50 ms.</summary>
public sealed class BatchingClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddGridTestSilo().Services.AddGridGrains(configureBatching: b =>
        {
            b.Enabled = true;
            b.Parameters = new Grid.Serving.Batching.BatchingParameters(MaxBatchSize: 8, BatchTimeoutMicros: 50_000, MaxEnqueuedBatches: 100, NumBatchThreads: 1);
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
    }
}

public static class TestSiloExtensions
{
    /// <summary>In-memory grain state and a CPU-only device advertisement: what <c>grid serve</c> configures.</summary>
    public static ISiloBuilder AddGridTestSilo(this ISiloBuilder silo, SiloDevices? devices = null)
    {
        silo.AddMemoryGrainStorage(GridStorage.Name);
        return silo.AddGridPlacement(devices ?? new SiloDevices(["cpu"], null, false));
    }
}
