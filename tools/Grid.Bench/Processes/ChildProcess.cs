using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Grid.Bench.Processes;

/// <summary>
/// One process the benchmark started (a server, a silo, a gateway, Redis), with its last output
/// lines (stdout and stderr) kept for error reports. It is registered in
/// <see cref="LiveProcesses"/> from start to dispose, so it never outlives the benchmark.
/// Disposing kills it with its children if it still runs; <see cref="StopAsync"/> asks first.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 40;
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote (stdout and stderr), for error reports.</summary>
    public string Tail => string.Join(" | ", _output);

    /// <summary>Starts <c>FILE ARGS...</c> in <paramref name="workingDirectory"/>; throws <see cref="ServerStartException"/> if it cannot.</summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        var process = new Process { StartInfo = psi };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e)
        {
            process.Dispose();
            throw new ServerStartException($"could not start {name} ('{fileName}'): {e.Message}");
        }
        LiveProcesses.Add(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The exit code, once the output readers have drained (so <see cref="Tail"/> is complete); only after <see cref="HasExited"/>.</summary>
    public async Task<int> ExitCodeAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>
    /// SIGTERM (a graceful shutdown), then a kill of the process tree if it has not exited
    /// after <paramref name="grace"/>. Returns once it has exited (or 30 s more have passed).
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        try
        {
            if (_process.HasExited)
            {
                return;
            }
            if (OperatingSystem.IsWindows() || Native.kill(_process.Id, SigTerm) != 0)
            {
                _process.Kill(entireProcessTree: true);
            }
            try
            {
                await _process.WaitForExitAsync().WaitAsync(grace);
                return;
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
        LiveProcesses.Remove(_process);
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }
        _output.Enqueue(line.Trim());
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        internal static extern int kill(int pid, int signal);
    }
}
