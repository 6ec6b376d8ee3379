using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Grid.Testing;

/// <summary>
/// A real <c>grid serve</c> process on free 127.0.0.1 ports. Killed (with its children) on dispose.
/// Output is kept so a failing test can show it.
/// </summary>
public sealed class GridProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private GridProcess(Process process, int grpcPort, int restPort)
    {
        _process = process;
        GrpcPort = grpcPort;
        RestPort = restPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{restPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int GrpcPort { get; }

    public int RestPort { get; }

    public HttpClient Http { get; }

    public string GrpcAddress => $"http://127.0.0.1:{GrpcPort}";

    public string Output => string.Join(Environment.NewLine, _output);

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>grid serve</c> with the given extra arguments (ports and host are added).</summary>
    public static GridProcess Start(params string[] args)
    {
        var grpc = FreePort.Next();
        var rest = FreePort.Next();
        // Each process keeps its grain state in its own directory unless the test names one.
        string[] state = args.Contains("--state_dir") ? [] : ["--state_dir", Path.Combine(Path.GetTempPath(), "grid-state-" + Guid.NewGuid().ToString("N")[..12])];
        var psi = GridCli.StartInfo(["serve", "--host", "127.0.0.1", "--port", grpc.ToString(), "--rest_api_port", rest.ToString(), .. state, .. args]);
        var process = new Process { StartInfo = psi };
        var grid = new GridProcess(process, grpc, rest);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) grid._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) grid._output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return grid;
    }

    /// <summary>Waits until every named model reports an AVAILABLE version over REST.</summary>
    public async Task WaitForAvailableAsync(params string[] models)
    {
        foreach (var model in models)
        {
            await WaitUntilAsync(async () => (await GetStatesAsync(model)).ContainsValue("AVAILABLE"), $"model {model} AVAILABLE");
        }
    }

    /// <summary>Version → state, as the REST status endpoint reports it; empty when unknown.</summary>
    public async Task<Dictionary<long, string>> GetStatesAsync(string model)
    {
        try
        {
            using var response = await Http.GetAsync($"/v1/models/{model}");
            if (!response.IsSuccessStatusCode)
            {
                return [];
            }
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.GetProperty("model_version_status").EnumerateArray()
                .ToDictionary(v => long.Parse(v.GetProperty("version").GetString()!), v => v.GetProperty("state").GetString()!);
        }
        catch (HttpRequestException)
        {
            return [];
        }
    }

    /// <summary>
    /// Polls a condition until it holds, failing after <paramref name="timeout"/> (default 60 s)
    /// with the process output. This waits for an outcome; it never orders events.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (!await condition().WaitAsync(TimeSpan.FromSeconds(30)))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"grid exited with {_process.ExitCode} while waiting for {what}:\n{Output}");
            }
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit} waiting for {what}:\n{Output}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }
}

/// <summary>Runs the grid CLI to completion (for flag and client tests).</summary>
public static class GridCli
{
    /// <summary>`dotnet grid.dll ARGS` from the repository root, output redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        psi.ArgumentList.Add(RepoPaths.GridDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }

    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
