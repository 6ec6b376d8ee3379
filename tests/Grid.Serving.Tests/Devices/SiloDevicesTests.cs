using Grid.Devices;

namespace Grid.Serving.Tests.Devices;

public class SiloDevicesTests
{
    private const string NotADevice = "is not a device; expected 'cpu' or 'gpu:N' (e.g. --devices cpu,gpu:0,gpu:1)";

    // ParseList

    [Theory]
    [InlineData("cpu", new[] { "cpu" })]
    [InlineData("gpu:0", new[] { "gpu:0" })]
    [InlineData("cpu,gpu:0,gpu:1", new[] { "cpu", "gpu:0", "gpu:1" })]
    [InlineData("gpu:1,cpu,gpu:0", new[] { "gpu:1", "cpu", "gpu:0" })]
    [InlineData(" cpu , gpu:3 ", new[] { "cpu", "gpu:3" })]
    [InlineData("CPU,Gpu:2", new[] { "cpu", "gpu:2" })]
    [InlineData("GPU:01", new[] { "gpu:1" })]
    public void ParseList_ValidList_ReturnsNormalisedDevicesInOrder(string text, string[] expected)
    {
        // Act
        var (devices, error) = SiloDevices.ParseList(text);

        // Assert
        Assert.Null(error);
        Assert.Equal(expected, devices);
    }

    [Theory]
    [InlineData("tpu", "'tpu' " + NotADevice)]
    [InlineData("cpu,TPU", "'TPU' " + NotADevice)]
    [InlineData("gpu:", "'gpu:' " + NotADevice)]
    [InlineData("gpu:x", "'gpu:x' " + NotADevice)]
    [InlineData("gpu:-1", "'gpu:-1' " + NotADevice)]
    [InlineData("gpu0", "'gpu0' " + NotADevice)]
    [InlineData("cpu,,gpu:0", "'' " + NotADevice)]
    [InlineData("cpu,cpu", "device 'cpu' is listed twice")]
    [InlineData("gpu:1,cpu,GPU:01", "device 'gpu:1' is listed twice")]
    public void ParseList_BadList_ReturnsErrorNamingTheEntry(string text, string expected)
    {
        // Act
        var (devices, error) = SiloDevices.ParseList(text);

        // Assert
        Assert.Null(devices);
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void ParseList_Empty_ReturnsError(string text)
    {
        // Act
        var (devices, error) = SiloDevices.ParseList(text);

        // Assert
        Assert.Null(devices);
        Assert.NotNull(error);
    }

    // ToMetadata / FromMetadata

    [Fact]
    public void ToMetadata_UsableDevices_WritesOnlyTheDeviceList()
    {
        // Arrange
        var devices = new SiloDevices(["cpu", "gpu:0", "gpu:1"], null, false);

        // Act
        var metadata = devices.ToMetadata();

        // Assert
        Assert.Equal(new Dictionary<string, string> { [SiloDevices.DevicesKey] = "cpu,gpu:0,gpu:1" }, metadata);
    }

    [Fact]
    public void ToMetadata_UnusableGpu_WritesTheReason()
    {
        // Arrange
        var devices = new SiloDevices(["cpu", "gpu:0"], "no CUDA engine", false);

        // Act
        var metadata = devices.ToMetadata();

        // Assert
        Assert.Equal(
            new Dictionary<string, string> { [SiloDevices.DevicesKey] = "cpu,gpu:0", [SiloDevices.GpuUnusableKey] = "no CUDA engine" },
            metadata);
    }

    [Fact]
    public void ToMetadata_StandIn_WritesTheStandInFlag()
    {
        // Arrange
        var devices = new SiloDevices(["cpu", "gpu:0"], null, true);

        // Act
        var metadata = devices.ToMetadata();

        // Assert
        Assert.Equal(
            new Dictionary<string, string> { [SiloDevices.DevicesKey] = "cpu,gpu:0", [SiloDevices.GpuStandInKey] = "true" },
            metadata);
    }

    [Theory]
    [InlineData("cpu", null, false)]
    [InlineData("cpu,gpu:0,gpu:1", null, false)]
    [InlineData("gpu:0", "no engine can run on CUDA, here: (really)", false)]
    [InlineData("cpu,gpu:0", null, true)]
    public void FromMetadata_WhatToMetadataWrote_RoundTrips(string list, string? reason, bool standIn)
    {
        // Arrange
        var original = new SiloDevices(list.Split(','), reason, standIn);

        // Act
        var read = SiloDevices.FromMetadata(original.ToMetadata());

        // Assert
        Assert.Equal(original.Devices, read.Devices);
        Assert.Equal(reason, read.GpuUnusableReason);
        Assert.Equal(standIn, read.GpuStandIn);
    }

    [Fact]
    public void FromMetadata_NothingAdvertised_OffersNothing()
    {
        // Act
        var read = SiloDevices.FromMetadata(new Dictionary<string, string> { ["other"] = "x" });

        // Assert
        Assert.Empty(read.Devices);
        Assert.Null(read.GpuUnusableReason);
        Assert.False(read.GpuStandIn);
        Assert.False(read.Satisfies(DeviceRequirement.Any));
    }

    [Fact]
    public void FromMetadata_EmptyDeviceList_OffersNothing()
    {
        // Act
        var read = SiloDevices.FromMetadata(new Dictionary<string, string> { [SiloDevices.DevicesKey] = "" });

        // Assert
        Assert.Empty(read.Devices);
    }

    [Fact]
    public void FromMetadata_StandInNotTrue_IsNotAStandIn()
    {
        // Act
        var read = SiloDevices.FromMetadata(new Dictionary<string, string> { [SiloDevices.DevicesKey] = "gpu:0", [SiloDevices.GpuStandInKey] = "false" });

        // Assert
        Assert.False(read.GpuStandIn);
    }

    // Satisfies

    [Theory]
    [InlineData("cpu", false, false, DeviceRequirement.Any, true)]
    [InlineData("cpu", false, false, DeviceRequirement.Cpu, true)]
    [InlineData("cpu", false, false, DeviceRequirement.Gpu, false)]
    [InlineData("cpu,gpu:0", false, false, DeviceRequirement.Any, true)]
    [InlineData("cpu,gpu:0", false, false, DeviceRequirement.Cpu, true)]
    [InlineData("cpu,gpu:0", false, false, DeviceRequirement.Gpu, true)]
    [InlineData("cpu,gpu:0", true, false, DeviceRequirement.Any, true)]
    [InlineData("cpu,gpu:0", true, false, DeviceRequirement.Cpu, true)]
    [InlineData("cpu,gpu:0", true, false, DeviceRequirement.Gpu, false)]
    [InlineData("gpu:0", false, false, DeviceRequirement.Any, true)]
    [InlineData("gpu:0", false, false, DeviceRequirement.Cpu, false)]
    [InlineData("gpu:0", false, false, DeviceRequirement.Gpu, true)]
    [InlineData("gpu:0", true, false, DeviceRequirement.Any, false)]
    [InlineData("gpu:0", true, false, DeviceRequirement.Cpu, false)]
    [InlineData("gpu:0", true, false, DeviceRequirement.Gpu, false)]
    [InlineData("cpu,gpu:0", false, true, DeviceRequirement.Any, true)]
    [InlineData("cpu,gpu:0", false, true, DeviceRequirement.Cpu, true)]
    [InlineData("cpu,gpu:0", false, true, DeviceRequirement.Gpu, true)]
    [InlineData("", false, false, DeviceRequirement.Any, false)]
    [InlineData("", false, false, DeviceRequirement.Cpu, false)]
    [InlineData("", false, false, DeviceRequirement.Gpu, false)]
    [InlineData("", true, false, DeviceRequirement.Gpu, false)]
    public void Satisfies_DevicesAndRequirement_MatchesTheTruthTable(string list, bool unusable, bool standIn, DeviceRequirement requirement, bool expected)
    {
        // Arrange
        var devices = new SiloDevices(list.Length == 0 ? [] : list.Split(','), unusable ? "no CUDA engine" : null, standIn);

        // Act
        var satisfies = devices.Satisfies(requirement);

        // Assert
        Assert.Equal(expected, satisfies);
    }

    // ToString

    [Theory]
    [InlineData(null, false, "cpu,gpu:0")]
    [InlineData("no CUDA engine", false, "cpu,gpu:0 (GPU unusable: no CUDA engine)")]
    [InlineData(null, true, "cpu,gpu:0 (GPU stand-in on the CPU engine)")]
    public void ToString_Devices_ListsThemWithTheGpuCaveat(string? reason, bool standIn, string expected)
    {
        // Act
        var text = new SiloDevices(["cpu", "gpu:0"], reason, standIn).ToString();

        // Assert
        Assert.Equal(expected, text);
    }

    // DeviceRequirements

    [Theory]
    [InlineData("gpu", DeviceRequirement.Gpu)]
    [InlineData("GPU", DeviceRequirement.Gpu)]
    [InlineData(" Gpu ", DeviceRequirement.Gpu)]
    [InlineData("KIND_GPU", DeviceRequirement.Gpu)]
    [InlineData("kind_gpu", DeviceRequirement.Gpu)]
    [InlineData("cpu", DeviceRequirement.Cpu)]
    [InlineData("Cpu", DeviceRequirement.Cpu)]
    [InlineData("KIND_CPU", DeviceRequirement.Cpu)]
    [InlineData("any", DeviceRequirement.Any)]
    [InlineData("ANY", DeviceRequirement.Any)]
    [InlineData("auto", DeviceRequirement.Any)]
    [InlineData("KIND_AUTO", DeviceRequirement.Any)]
    public void TryParse_KnownRequirement_ReturnsIt(string text, DeviceRequirement expected)
    {
        // Act
        var parsed = DeviceRequirements.TryParse(text, out var requirement);

        // Assert
        Assert.True(parsed);
        Assert.Equal(expected, requirement);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("KIND_TPU")]
    [InlineData("KIND_MODEL")]
    [InlineData("gpu:0")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_UnknownRequirement_ReturnsFalse(string? text)
    {
        // Act
        var parsed = DeviceRequirements.TryParse(text, out var requirement);

        // Assert
        Assert.False(parsed);
        Assert.Equal(default, requirement);
    }

    [Theory]
    [InlineData(DeviceRequirement.Any, "any")]
    [InlineData(DeviceRequirement.Cpu, "cpu")]
    [InlineData(DeviceRequirement.Gpu, "gpu")]
    public void ToText_Requirement_IsTheFlagSpellingThatParsesBack(DeviceRequirement requirement, string expected)
    {
        // Act
        var text = requirement.ToText();

        // Assert
        Assert.Equal(expected, text);
        Assert.True(DeviceRequirements.TryParse(text, out var back));
        Assert.Equal(requirement, back);
    }
}
