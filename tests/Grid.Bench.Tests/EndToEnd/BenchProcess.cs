using System.Diagnostics;
using Grid.Testing;

namespace Grid.Bench.Tests.EndToEnd;

/// <summary>The built grid-bench as a child process.</summary>
internal static class BenchProcess
{
    /// <summary>
    /// Runs `dotnet grid-bench.dll ARGS` from the repository root, without GRID_LIBTORCH_PATH (so
    /// libtorch is the bundled CPU build whatever the machine has); kills it (and its servers) if
    /// the test gives up after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string StdErr)> RunAsync(string[] args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        psi.Environment.Remove("GRID_LIBTORCH_PATH");
        psi.ArgumentList.Add(RepoPaths.BenchDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WithTimeout(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await stdout.DefaultTimeout();
        return (process.ExitCode, await stderr.DefaultTimeout());
    }
}
