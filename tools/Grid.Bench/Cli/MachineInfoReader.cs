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
        LoadAverageAtStart = LoadAverage(),
    };

    /// <summary>"0.12 0.30 0.41" from /proc/loadavg; null where there is none.</summary>
    public static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True when the 1-minute load average already exceeds half the CPUs before anything runs.</summary>
    public static bool LooksBusy(MachineInfo machine) =>
        machine.LoadAverageAtStart is { } load
        && double.TryParse(load.Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var oneMinute)
        && oneMinute > machine.CpuCount / 2.0;

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
