using System.Net.Sockets;
using Grid.Bench.Processes;
using Grid.Testing;

namespace Grid.Bench.Tests.Processes;

/// <summary>
/// The process plumbing of grid-cluster without a working grid: free ports, the private Redis
/// (started, answering, stopped with SIGTERM) and a cluster whose silo cannot start.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class ClusterProcessesTests
{
    [Fact]
    public void Free_ManyPorts_AreDistinct()
    {
        var ports = Ports.Free(5);

        Assert.Equal(5, ports.Distinct().Count());
        Assert.All(ports, p => Assert.InRange(p, 1, 65535));
    }

    [Fact]
    public async Task RedisServer_StartThenStop_AnswersThenExitsOnSigterm()
    {
        // Arrange
        using var temp = new TempDirectory();
        var port = Ports.Free(1)[0];

        // Act
        var redis = await RedisServer.StartAsync(port, temp.Combine("redis"), CancellationToken.None).WithTimeout(TimeSpan.FromSeconds(30));
        await using (redis)
        {
            Assert.False(redis.HasExited);
            Assert.True(await Connects(port));
            await redis.StopAsync(TimeSpan.FromSeconds(10)).WithTimeout(TimeSpan.FromSeconds(60));

            // Assert: it shut down on SIGTERM, and its port is closed
            Assert.True(redis.HasExited);
            Assert.Equal(0, await redis.ExitCodeAsync(CancellationToken.None));
            Assert.False(await Connects(port));
        }
        Assert.Empty(Directory.EnumerateFiles(temp.Combine("redis")));   // no snapshot, no append-only file
    }

    [Fact]
    public async Task Cluster_GridThatCannotStart_WaitFailsNamingTheProcessThatExited()
    {
        // Arrange: a grid.dll that does not exist, so `dotnet` exits at once for silo and gateway
        using var temp = new TempDirectory();
        var cluster = await ClusterServer.StartAsync(temp.Combine("no-such-grid.dll"), temp.Path, [], temp.Combine("work"), CancellationToken.None)
            .WithTimeout(TimeSpan.FromSeconds(30));
        await using (cluster)
        {
            // Act
            var e = await Assert.ThrowsAsync<ServerStartException>(
                () => cluster.WaitUntilAvailableAsync(["fashion"], TimeSpan.FromSeconds(60), CancellationToken.None).WithTimeout(TimeSpan.FromSeconds(90)));

            // Assert
            Assert.Matches("^grid (silo|gateway) exited with code [1-9][0-9]* before model fashion was available: ", e.Message);
            Assert.True(cluster.HasExited);
        }
    }

    private static async Task<bool> Connects(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
