namespace Grid.Gpu.Tests;

/// <summary>
/// Whether this machine can run the GPU suite. A test skips only when the machine has no NVIDIA
/// GPU; with a GPU present, a missing host libtorch is a failure that says what to set, so a
/// misconfigured GPU run can never pass by skipping.
/// </summary>
internal static class GpuEnvironment
{
    public const string LibTorchVariable = "GRID_LIBTORCH_PATH";

    /// <summary>GPUs the NVIDIA kernel driver lists.</summary>
    public static int DriverGpus
    {
        get
        {
            const string driver = "/proc/driver/nvidia/gpus";
            return Directory.Exists(driver) ? Directory.GetDirectories(driver).Length : 0;
        }
    }

    public const string RehearsalVariable = "GRID_GPU_REHEARSAL";

    /// <summary>
    /// <c>GRID_GPU_REHEARSAL=1</c> on a machine without a GPU runs the suite against a stand-in
    /// GPU (<c>--gpu_stand_in</c>, the CPU engine), to check the suite itself before it travels
    /// to a GPU machine. Never set in CI; it proves nothing about CUDA.
    /// </summary>
    public static bool Rehearsal => DriverGpus == 0 && Environment.GetEnvironmentVariable(RehearsalVariable) == "1";

    /// <summary>
    /// Skips the calling test without a GPU; otherwise the <c>grid serve</c> flags that give it
    /// the GPU (<c>--libtorch_path</c> and the host libtorch).
    /// </summary>
    public static string[] RequireGpu()
    {
        if (Rehearsal)
        {
            return ["--devices", "cpu,gpu:0", "--gpu_stand_in"];
        }
        Assert.SkipWhen(DriverGpus == 0, "no NVIDIA GPU on this machine (/proc/driver/nvidia/gpus lists none)");
        var path = Environment.GetEnvironmentVariable(LibTorchVariable);
        Assert.False(string.IsNullOrEmpty(path),
            $"this machine has {DriverGpus} NVIDIA GPU(s), but {LibTorchVariable} is not set: point it at a CUDA libtorch lib directory (e.g. /opt/torch/.venv/lib/python3.12/site-packages/torch/lib) and GRID_DLL at a host-libtorch grid.dll (scripts/gpu/pack.sh)");
        Assert.True(Directory.Exists(path), $"{LibTorchVariable}={path} is not a directory");
        return ["--libtorch_path", path!];
    }
}
