using System.Diagnostics;
using System.Runtime.InteropServices;
using Grid.Bench.Results;

namespace Grid.Bench.Cli;

/// <summary>Reads what the results need to say about the machine and the code.</summary>
public static class MachineInfoReader
{
    public static MachineInfo Read() => new()
    {
        CpuCount = Environment.ProcessorCount,
        CpuModel = CpuModel(),
        Os = RuntimeInformation.OSDescription,
        Dotnet = RuntimeInformation.FrameworkDescription,
        Commit = Commit(),
        OnnxRuntime = OnnxRuntimeVersion(),
        CpuBusyBeforeRun = CpuBusy(TimeSpan.FromMilliseconds(500)),
        Gpus = NvidiaGpus(),
    };

    /// <summary>The model of each NVIDIA GPU the kernel driver lists (/proc/driver/nvidia/gpus/*/information); none without the driver.</summary>
    public static IReadOnlyList<string> NvidiaGpus()
    {
        const string driver = "/proc/driver/nvidia/gpus";
        try
        {
            if (!Directory.Exists(driver))
            {
                return [];
            }
            return Directory.GetDirectories(driver).Order(StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "information"))
                .Select(f => File.Exists(f) ? File.ReadLines(f).FirstOrDefault(l => l.StartsWith("Model:", StringComparison.Ordinal)) : null)
                .Select(l => l is null ? "NVIDIA GPU (model unknown)" : l["Model:".Length..].Trim())
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// Busy share of all CPUs over <paramref name="window"/>, from two readings of /proc/stat's
    /// "cpu" line (everything but idle and iowait counts as busy, steal included); null off Linux.
    /// </summary>
    public static double? CpuBusy(TimeSpan window)
    {
        var first = ReadCpuTicks();
        if (first is null)
        {
            return null;
        }
        Thread.Sleep(window);
        var second = ReadCpuTicks();
        if (second is null)
        {
            return null;
        }
        var total = second.Value.Total - first.Value.Total;
        var idle = second.Value.Idle - first.Value.Idle;
        return total <= 0 ? null : Math.Clamp(1 - (double)idle / total, 0, 1);
    }

    private static (long Total, long Idle)? ReadCpuTicks()
    {
        try
        {
            if (!File.Exists("/proc/stat"))
            {
                return null;
            }
            var line = File.ReadLines("/proc/stat").First();
            // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is already in user)
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
            return (fields.Sum(), fields[3] + fields[4]);
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>True when more than a quarter of the CPU time was already taken before the run.</summary>
    public static bool LooksBusy(MachineInfo machine) => machine.CpuBusyBeforeRun > 0.25;

    private static string? CpuModel()
    {
        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? OnnxRuntimeVersion()
    {
        try
        {
            return Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The short commit of the repository, with "+dirty" when it has uncommitted changes; null without git.</summary>
    private static string? Commit()
    {
        if (Locations.RepositoryRoot is null)
        {
            return null;
        }
        var head = Git("rev-parse --short HEAD");
        if (head is null)
        {
            return null;
        }
        var status = Git("status --porcelain --untracked-files=no");
        return string.IsNullOrWhiteSpace(status) ? head : head + "+dirty";
    }

    private static string? Git(string arguments)
    {
        try
        {
            var psi = new ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = Locations.RepositoryRoot!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var git = Process.Start(psi)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit(5000);
            return git.HasExited && git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
