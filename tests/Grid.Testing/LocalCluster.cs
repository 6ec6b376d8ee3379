using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Grid.Testing;

/// <summary>
/// A real cluster on 127.0.0.1 driven through <c>compose/grid-local.sh</c>, the script users run:
/// Debian's <c>redis-server</c>, <c>grid silo</c> processes and a <c>grid gateway</c>, each a
/// separate process on free ports, with pid files and logs in a temporary run directory. Every
/// process it started is killed on dispose.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly TempDirectory _runDir = new();
    private readonly Dictionary<string, string> _env;

    private LocalCluster(string repository)
    {
        RedisPort = FreePort.Next();
        GrpcPort = FreePort.Next();
        RestPort = FreePort.Next();
        _env = new Dictionary<string, string>
        {
            ["GRID_RUN_DIR"] = _runDir.Path,
            ["GRID_REDIS_PORT"] = RedisPort.ToString(),
            ["GRID_GRPC_PORT"] = GrpcPort.ToString(),
            ["GRID_REST_PORT"] = RestPort.ToString(),
            ["GRID_MODEL_REPOSITORY"] = repository,
            ["GRID_DLL"] = RepoPaths.GridDll,
        };
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{RestPort}"), Timeout = TimeSpan.FromSeconds(30) };
        AppDomain.CurrentDomain.ProcessExit += KillOnExit;
    }

    public int RedisPort { get; }

    public int GrpcPort { get; }

    public int RestPort { get; }

    public string GrpcAddress => $"http://127.0.0.1:{GrpcPort}";

    public HttpClient Http { get; }

    /// <summary>
    /// The admin bearer token: gateways started after it is set require it (through
    /// GRID_ADMIN_TOKEN), and <see cref="Http"/> and the script send it.
    /// </summary>
    public string? AdminToken
    {
        get => _env.GetValueOrDefault("GRID_ADMIN_TOKEN");
        set
        {
            if (value is null)
            {
                _env.Remove("GRID_ADMIN_TOKEN");
                Http.DefaultRequestHeaders.Authorization = null;
            }
            else
            {
                _env["GRID_ADMIN_TOKEN"] = value;
                Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", value);
            }
        }
    }

    /// <summary>Silo name → its Orleans silo port, for silos this cluster started.</summary>
    public Dictionary<string, int> SiloPorts { get; } = [];

    /// <summary>Starts Redis for a cluster serving <paramref name="repository"/>.</summary>
    public static async Task<LocalCluster> StartAsync(string repository)
    {
        var cluster = new LocalCluster(repository);
        await cluster.ScriptAsync("start-redis");
        return cluster;
    }

    /// <summary>Starts <c>grid silo</c> named <paramref name="name"/> with extra flags.</summary>
    public Task StartSiloAsync(string name, params string[] flags)
    {
        var siloPort = FreePort.Next();
        SiloPorts[name] = siloPort;
        return ScriptAsync(["start-silo", name, siloPort.ToString(), FreePort.Next().ToString(), .. flags]);
    }

    public Task StartGatewayAsync(params string[] flags) => ScriptAsync(["start-gateway", .. flags]);

    /// <summary>SIGKILL: the process dies at once, as in a crash.</summary>
    public Task KillAsync(string name) => ScriptAsync("kill", name);

    /// <summary>SIGTERM and wait for the process to exit (a graceful stop).</summary>
    public Task StopAsync(string name) => ScriptAsync("stop", name);

    /// <summary>
    /// Stops every silo and the gateway gracefully, then starts silos named
    /// <paramref name="newSilos"/> (on new ports) and a gateway on the same Redis, and waits
    /// until the gateway sees them all: a restart of every process of the grid.
    /// </summary>
    public async Task ReplaceAllProcessesAsync(params string[] newSilos)
    {
        foreach (var name in SiloPorts.Keys.ToList())
        {
            await StopAsync(name);
        }
        await StopAsync("gateway");
        SiloPorts.Clear();
        foreach (var name in newSilos)
        {
            await StartSiloAsync(name);
        }
        await StartGatewayAsync();
        await WaitReadyAsync(newSilos.Length);
    }

    /// <summary>Waits until the gateway reports <paramref name="silos"/> active silos.</summary>
    public Task WaitReadyAsync(int silos) => ScriptAsync("wait-ready", silos.ToString());

    /// <summary>The gateway's <c>/v1/grid/cluster</c> document, or null while it does not answer.</summary>
    public async Task<JsonElement?> GetClusterAsync()
    {
        try
        {
            using var response = await Http.GetAsync("/v1/grid/cluster");
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.Clone();
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>One model's versions and replicas from <c>/v1/grid/models/{name}</c>, or null.</summary>
    public async Task<ModelView?> GetModelAsync(string model)
    {
        try
        {
            using var response = await Http.GetAsync($"/v1/grid/models/{model}");
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return ModelView.From(doc.RootElement);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The Orleans silo address (as status prints it) of the silo named <paramref name="name"/>.</summary>
    public async Task<string> SiloAddressAsync(string name)
    {
        var port = SiloPorts[name];
        string? found = null;
        await WaitUntilAsync(async () =>
        {
            var cluster = await GetClusterAsync();
            found = cluster?.GetProperty("silos").EnumerateArray()
                .Select(s => s.GetProperty("address").GetString()!)
                .FirstOrDefault(a => a.Contains($":{port}:", StringComparison.Ordinal));
            return found is not null;
        }, $"silo {name} in the gateway's view");
        return found!;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with every process's log after <paramref name="timeout"/> (default 60 s).</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var clock = Stopwatch.StartNew();
        while (!await condition().WaitAsync(TimeSpan.FromSeconds(35)))
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit} waiting for {what}\n{Logs()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The tail of every process's log, for failure messages.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var log in Directory.GetFiles(_runDir.Path, "*.log").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(log);
            text.AppendLine($"==== {Path.GetFileName(log)} (last 60 lines) ====");
            foreach (var line in lines.TakeLast(60))
            {
                text.AppendLine(line.Length > 400 ? line[..400] + "…" : line);
            }
        }
        return text.ToString();
    }

    private Task ScriptAsync(params string[] args) => ScriptAsync((IEnumerable<string>)args);

    private async Task ScriptAsync(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "compose", "grid-local.sh"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (key, value) in _env)
        {
            psi.Environment[key] = value;
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(150));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"grid-local.sh {string.Join(' ', psi.ArgumentList.Skip(1))} exited with {process.ExitCode}: {await stdout}{await stderr}\n{Logs()}");
        }
    }

    public ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnExit;
        Http.Dispose();
        KillAll();
        _runDir.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Kills every process with a pid file. Also runs when the test process exits, because
    /// xunit does not dispose a fixture whose initialisation threw, and a cluster must never
    /// outlive the test run.
    /// </summary>
    private void KillAll()
    {
        foreach (var pidFile in Directory.GetFiles(_runDir.Path, "*.pid"))
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }
    }

    private void KillOnExit(object? sender, EventArgs e)
    {
        if (Directory.Exists(_runDir.Path))
        {
            KillAll();
        }
    }
}

/// <summary>A model as <c>/v1/grid/models/{name}</c> describes it.</summary>
public sealed record ModelView(int Replicas, string Device, string Source, IReadOnlyList<VersionView> Versions)
{
    public static ModelView From(JsonElement e)
    {
        var deployment = e.GetProperty("deployment");
        return new ModelView(
            deployment.GetProperty("replicas").GetInt32(),
            deployment.GetProperty("device").GetString()!,
            deployment.GetProperty("source").GetString()!,
            e.GetProperty("versions").EnumerateArray().Select(v => new VersionView(
                long.Parse(v.GetProperty("version").GetString()!),
                v.GetProperty("state").GetString()!,
                v.TryGetProperty("error", out var err) ? err.GetString()! : "",
                v.GetProperty("replicas").EnumerateArray().Select(r => new ReplicaView(
                    r.GetProperty("replica").GetInt32(),
                    r.GetProperty("device").GetString()!,
                    r.GetProperty("state").GetString()!,
                    r.GetProperty("silo").GetString()!,
                    r.GetProperty("served").GetInt64(),
                    r.TryGetProperty("runs_on", out var runsOn) ? runsOn.GetString()! : "")).ToList())).ToList());
    }

    /// <summary>The replicas of <paramref name="version"/> (the only version when null) that are AVAILABLE.</summary>
    public IReadOnlyList<ReplicaView> Available(long? version = null)
        => Versions.Where(v => version is null || v.Version == version).SelectMany(v => v.Replicas).Where(r => r.State == "AVAILABLE").ToList();
}

public sealed record VersionView(long Version, string State, string Error, IReadOnlyList<ReplicaView> Replicas);

/// <param name="RunsOn">The device a loaded replica is bound to (<c>cpu</c>, <c>gpu:N</c>); empty otherwise.</param>
public sealed record ReplicaView(int Replica, string Device, string State, string Silo, long Served, string RunsOn);
