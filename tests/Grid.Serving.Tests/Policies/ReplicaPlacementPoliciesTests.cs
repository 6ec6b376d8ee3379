using Grid.Devices;
using Grid.Serving.Policies;

namespace Grid.Serving.Tests.Policies;

public class ReplicaPlacementPoliciesTests
{
    private const string A = "10.0.0.1:11111";
    private const string B = "10.0.0.2:11111";
    private const string C = "10.0.0.3:11111";

    private readonly SpreadThenLeastLoadedPlacement _placement = new();
    private readonly SpreadRebalancePolicy _rebalance = new();

    private static SiloCandidate Silo(string address, SiloDevices devices, int hosted, string? name = null)
        => new(address, name ?? "silo-" + address, devices, hosted);

    // SpreadThenLeastLoadedPlacement

    [Fact]
    public void Place_GpuRequirement_SkipsCpuOnlySilo()
    {
        // Arrange: the CPU-only silo is idle, the GPU silo busy
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 0), Silo(B, TestDevices.Gpu, hosted: 5)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Gpu, silos, []);

        // Assert
        Assert.Equal(new PlacementDecision(B, null), decision);
    }

    [Fact]
    public void Place_GpuRequirement_SkipsSiloWhoseGpuIsUnusable()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.UnusableGpu, hosted: 0), Silo(B, TestDevices.Gpu, hosted: 3)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Gpu, silos, []);

        // Assert
        Assert.Equal(new PlacementDecision(B, null), decision);
    }

    [Fact]
    public void Place_GpuRequirement_AcceptsStandInGpuSilo()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 0), Silo(B, TestDevices.StandInGpu, hosted: 2)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Gpu, silos, []);

        // Assert
        Assert.Equal(new PlacementDecision(B, null), decision);
    }

    [Fact]
    public void Place_AnyRequirement_AcceptsCpuOnlySilo()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 0)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Any, silos, []);

        // Assert
        Assert.Equal(new PlacementDecision(A, null), decision);
    }

    [Fact]
    public void Place_CpuRequirement_SkipsGpuOnlySilo()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.GpuOnly, hosted: 0), Silo(B, TestDevices.Cpu, hosted: 7)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Cpu, silos, []);

        // Assert
        Assert.Equal(new PlacementDecision(B, null), decision);
    }

    [Fact]
    public void Place_FewerSiblings_WinsEvenWhenMoreLoaded()
    {
        // Arrange: A already hosts a replica of this version; B hosts many replicas of other models
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 1), Silo(B, TestDevices.Cpu, hosted: 10)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Any, silos, [A]);

        // Assert
        Assert.Equal(B, decision.Silo);
    }

    [Fact]
    public void Place_SiblingCountsCountEveryReplica_PrefersSiloWithFewest()
    {
        // Arrange: A hosts two siblings, B one, C two
        SiloCandidate[] silos =
        [
            Silo(A, TestDevices.Cpu, hosted: 2),
            Silo(B, TestDevices.Cpu, hosted: 9),
            Silo(C, TestDevices.Cpu, hosted: 2),
        ];

        // Act
        var decision = _placement.Place(DeviceRequirement.Any, silos, [A, C, A, B, C]);

        // Assert
        Assert.Equal(B, decision.Silo);
    }

    [Fact]
    public void Place_EqualSiblings_LeastLoadedWins()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 4), Silo(B, TestDevices.Cpu, hosted: 2)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Any, silos, [A, B]);

        // Assert
        Assert.Equal(B, decision.Silo);
    }

    [Fact]
    public void Place_EqualSiblingsAndLoad_LowestAddressWinsWhateverTheOrder()
    {
        // Arrange
        var a = Silo(A, TestDevices.Cpu, hosted: 3);
        var b = Silo(B, TestDevices.Cpu, hosted: 3);

        // Act
        var forward = _placement.Place(DeviceRequirement.Any, [a, b], []);
        var backward = _placement.Place(DeviceRequirement.Any, [b, a], []);

        // Assert
        Assert.Equal(A, forward.Silo);
        Assert.Equal(A, backward.Silo);
    }

    [Fact]
    public void Place_SiblingOnSiloThatIsNotActive_IsIgnored()
    {
        // Arrange: the sibling lives on a silo that has left; the active silos tie on siblings
        SiloCandidate[] silos = [Silo(B, TestDevices.Cpu, hosted: 1), Silo(C, TestDevices.Cpu, hosted: 0)];

        // Act
        var decision = _placement.Place(DeviceRequirement.Any, silos, ["10.0.0.9:11111"]);

        // Assert
        Assert.Equal(C, decision.Silo);
    }

    [Fact]
    public void Place_NoQualifyingSilo_RefusesNamingTheRequirementAndListingActiveSilos()
    {
        // Arrange
        SiloCandidate[] silos =
        [
            Silo(A, TestDevices.Cpu, hosted: 0, name: "silo-a"),
            Silo(B, TestDevices.UnusableGpu, hosted: 0, name: "silo-b"),
        ];

        // Act
        var decision = _placement.Place(DeviceRequirement.Gpu, silos, []);

        // Assert
        Assert.Null(decision.Silo);
        Assert.Equal(
            "No silo can host it: it needs a usable GPU (device requirement 'gpu'), and none of the active silos offers one; "
            + "active silos: silo-a (10.0.0.1:11111) offers cpu; silo-b (10.0.0.2:11111) offers cpu,gpu:0 (GPU unusable: no CUDA engine)",
            decision.Refusal);
    }

    [Fact]
    public void Place_CpuRequirementOnGpuOnlySilos_RefusalNamesTheCpu()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.GpuOnly, hosted: 0, name: "silo-a")];

        // Act
        var decision = _placement.Place(DeviceRequirement.Cpu, silos, []);

        // Assert
        Assert.Null(decision.Silo);
        Assert.Equal(
            "No silo can host it: it needs the CPU (device requirement 'cpu'), and none of the active silos offers one; "
            + "active silos: silo-a (10.0.0.1:11111) offers gpu:0",
            decision.Refusal);
    }

    [Fact]
    public void Place_NoActiveSilos_RefusalSaysNoSiloIsActive()
    {
        // Act
        var decision = _placement.Place(DeviceRequirement.Any, [], []);

        // Assert
        Assert.Null(decision.Silo);
        Assert.Equal(
            "No silo can host it: it needs a usable device (device requirement 'any'), and none of the active silos offers one; no silo is active",
            decision.Refusal);
    }

    // SpreadRebalancePolicy

    [Fact]
    public void NextMove_TwoReplicasOnOneSiloAndAnEmptyQualifyingSilo_MovesTheHighestNumberedReplica()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 2), Silo(B, TestDevices.Cpu, hosted: 0)];
        (int, string)[] replicas = [(3, A), (1, A)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Equal(new ReplicaMove(3, A, B), move);
    }

    [Fact]
    public void NextMove_SeveralEmptyQualifyingSilos_MovesToTheLeastLoaded()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 2), Silo(B, TestDevices.Cpu, hosted: 5), Silo(C, TestDevices.Cpu, hosted: 1)];
        (int, string)[] replicas = [(0, A), (1, A)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Equal(new ReplicaMove(1, A, C), move);
    }

    [Fact]
    public void NextMove_SeveralEmptySilosEquallyLoaded_MovesToTheLowestAddress()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(C, TestDevices.Cpu, hosted: 1), Silo(A, TestDevices.Cpu, hosted: 2), Silo(B, TestDevices.Cpu, hosted: 1)];
        (int, string)[] replicas = [(0, A), (1, A)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Equal(new ReplicaMove(1, A, B), move);
    }

    [Fact]
    public void NextMove_SeveralCrowdedSilos_MovesFromTheMostCrowded()
    {
        // Arrange: A holds two replicas, B three, C none
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 2), Silo(B, TestDevices.Cpu, hosted: 3), Silo(C, TestDevices.Cpu, hosted: 0)];
        (int, string)[] replicas = [(0, A), (1, B), (2, A), (3, B), (4, B)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Equal(new ReplicaMove(4, B, C), move);
    }

    [Fact]
    public void NextMove_GpuRequirement_SkipsEmptySiloWithoutAUsableGpu()
    {
        // Arrange: B is empty but CPU-only; C is empty with a GPU
        SiloCandidate[] silos = [Silo(A, TestDevices.Gpu, hosted: 2), Silo(B, TestDevices.Cpu, hosted: 0), Silo(C, TestDevices.Gpu, hosted: 4)];
        (int, string)[] replicas = [(0, A), (1, A)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Gpu, silos, replicas);

        // Assert
        Assert.Equal(new ReplicaMove(1, A, C), move);
    }

    [Fact]
    public void NextMove_AlreadySpread_ReturnsNull()
    {
        // Arrange: one replica per silo, and an empty qualifying silo that needs nothing
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 1), Silo(B, TestDevices.Cpu, hosted: 1), Silo(C, TestDevices.Cpu, hosted: 0)];
        (int, string)[] replicas = [(0, A), (1, B)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Null(move);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NextMove_CrowdedButTheOnlyOtherSiloLacksTheDevice_ReturnsNull(bool otherHasUnusableGpu)
    {
        // Arrange
        var other = otherHasUnusableGpu ? TestDevices.UnusableGpu : TestDevices.Cpu;
        SiloCandidate[] silos = [Silo(A, TestDevices.Gpu, hosted: 2), Silo(B, other, hosted: 0)];
        (int, string)[] replicas = [(0, A), (1, A)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Gpu, silos, replicas);

        // Assert
        Assert.Null(move);
    }

    [Fact]
    public void NextMove_CrowdedAndEveryOtherSiloHostsAReplica_ReturnsNull()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 2), Silo(B, TestDevices.Cpu, hosted: 1)];
        (int, string)[] replicas = [(0, A), (1, A), (2, B)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Null(move);
    }

    [Fact]
    public void NextMove_SingleReplica_ReturnsNull()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 1), Silo(B, TestDevices.Cpu, hosted: 0)];
        (int, string)[] replicas = [(0, A)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, replicas);

        // Assert
        Assert.Null(move);
    }

    [Fact]
    public void NextMove_NoReplicas_ReturnsNull()
    {
        // Arrange
        SiloCandidate[] silos = [Silo(A, TestDevices.Cpu, hosted: 0)];

        // Act
        var move = _rebalance.NextMove(DeviceRequirement.Any, silos, []);

        // Assert
        Assert.Null(move);
    }
}

/// <summary>The device sets the placement tests use.</summary>
internal static class TestDevices
{
    public static SiloDevices Cpu { get; } = new(["cpu"], null, false);

    public static SiloDevices Gpu { get; } = new(["cpu", "gpu:0"], null, false);

    public static SiloDevices GpuOnly { get; } = new(["gpu:0"], null, false);

    public static SiloDevices UnusableGpu { get; } = new(["cpu", "gpu:0"], "no CUDA engine", false);

    public static SiloDevices StandInGpu { get; } = new(["cpu", "gpu:0"], null, true);
}
