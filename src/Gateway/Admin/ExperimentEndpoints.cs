using System.Globalization;
using System.Text.Json;
using Grid.Experiments;
using Grid.Gateway.Experiments;
using Grid.Gateway.Routing;
using Grid.Grains;
using Grid.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Grid.Gateway.Admin;

/// <summary>
/// The experiment admin API, under <c>/v1/grid/models/{model}/experiments</c>: create, list,
/// get (with live per-arm measurements), change weights, promote an arm, stop. Validation
/// failures are 400s in TF Serving's error body; state lives in the model's manager.
/// </summary>
public static class ExperimentEndpoints
{
    private const string Base = "/v1/grid/models/{model}/experiments";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Base, (HttpContext c, string model, IGrainFactory grains, ModelRouter router) => GridAdminEndpoints.RunAsync(c, async () =>
        {
            await CreateAsync(c, grains, model);
            router.Invalidate(model);
        }));
        endpoints.MapGet(Base, (HttpContext c, string model, IGrainFactory grains, ExperimentStatsFlusher flusher) => GridAdminEndpoints.RunAsync(c, async () =>
        {
            await flusher.FlushAsync();
            var all = await ModelGrain(grains, model).GetExperimentsAsync();
            await GridAdminEndpoints.WriteJsonAsync(c, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("experiments");
                foreach (var e in all)
                {
                    Write(w, e);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }));
        endpoints.MapGet(Base + "/{id}", (HttpContext c, string model, string id, IGrainFactory grains, ExperimentStatsFlusher flusher) => GridAdminEndpoints.RunAsync(c, async () =>
        {
            await flusher.FlushAsync();
            var experiment = (await ModelGrain(grains, model).GetExperimentsAsync()).FirstOrDefault(e => e.Spec.Id == id)
                ?? throw ServingException.NotFound($"Model {model} has no experiment '{id}'");
            await GridAdminEndpoints.WriteJsonAsync(c, w => Write(w, experiment));
        }));
        endpoints.MapPut(Base + "/{id}/weights", (HttpContext c, string model, string id, IGrainFactory grains, ModelRouter router) => GridAdminEndpoints.RunAsync(c, async () =>
        {
            using var body = await ReadObjectAsync(c, "{\"control\": 50, \"treatment\": 50}");
            var weights = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var p in body.RootElement.EnumerateObject())
            {
                weights[p.Name] = p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var w)
                    ? w
                    : throw ServingException.InvalidArgument($"The weight of arm '{p.Name}' must be an integer, got {p.Value.GetRawText()}");
            }
            var updated = await ModelGrain(grains, model).SetExperimentWeightsAsync(id, weights);
            router.Invalidate(model);
            await GridAdminEndpoints.WriteJsonAsync(c, w => Write(w, updated));
        }));
        endpoints.MapPost(Base + "/{id}/promote", (HttpContext c, string model, string id, IGrainFactory grains, ModelRouter router) => GridAdminEndpoints.RunAsync(c, async () =>
        {
            using var body = await ReadObjectAsync(c, "{\"arm\": \"treatment\"}");
            var arm = body.RootElement.TryGetProperty("arm", out var a) && a.ValueKind == JsonValueKind.String
                ? a.GetString()!
                : throw ServingException.InvalidArgument("Expected {\"arm\": \"<arm name>\"}");
            var promoted = await ModelGrain(grains, model).PromoteExperimentAsync(id, arm);
            router.Invalidate(model);
            await GridAdminEndpoints.WriteJsonAsync(c, w => Write(w, promoted));
        }));
        endpoints.MapPost(Base + "/{id}/stop", (HttpContext c, string model, string id, IGrainFactory grains, ModelRouter router) => GridAdminEndpoints.RunAsync(c, async () =>
        {
            var stopped = await ModelGrain(grains, model).StopExperimentAsync(id);
            router.Invalidate(model);
            await GridAdminEndpoints.WriteJsonAsync(c, w => Write(w, stopped));
        }));
    }

    private static IModelGrain ModelGrain(IGrainFactory grains, string model) => grains.GetGrain<IModelGrain>(model);

    private static async Task CreateAsync(HttpContext context, IGrainFactory grains, string model)
    {
        var status = await ModelGrain(grains, model).GetStatusAsync();
        if (!status.Exists)
        {
            throw ServingException.NotFound($"Could not find any versions of model {model}");
        }
        using var body = await ReadObjectAsync(context, "{\"arms\": [{\"version\": 1, \"weight\": 90}, {\"version\": 2, \"weight\": 10}]}");
        var spec = ParseSpec(body.RootElement);
        var created = await ModelGrain(grains, model).CreateExperimentAsync(spec);
        await GridAdminEndpoints.WriteJsonAsync(context, w => Write(w, created), StatusCodes.Status201Created);
    }

    /// <summary>Reads a create body; the manager checks what needs the model's state (versions, the active experiment).</summary>
    public static ExperimentSpec ParseSpec(JsonElement e)
    {
        string? id = null, sticky = null;
        ExperimentArm[]? arms = null;
        ShadowArm? shadow = null;
        foreach (var p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "id":
                    id = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw ServingException.InvalidArgument("'id' must be a string");
                    break;
                case "sticky_key":
                    sticky = p.Value.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.String => p.Value.GetString()!.ToLowerInvariant(),
                        _ => throw ServingException.InvalidArgument("'sticky_key' must be a header name such as \"x-grid-subject\""),
                    };
                    break;
                case "arms":
                    if (p.Value.ValueKind != JsonValueKind.Array)
                    {
                        throw ServingException.InvalidArgument("'arms' must be a list of {\"name\", \"version\", \"weight\"}");
                    }
                    arms = p.Value.EnumerateArray().Select(ParseArm).ToArray();
                    break;
                case "shadow":
                    if (p.Value.ValueKind == JsonValueKind.Null)
                    {
                        break;
                    }
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw ServingException.InvalidArgument("'shadow' must be {\"version\": N, \"percent\": P}");
                    }
                    var version = p.Value.TryGetProperty("version", out var v) ? ReadVersion(v, "shadow.version") : throw ServingException.InvalidArgument("shadow.version is required");
                    var percent = p.Value.TryGetProperty("percent", out var pc) && pc.ValueKind == JsonValueKind.Number ? pc.GetDouble() : throw ServingException.InvalidArgument("shadow.percent (a number, 0-100] is required");
                    shadow = new ShadowArm(version, percent);
                    break;
                default:
                    throw ServingException.InvalidArgument($"Unknown field '{p.Name}'; expected id, arms, sticky_key, shadow");
            }
        }
        if (arms is null)
        {
            throw ServingException.InvalidArgument("'arms' is required: [{\"name\": \"control\", \"version\": 1, \"weight\": 90}, ...]");
        }
        return new ExperimentSpec(id ?? "exp-" + Guid.NewGuid().ToString("N")[..8], arms, sticky, shadow);
    }

    private static ExperimentArm ParseArm(JsonElement a)
    {
        if (a.ValueKind != JsonValueKind.Object)
        {
            throw ServingException.InvalidArgument("Each arm must be an object {\"name\", \"version\", \"weight\"}");
        }
        var version = a.TryGetProperty("version", out var v) ? ReadVersion(v, "arm version") : throw ServingException.InvalidArgument("Each arm needs a 'version'");
        var weight = a.TryGetProperty("weight", out var w)
            ? w.ValueKind == JsonValueKind.Number && w.TryGetInt32(out var wi) ? wi : throw ServingException.InvalidArgument($"An arm's weight must be an integer, got {w.GetRawText()}")
            : throw ServingException.InvalidArgument("Each arm needs a 'weight'");
        var name = a.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : $"v{version}";
        return new ExperimentArm(name, version, weight);
    }

    /// <summary>Versions as TF Serving writes them (strings) or as numbers.</summary>
    private static long ReadVersion(JsonElement v, string what) => v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
        _ => throw ServingException.InvalidArgument($"{what} must be an integer version, got {v.GetRawText()}"),
    };

    private static async Task<JsonDocument> ReadObjectAsync(HttpContext context, string example)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw ServingException.InvalidArgument($"JSON Parse error: {e.Message}");
        }
        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            body.Dispose();
            throw ServingException.InvalidArgument($"Expected a JSON object such as {example}");
        }
        return body;
    }

    public static void Write(Utf8JsonWriter w, ExperimentStatus e)
    {
        w.WriteStartObject();
        w.WriteString("id", e.Spec.Id);
        w.WriteString("model", e.Model);
        w.WriteString("state", e.State.ToString().ToUpperInvariant());
        w.WriteStartArray("arms");
        foreach (var a in e.Spec.Arms)
        {
            w.WriteStartObject();
            w.WriteString("name", a.Name);
            w.WriteString("version", a.Version.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("weight", a.Weight);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (e.Spec.StickyKey is { } sticky)
        {
            w.WriteString("sticky_key", sticky);
        }
        else
        {
            w.WriteNull("sticky_key");
        }
        if (e.Spec.Shadow is { } shadow)
        {
            w.WriteStartObject("shadow");
            w.WriteString("version", shadow.Version.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("percent", shadow.Percent);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("shadow");
        }
        if (e.PreviousDefault is { } previous)
        {
            w.WriteString("previous_default", previous.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull("previous_default");
        }
        if (e.PromotedArm is { } promoted)
        {
            w.WriteString("promoted_arm", promoted);
        }
        w.WriteString("created", e.CreatedUtc.ToString("O", CultureInfo.InvariantCulture));
        if (e.EndedUtc is { } ended)
        {
            w.WriteString("ended", ended.ToString("O", CultureInfo.InvariantCulture));
        }
        w.WriteStartObject("stats");
        var names = e.Spec.Arms.Select(a => (a.Name, a.Version)).ToList();
        if (e.Spec.Shadow is { } s)
        {
            names.Add((ShadowArm.ArmName, s.Version));
        }
        foreach (var (name, version) in names)
        {
            var stats = e.Stats.GetValueOrDefault(name) ?? ArmStats.Empty;
            w.WriteStartObject(name);
            w.WriteString("version", version.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("requests", stats.Requests);
            w.WriteNumber("errors", stats.Errors);
            w.WriteStartObject("latency_ms");
            WriteNullable(w, "p50", stats.LatencyPercentileMs(0.50));
            WriteNullable(w, "p99", stats.LatencyPercentileMs(0.99));
            w.WriteEndObject();
            w.WriteStartObject("predicted_classes");
            foreach (var (c, n) in stats.Classes.OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue))
            {
                w.WriteNumber(c, n);
            }
            w.WriteEndObject();
            WriteNullable(w, "output_mean", stats.OutputCount > 0 ? stats.OutputSum / stats.OutputCount : null);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, Math.Round(v, 4));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
