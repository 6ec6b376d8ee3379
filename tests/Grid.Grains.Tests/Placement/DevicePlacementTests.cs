using Grid.Devices;
using Grid.Grains.Hosting;
using Grid.Models;
using Grid.Serving.Repository;
using Grid.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Grid.Grains.Tests.Placement;

/// <summary>
/// Three in-process silos: Silo_0 offers only the CPU, Silo_1 a GPU stand-in, Silo_2 a CPU and a
/// GPU that no engine can use. The device filter must hold for activations created from the
/// external client, whichever silo places them.
/// </summary>
public sealed class DevicePlacementFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public static SiloDevices DevicesOf(string siloName) => siloName switch
    {
        "Silo_0" => new SiloDevices(["cpu"], null, false),
        "Silo_1" => new SiloDevices(["gpu:0"], null, true),
        _ => new SiloDevices(["cpu", "gpu:0"], "no CUDA engine", false),
    };

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((options, silo) => silo.AddGridTestSilo(DevicesOf(options.SiloName)).Services.AddGridGrains());
        Cluster = builder.Build();
        await Cluster.DeployAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
}

public sealed class DevicePlacementTests(DevicePlacementFixture fixture) : IClassFixture<DevicePlacementFixture>
{
    private static AspiredVersion HalfPlusTwo()
    {
        var dir = Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123");
        return new AspiredVersion(123, dir, RepositoryScanner.Fingerprint(dir, out _)!);
    }

    private async Task<List<string>> LoadReplicasAsync(string model, DeviceRequirement device, int count)
    {
        var silos = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var loaded = await fixture.Cluster.Client.Replica(model, 123, i, device).LoadAsync(HalfPlusTwo()).DefaultTimeout();
            silos.Add(loaded.Silo);
        }
        return silos;
    }

    private string AddressOf(string siloName) => fixture.Cluster.Silos.Single(s => s.Name == siloName).SiloAddress.ToString();

    [Fact]
    public async Task GpuReplicas_FromTheClient_LandOnlyOnTheUsableGpuSilo()
    {
        var silos = await LoadReplicasAsync("gpu-model", DeviceRequirement.Gpu, 12);

        Assert.All(silos, s => Assert.Equal(AddressOf("Silo_1"), s));
    }

    [Fact]
    public async Task CpuReplicas_NeverLandOnTheGpuOnlySilo()
    {
        var silos = await LoadReplicasAsync("cpu-model", DeviceRequirement.Cpu, 12);

        Assert.DoesNotContain(AddressOf("Silo_1"), silos);
    }

    [Fact]
    public async Task ModelGrain_TwoReplicas_SpreadOverTwoSilos()
    {
        var model = fixture.Cluster.Client.GetGrain<IModelGrain>("spread");

        await model.SetAspiredVersionsAsync([HalfPlusTwo()], new ModelDeployment(2, DeviceRequirement.Cpu, "test")).DefaultTimeout();
        var status = await model.GetStatusAsync().DefaultTimeout();

        var replicas = status.Versions.Single().Replicas;
        Assert.Equal(2, replicas.Length);
        Assert.All(replicas, r => Assert.Equal(ReplicaState.Available, r.State));
        Assert.Equal(2, replicas.Select(r => r.Silo).Distinct().Count());
        Assert.DoesNotContain(AddressOf("Silo_1"), replicas.Select(r => r.Silo));
    }
}
