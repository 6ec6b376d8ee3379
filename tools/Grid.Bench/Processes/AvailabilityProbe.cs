using System.Diagnostics;
using System.Text.Json;

namespace Grid.Bench.Processes;

/// <summary>
/// Polls TF Serving's REST status (GET /v1/models/NAME) of a server until every model has an
/// AVAILABLE version, failing fast when one of the server's processes exits, and soon when the
/// server reports the model's load failed (every version END with an error, for
/// <see cref="FailedFor"/>: a cluster may retry a placement once its silos have joined).
/// </summary>
internal static class AvailabilityProbe
{
    public static readonly TimeSpan FailedFor = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ServerStartException"/> if one of <paramref name="processes"/> exits or <paramref name="timeout"/> passes first.</summary>
    public static async Task WaitAsync(IBenchServer server, IReadOnlyList<ChildProcess> processes, IEnumerable<string> models,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.RestAddress), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        foreach (var model in models)
        {
            Stopwatch? failing = null;
            while (await ProbeAsync(http, model, cancellationToken) is var (available, failure) && !available)
            {
                failing = failure is null ? null : failing ?? Stopwatch.StartNew();
                if (failing?.Elapsed >= FailedFor)
                {
                    throw new ServerStartException($"{server.Name}: model {model} failed to load: {failure}");
                }
                if (processes.FirstOrDefault(p => p.HasExited) is { } exited)
                {
                    var code = await exited.ExitCodeAsync(cancellationToken);   // flushes the output readers
                    throw new ServerStartException($"{exited.Name} exited with code {code} before model {model} was available: {exited.Tail}");
                }
                if (deadline.Elapsed > timeout)
                {
                    throw new ServerStartException($"{server.Name}: model {model} was not available after {timeout.TotalSeconds:0} s: {server.Tail}");
                }
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <returns>Whether a version is AVAILABLE; if not, the error of a load that failed (every version END with an error message), else null.</returns>
    private static async Task<(bool Available, string? Failure)> ProbeAsync(HttpClient http, string model, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync($"/v1/models/{model}", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (false, null);
            }
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return Read(doc.RootElement);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return (false, null);
        }
    }

    /// <summary>Reads a GetModelStatus REST answer; see <see cref="ProbeAsync"/>.</summary>
    internal static (bool Available, string? Failure) Read(JsonElement root)
    {
        if (!root.TryGetProperty("model_version_status", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return (false, null);
        }
        var versions = list.EnumerateArray().ToList();
        if (versions.Any(v => State(v) == "AVAILABLE"))
        {
            return (true, null);
        }
        var errors = versions.Select(v => State(v) == "END" && v.TryGetProperty("status", out var status)
                                          && status.TryGetProperty("error_message", out var message) && message.ValueKind == JsonValueKind.String
                                          && message.GetString() is { Length: > 0 } text ? text : null).ToList();
        return (false, errors.Count > 0 && errors.All(e => e is not null) ? string.Join("; ", errors) : null);
    }

    private static string? State(JsonElement version) =>
        version.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
}
