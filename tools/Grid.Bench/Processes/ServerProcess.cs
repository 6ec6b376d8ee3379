using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Grid.Bench.Processes;

/// <summary>A server the benchmark could not start; the configuration is reported as failed.</summary>
public sealed class ServerStartException(string message) : Exception(message);

/// <summary>
/// A server under test in its own process (<c>dotnet grid.dll serve</c> or
/// <c>dotnet grid-bench.dll server</c>) on free 127.0.0.1 ports. Disposing kills it with its
/// children; so does this process exiting (Ctrl+C included), through <see cref="LiveProcesses"/>.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const int KeptLines = 40;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(string name, Process process, int grpcPort, int restPort)
    {
        Name = name;
        _process = process;
        GrpcPort = grpcPort;
        RestPort = restPort;
    }

    public string Name { get; }
    public int GrpcPort { get; }
    public int RestPort { get; }
    public string GrpcAddress => $"http://127.0.0.1:{GrpcPort}";
    public string RestAddress => $"http://127.0.0.1:{RestPort}";
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the server wrote (stdout and stderr), for error reports.</summary>
    public string Tail => string.Join(" | ", _output);

    /// <summary>
    /// Starts <c>dotnet DLL ARGS...</c>; <paramref name="arguments"/> gets the two ports chosen here.
    /// </summary>
    public static ServerProcess Start(string name, string dll, Func<int, int, IEnumerable<string>> arguments, string workingDirectory)
    {
        var grpc = FreePort();
        var rest = FreePort();
        while (rest == grpc)
        {
            rest = FreePort();
        }
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in arguments(grpc, rest))
        {
            psi.ArgumentList.Add(a);
        }
        var process = new Process { StartInfo = psi };
        var server = new ServerProcess(name, process, grpc, rest);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e)
        {
            throw new ServerStartException($"could not start 'dotnet {dll}': {e.Message}");
        }
        LiveProcesses.Add(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
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

    /// <summary>
    /// Polls TF Serving's REST status (GET /v1/models/NAME) until every model has an AVAILABLE
    /// version. Throws <see cref="ServerStartException"/> if the process exits or time runs out.
    /// </summary>
    public async Task WaitUntilAvailableAsync(IEnumerable<string> models, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(RestAddress), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        foreach (var model in models)
        {
            while (!await IsAvailableAsync(http, model, cancellationToken))
            {
                if (_process.HasExited)
                {
                    await _process.WaitForExitAsync(cancellationToken);   // flush the output readers
                    throw new ServerStartException($"{Name} exited with code {_process.ExitCode} before model {model} was available: {Tail}");
                }
                if (deadline.Elapsed > timeout)
                {
                    throw new ServerStartException($"{Name}: model {model} was not available after {timeout.TotalSeconds:0} s: {Tail}");
                }
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private static async Task<bool> IsAvailableAsync(HttpClient http, string model, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync($"/v1/models/{model}", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return doc.RootElement.TryGetProperty("model_version_status", out var versions)
                && versions.EnumerateArray().Any(v => v.TryGetProperty("state", out var s) && s.GetString() == "AVAILABLE");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return false;
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
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        LiveProcesses.Remove(_process);
        _process.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>
/// Every server process still running. If the benchmark exits any other way than through
/// <see cref="ServerProcess.DisposeAsync"/> (Ctrl+C, an unhandled exception), they are killed
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
