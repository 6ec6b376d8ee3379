using Grid.Bench.Torch;

namespace Grid.Bench.Tests.Torch;

public sealed class GpuCheckTests
{
    [Fact]
    public void GpuUnusableReason_CudaUnavailable_SaysWhy()
    {
        var check = new GpuCheck { Status = new TorchStatus("bundled libtorch-cpu", false, 0, "the bundled libtorch is the CPU build", 2) };

        Assert.Equal("no usable GPU: the bundled libtorch is the CPU build", check.GpuUnusableReason);
        Assert.Null(check.LoadError);
        Assert.Equal("bundled libtorch-cpu, 2 CPU threads, CUDA unavailable: the bundled libtorch is the CPU build", check.Describe());
    }

    [Fact]
    public void GpuUnusableReason_CudaAvailable_IsNull()
    {
        var check = new GpuCheck { Status = new TorchStatus("/opt/torch/lib", true, 1, null, 16) };

        Assert.Null(check.GpuUnusableReason);
        Assert.Equal("/opt/torch/lib, 16 CPU threads, CUDA available (1 device)", check.Describe());
    }

    [Fact]
    public void GpuUnusableReason_LibTorchDidNotLoad_SaysSo()
    {
        var check = new GpuCheck { LoadError = "--libtorch_path /x: no libtorch.so there" };

        Assert.Equal("no usable GPU: libtorch did not load in grid-bench (--libtorch_path /x: no libtorch.so there)", check.GpuUnusableReason);
        Assert.Equal("did not load: --libtorch_path /x: no libtorch.so there", check.Describe());
    }

    [Fact]
    public void GpuUnusableReason_LibTorchNotNeeded_IsNull()
    {
        var check = new GpuCheck();

        Assert.Null(check.GpuUnusableReason);
        Assert.Equal("not loaded", check.Describe());
    }

    [Fact]
    public void Reason_TypeInitializerWrappingALoadError_IsTheInnerFirstLine()
    {
        var error = new TypeInitializationException("TorchSharp.torch",
            new NotSupportedException("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64.\n\nTrace from LoadNativeBackend: ..."));

        Assert.Equal("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64.", GpuCheck.Reason(error));
    }

    [Fact]
    public void Reason_LibTorchErrorWithBacktrace_IsTheFirstLine()
    {
        var error = new System.Runtime.InteropServices.ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB\nException raised from malloc at c10/cuda/CUDACachingAllocator.cpp");

        Assert.Equal("CUDA out of memory. Tried to allocate 2.00 GiB", GpuCheck.Reason(error));
    }
}
