using Grid.Devices;
using Grid.Models;
using Grid.Serving.Inference;
using Grid.Serving.Policies;
using Grid.Tensors;

namespace Grid.Serving.Tests.Inference;

public class DeviceBinderTests
{
    private const string What = "model m version 1 replica 0";
    private static readonly FakeEngine CudaEngine = new("pytorch_libtorch", supportsCuda: true);
    private static readonly FakeEngine CpuEngine = new("onnxruntime_onnx", supportsCuda: false);

    private static DeviceBinder Binder(SiloDevices devices, long? limit = null)
        => new(devices, new DeviceBindingOptions { GpuMemoryLimitBytes = limit }, new FewestReplicasGpuChoice());

    private static SiloDevices TwoGpus => new(["cpu", "gpu:0", "gpu:1"], null, false);

    [Fact]
    public void Bind_GpuOnTwoGpus_SpreadsReplicasAcrossThem()
    {
        // Arrange
        var binder = Binder(TwoGpus);

        // Act
        using var first = binder.Bind(DeviceRequirement.Gpu, CudaEngine, 100, What);
        using var second = binder.Bind(DeviceRequirement.Gpu, CudaEngine, 100, What);

        // Assert
        Assert.Equal("gpu:0", first.Device.Name);
        Assert.Equal("gpu:1", second.Device.Name);
        Assert.True(first.Device.RunsOnCuda);
        Assert.Equal([new GpuUse(0, 1, 100), new GpuUse(1, 1, 100)], binder.Snapshot());
    }

    [Fact]
    public void Bind_LeaseDisposed_ReleasesTheGpuOnce()
    {
        // Arrange
        var binder = Binder(TwoGpus);
        var lease = binder.Bind(DeviceRequirement.Gpu, CudaEngine, 100, What);

        // Act
        lease.Dispose();
        lease.Dispose();

        // Assert
        Assert.Equal([new GpuUse(0, 0, 0), new GpuUse(1, 0, 0)], binder.Snapshot());
    }

    [Fact]
    public void Bind_OverTheMemoryLimit_FailsWithResourceExhausted()
    {
        // Arrange: 1 MiB per GPU, one GPU
        var binder = Binder(new SiloDevices(["cpu", "gpu:0"], null, false), limit: 1024 * 1024);
        using var held = binder.Bind(DeviceRequirement.Gpu, CudaEngine, 700 * 1024, What);

        // Act
        var error = Assert.Throws<ServingException>(() => binder.Bind(DeviceRequirement.Gpu, CudaEngine, 400 * 1024, What));

        // Assert
        Assert.Equal(ServingStatusCode.ResourceExhausted, error.Code);
        Assert.Equal("model m version 1 replica 0 needs about 0.4 MiB of GPU memory, and no GPU on this silo has that left under --gpu_memory_mib 1 (most free: 0.3 MiB)", error.Message);
        Assert.Equal([new GpuUse(0, 1, 700 * 1024)], binder.Snapshot());
    }

    [Fact]
    public void Bind_GpuForCpuOnlyEngine_FailsWithTheReason()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Binder(TwoGpus).Bind(DeviceRequirement.Gpu, CpuEngine, 10, What));

        // Assert
        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.StartsWith("model m version 1 replica 0 needs a GPU, and its engine onnxruntime_onnx cannot run on CUDA in this process", error.Message);
    }

    [Fact]
    public void Bind_GpuOnSiloWithUnusableGpus_SaysWhy()
    {
        // Arrange
        var binder = Binder(new SiloDevices(["cpu", "gpu:0"], "no CUDA", false));

        // Act
        var error = Assert.Throws<ServingException>(() => binder.Bind(DeviceRequirement.Gpu, CudaEngine, 10, What));

        // Assert
        Assert.Equal("model m version 1 replica 0 needs a GPU, and this silo's GPUs are unusable: no CUDA", error.Message);
    }

    [Fact]
    public void Bind_GpuOnStandIn_BindsAStandInGpuEvenForACpuEngine()
    {
        // Arrange
        var binder = Binder(new SiloDevices(["cpu", "gpu:0"], null, GpuStandIn: true));

        // Act
        using var lease = binder.Bind(DeviceRequirement.Gpu, CpuEngine, 10, What);

        // Assert
        Assert.Equal("gpu:0", lease.Device.Name);
        Assert.True(lease.Device.StandIn);
        Assert.False(lease.Device.RunsOnCuda);
    }

    [Fact]
    public void Bind_AnyWithCudaEngine_TakesTheGpu()
    {
        // Act
        using var lease = Binder(TwoGpus).Bind(DeviceRequirement.Any, CudaEngine, 10, What);

        // Assert
        Assert.Equal("gpu:0", lease.Device.Name);
    }

    [Fact]
    public void Bind_AnyWithCpuEngine_RunsOnTheCpu()
    {
        // Act
        using var lease = Binder(TwoGpus).Bind(DeviceRequirement.Any, CpuEngine, 10, What);

        // Assert
        Assert.Equal(ExecutionDevice.Cpu, lease.Device);
    }

    [Fact]
    public void Bind_AnyWhenGpusAreFull_FallsBackToTheCpu()
    {
        // Arrange
        var binder = Binder(new SiloDevices(["cpu", "gpu:0"], null, false), limit: 100);

        // Act
        using var lease = binder.Bind(DeviceRequirement.Any, CudaEngine, 200, What);

        // Assert
        Assert.Equal(ExecutionDevice.Cpu, lease.Device);
        Assert.Equal([new GpuUse(0, 0, 0)], binder.Snapshot());
    }

    [Fact]
    public void Bind_AnyOnStandIn_PrefersTheCpu()
    {
        // Act
        using var lease = Binder(new SiloDevices(["cpu", "gpu:0"], null, true)).Bind(DeviceRequirement.Any, CudaEngine, 10, What);

        // Assert
        Assert.Equal(ExecutionDevice.Cpu, lease.Device);
    }

    [Fact]
    public void Bind_CpuOnGpuOnlySilo_Fails()
    {
        // Act
        var error = Assert.Throws<ServingException>(() => Binder(new SiloDevices(["gpu:0"], null, false)).Bind(DeviceRequirement.Cpu, CpuEngine, 10, What));

        // Assert
        Assert.Equal("model m version 1 replica 0 needs the CPU, and this silo offers only gpu:0", error.Message);
    }

    private sealed class FakeEngine(string name, bool supportsCuda) : IModelEngine
    {
        public string Name => name;

        public bool SupportsCuda => supportsCuda;

        public bool CanLoad(string versionDirectory) => true;

        public IModelSession Load(string versionDirectory, ExecutionDevice device) => throw new NotSupportedException("binding never loads");
    }
}
