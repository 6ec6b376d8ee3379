using System.Diagnostics;
using System.Text.Json;

namespace Grid.Bench.Processes;

/// <summary>
/// Polls TF Serving's REST status (GET /v1/models/NAME) of a server until every model has an
/// AVAILABLE version, failing fast when one of the server's processes exits.
/// </summary>
internal static class AvailabilityProbe
{
    /// <summary>Throws <see cref="ServerStartException"/> if one of <paramref name="processes"/> exits or <paramref name="timeout"/> passes first.</summary>
    public static async Task WaitAsync(IBenchServer server, IReadOnlyList<ChildProcess> processes, IEnumerable<string> models,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.RestAddress), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        foreach (var model in models)
        {
            while (!await IsAvailableAsync(http, model, cancellationToken))
            {
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
}
