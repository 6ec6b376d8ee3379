using System.Text.Json;
using Grid.Devices;
using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Grid.Gateway.Routing;
using Grid.Grains;
using Grid.Models;
using Grid.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Grid.Gateway.Admin;

/// <summary>
/// Grid's own REST endpoints beside TF Serving's, under <c>/v1/grid/</c>: the cluster's silos
/// and every model's replicas, and a runtime deployment override per model (persisted by the
/// model's manager). Errors use TF Serving's <c>{"error": "…"}</c> body.
/// </summary>
public static class GridAdminEndpoints
{
    public static IEndpointRouteBuilder MapGridAdmin(this IEndpointRouteBuilder root)
    {
        // Every admin route, the read-only ones included, requires the bearer token when one is set.
        var endpoints = root.MapGroup("").AddEndpointFilter(AdminAuthorization.FilterAsync);
        ExperimentEndpoints.Map(endpoints);
        endpoints.MapGet("/v1/grid/cluster", (HttpContext c, IGrainFactory grains) => RunAsync(c, () => ClusterAsync(c, grains)));
        endpoints.MapGet("/v1/grid/models/{name}", (HttpContext c, string name, ModelRouter router) => RunAsync(c, () => ModelAsync(c, router, name)));
        endpoints.MapPut("/v1/grid/models/{name}/deployment", (HttpContext c, string name, IGrainFactory grains, ModelRouter router) => RunAsync(c, () => SetDeploymentAsync(c, grains, router, name)));
        endpoints.MapDelete("/v1/grid/models/{name}/deployment", (HttpContext c, string name, IGrainFactory grains, ModelRouter router) => RunAsync(c, () => ClearDeploymentAsync(c, grains, router, name)));
        // The root, not the token-filtered group, so whatever is chained after is not put behind the token.
        return root;
    }

    internal static async Task RunAsync(HttpContext context, Func<Task> handler)
    {
        try
        {
            await handler();
        }
        catch (Exception e)
        {
            var (status, message) = RestErrors.Map(e, context);
            await RestErrors.WriteAsync(context, status, message);
        }
    }

    private static async Task ClusterAsync(HttpContext context, IGrainFactory grains)
    {
        var silos = await grains.GetGrain<IClusterInfoGrain>(0).GetSilosAsync();
        var names = await grains.GetGrain<IModelRegistryGrain>(IModelRegistryGrain.Key).ListAsync();
        var models = await Task.WhenAll(names.Select(n => grains.GetGrain<IModelGrain>(n).GetStatusAsync()));
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("silos");
            foreach (var s in silos)
            {
                w.WriteStartObject();
                w.WriteString("address", s.Address);
                w.WriteString("name", s.Name);
                w.WriteString("status", s.Status);
                w.WriteStartArray("devices");
                foreach (var d in s.Devices)
                {
                    w.WriteStringValue(d);
                }
                w.WriteEndArray();
                if (s.GpuUnusableReason is { } reason)
                {
                    w.WriteString("gpu_unusable_reason", reason);
                }
                w.WriteBoolean("gpu_stand_in", s.GpuStandIn);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("models");
            foreach (var m in models)
            {
                WriteModel(w, m);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task ModelAsync(HttpContext context, ModelRouter router, string name)
    {
        var status = await router.GetStatusAsync(name);
        if (!status.Exists)
        {
            throw ServingException.NotFound($"Could not find any versions of model {name}");
        }
        await WriteJsonAsync(context, w => WriteModel(w, status));
    }

    private static async Task SetDeploymentAsync(HttpContext context, IGrainFactory grains, ModelRouter router, string name)
    {
        var current = await router.GetStatusAsync(name);
        if (!current.Exists)
        {
            throw ServingException.NotFound($"Could not find any versions of model {name}");
        }
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw ServingException.InvalidArgument($"JSON Parse error: {e.Message}");
        }
        using (body)
        {
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.InvalidArgument("Expected a JSON object such as {\"replicas\": 2, \"device\": \"gpu\"}");
            }
            var replicas = current.Deployment.Replicas;
            var device = current.Deployment.Device;
            foreach (var property in body.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "replicas":
                        if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out replicas))
                        {
                            throw ServingException.InvalidArgument($"'replicas' must be an integer, got {property.Value.GetRawText()}");
                        }
                        break;
                    case "device":
                        if (property.Value.ValueKind != JsonValueKind.String || !DeviceRequirements.TryParse(property.Value.GetString(), out device))
                        {
                            throw ServingException.InvalidArgument($"'device' must be \"gpu\", \"cpu\" or \"any\", got {property.Value.GetRawText()}");
                        }
                        break;
                    default:
                        throw ServingException.InvalidArgument($"Unknown field '{property.Name}'; expected 'replicas' and/or 'device'");
                }
            }
            var status = await grains.GetGrain<IModelGrain>(name).SetDeploymentOverrideAsync(new ModelDeployment(replicas, device, "admin"), context.RequestAborted);
            router.Invalidate(name);
            await WriteJsonAsync(context, w => WriteModel(w, status));
        }
    }

    private static async Task ClearDeploymentAsync(HttpContext context, IGrainFactory grains, ModelRouter router, string name)
    {
        var current = await router.GetStatusAsync(name);
        if (!current.Exists)
        {
            throw ServingException.NotFound($"Could not find any versions of model {name}");
        }
        var status = await grains.GetGrain<IModelGrain>(name).SetDeploymentOverrideAsync(null, context.RequestAborted);
        router.Invalidate(name);
        await WriteJsonAsync(context, w => WriteModel(w, status));
    }

    private static void WriteModel(Utf8JsonWriter w, ModelStatus m)
    {
        w.WriteStartObject();
        w.WriteString("name", m.ModelName);
        w.WriteStartObject("deployment");
        w.WriteNumber("replicas", m.Deployment.Replicas);
        w.WriteString("device", m.Deployment.Device.ToText());
        w.WriteString("source", m.Deployment.Source);
        w.WriteEndObject();
        w.WriteStartArray("versions");
        foreach (var v in m.Versions)
        {
            w.WriteStartObject();
            w.WriteString("version", v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("state", v.State.ToString().ToUpperInvariant());
            if (v.ErrorMessage.Length > 0)
            {
                w.WriteString("error", v.ErrorMessage);
            }
            w.WriteStartArray("replicas");
            foreach (var r in v.Replicas)
            {
                w.WriteStartObject();
                w.WriteNumber("replica", r.Replica);
                w.WriteString("device", r.Device.ToText());
                w.WriteString("state", r.State.ToString().ToUpperInvariant());
                w.WriteString("silo", r.Silo);
                if (r.RunsOn.Length > 0)
                {
                    w.WriteString("runs_on", r.RunsOn);
                }
                if (r.Error.Length > 0)
                {
                    w.WriteString("error", r.Error);
                }
                w.WriteNumber("outstanding", r.Outstanding);
                w.WriteNumber("queued", r.Queued);
                w.WriteNumber("served", r.Served);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    internal static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { Indented = true });
        write(writer);
        await writer.FlushAsync(context.RequestAborted);
    }
}
