using Grid.Devices;
using Grid.Serving.Inference;

namespace Grid.Serving.Tests.Inference;

public class DeviceResolutionTests
{
    private static readonly CudaProbe TwoCudaDevices = new(true, 2, null);
    private static readonly CudaProbe NoCuda = new(false, 0, "the bundled libtorch is the CPU build");

    [Fact]
    public void Resolve_NoFlagNoGpus_OffersTheCpuOnly()
    {
        // Act
        var devices = DeviceResolution.Resolve(null, gpuStandIn: false, driverGpus: 0, cuda: null);

        // Assert
        Assert.Equal(new[] { "cpu" }, devices.Devices);
        Assert.Null(devices.GpuUnusableReason);
        Assert.False(devices.GpuStandIn);
    }

    [Fact]
    public void Resolve_NoFlagCudaAvailable_OffersEveryCudaDevice()
    {
        // Act: the driver lists 4, CUDA_VISIBLE_DEVICES left 2
        var devices = DeviceResolution.Resolve(null, gpuStandIn: false, driverGpus: 4, TwoCudaDevices);

        // Assert
        Assert.Equal(new[] { "cpu", "gpu:0", "gpu:1" }, devices.Devices);
        Assert.Null(devices.GpuUnusableReason);
        Assert.True(devices.Satisfies(DeviceRequirement.Gpu));
    }

    [Fact]
    public void Resolve_DriverGpusWithoutCuda_ListsThemAsUnusableWithTheProbeReason()
    {
        // Act
        var devices = DeviceResolution.Resolve(null, gpuStandIn: false, driverGpus: 2, NoCuda);

        // Assert
        Assert.Equal(new[] { "cpu", "gpu:0", "gpu:1" }, devices.Devices);
        Assert.Equal("the bundled libtorch is the CPU build", devices.GpuUnusableReason);
        Assert.False(devices.Satisfies(DeviceRequirement.Gpu));
        Assert.True(devices.Satisfies(DeviceRequirement.Any));
    }

    [Fact]
    public void Resolve_GpuListedWithoutProbe_SaysCudaWasNotProbed()
    {
        // Act
        var devices = DeviceResolution.Resolve("gpu:0", gpuStandIn: false, driverGpus: 0, cuda: null);

        // Assert
        Assert.Equal(DeviceResolution.NotProbedReason, devices.GpuUnusableReason);
    }

    [Fact]
    public void Resolve_FlagListsAGpuCudaDoesNotSee_NamesIt()
    {
        // Act
        var devices = DeviceResolution.Resolve("cpu,gpu:0,gpu:2", gpuStandIn: false, driverGpus: 0, TwoCudaDevices);

        // Assert
        Assert.Equal("--devices lists gpu:2, and CUDA sees 2 device(s)", devices.GpuUnusableReason);
    }

    [Fact]
    public void Resolve_FlagSubsetOfCudaDevices_OffersJustThose()
    {
        // Act
        var devices = DeviceResolution.Resolve("gpu:1", gpuStandIn: false, driverGpus: 2, TwoCudaDevices);

        // Assert
        Assert.Equal(new[] { "gpu:1" }, devices.Devices);
        Assert.Null(devices.GpuUnusableReason);
        Assert.False(devices.Satisfies(DeviceRequirement.Cpu));
    }

    [Fact]
    public void Resolve_StandIn_AcceptsGpuPlacementsWithoutCuda()
    {
        // Act
        var devices = DeviceResolution.Resolve("cpu,gpu:0", gpuStandIn: true, driverGpus: 0, NoCuda);

        // Assert
        Assert.Null(devices.GpuUnusableReason);
        Assert.True(devices.GpuStandIn);
        Assert.True(devices.Satisfies(DeviceRequirement.Gpu));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resolve_CpuOnlyFlag_HasNoReasonAndNoStandIn(bool gpuStandIn)
    {
        // Act
        var devices = DeviceResolution.Resolve("cpu", gpuStandIn, driverGpus: 2, TwoCudaDevices);

        // Assert
        Assert.Equal(new[] { "cpu" }, devices.Devices);
        Assert.Null(devices.GpuUnusableReason);
        Assert.False(devices.GpuStandIn);
    }

    [Fact]
    public void Resolve_BadFlag_Throws()
    {
        // Act
        var error = Assert.Throws<ArgumentException>(() => DeviceResolution.Resolve("tpu", false, 0, null));

        // Assert
        Assert.Equal("invalid --devices 'tpu'", error.Message);
    }

    [Fact]
    public void Combine_OneEngineSeesCuda_IsAvailableWithItsDevices()
    {
        // Arrange: libtorch is the CPU build, ONNX Runtime's CUDA provider sees two GPUs
        var probes = new[] { ("libtorch", new CudaProbe(false, 0, "libtorch is a CPU build")), ("ONNX Runtime", new CudaProbe(true, 2, null)) };

        // Act
        var combined = DeviceResolution.Combine(probes);

        // Assert
        Assert.Equal(new CudaProbe(true, 2, null), combined);
    }

    [Fact]
    public void Combine_NoEngineSeesCuda_NamesEachEnginesReason()
    {
        // Arrange
        var probes = new[] { ("libtorch", new CudaProbe(false, 0, "libtorch is a CPU build")), ("ONNX Runtime", new CudaProbe(false, 0, "libcudart.so.13 not found in /x")) };

        // Act
        var combined = DeviceResolution.Combine(probes);

        // Assert
        Assert.False(combined!.Available);
        Assert.Equal("libtorch: libtorch is a CPU build; ONNX Runtime: libcudart.so.13 not found in /x", combined.UnavailableReason);
    }

    [Fact]
    public void Combine_NoProbes_IsNull()
    {
        // Act
        var combined = DeviceResolution.Combine([]);

        // Assert
        Assert.Null(combined);
    }
}
