using System.Collections.Concurrent;
using System.Diagnostics;

namespace Grid.Bench.Processes;

/// <summary>
/// Every child process still running. If the benchmark exits any other way than through
/// <see cref="ChildProcess.DisposeAsync"/> (Ctrl+C, an unhandled exception), they are killed
/// on the way out so no server outlives the run.
/// </summary>
public static class LiveProcesses
{
    private static readonly ConcurrentDictionary<Process, byte> Processes = new();

    static LiveProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
    }

    public static void Add(Process process) => Processes.TryAdd(process, 0);

    public static void Remove(Process process) => Processes.TryRemove(process, out _);

    public static void KillAll()
    {
        foreach (var process in Processes.Keys)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
    }
}
