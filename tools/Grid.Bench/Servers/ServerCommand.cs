using HttpResults = Microsoft.AspNetCore.Http.Results;
using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Grid.Bench.Servers;

/// <summary>
/// <c>grid-bench server --kind empty|minimal</c> (hidden): the two comparison servers, run by
/// the benchmark as child processes. Both listen like <c>grid serve</c>: gRPC (HTTP/2) on
/// <c>--port</c> and TF Serving REST (HTTP/1.1) on <c>--rest_api_port</c>, on 127.0.0.1.
/// </summary>
public static class ServerCommand
{
    public const string Empty = "empty";
    public const string Minimal = "minimal";

    public static Command Create()
    {
        var kind = new Option<string>("--kind") { Description = "empty: a precomputed answer, no inference; minimal: ONNX Runtime per request.", Required = true };
        kind.AcceptOnlyFromAmong(Empty, Minimal);
        var port = new Option<int>("--port") { Description = "gRPC port.", Required = true };
        var restPort = new Option<int>("--rest_api_port") { Description = "REST port.", Required = true };
        var repository = new Option<string>("--model_repository") { Description = "Every subdirectory is a model: <name>/<version>/model.onnx.", Required = true };
        var command = new Command("server", "Run a comparison server (used by the benchmark itself).")
        {
            kind, port, restPort, repository,
        };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            var dir = result.GetValue(repository)!;
            if (!Directory.Exists(dir))
            {
                return Program.Fail($"--model_repository '{dir}' is not a directory");
            }
            var models = ServerModels.Scan(dir);
            if (models.Count == 0)
            {
                return Program.Fail($"--model_repository '{dir}' holds no <name>/<version>/model.onnx");
            }
            var builder = WebApplication.CreateBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(IPAddress.Loopback, result.GetValue(port), l => l.Protocols = HttpProtocols.Http2);
                k.Listen(IPAddress.Loopback, result.GetValue(restPort), l => l.Protocols = HttpProtocols.Http1);
            });
            builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 64 * 1024 * 1024);
            builder.Services.AddSingleton(models);
            WebApplication app;
            if (result.GetValue(kind) == Empty)
            {
                builder.Services.AddSingleton<EmptyResponses>();
                app = builder.Build();
                app.MapGrpcService<EmptyPredictionService>();
                EmptyRest.Map(app);
            }
            else
            {
                builder.Services.AddSingleton<MinimalSessions>();
                app = builder.Build();
                app.Services.GetRequiredService<MinimalSessions>();   // load every model before answering
                app.MapGrpcService<MinimalPredictionService>();
                MinimalRest.Map(app);
            }
            ServerModels.MapStatus(app);
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}

/// <summary>The models a comparison server answers for: the latest numeric version of each subdirectory.</summary>
public sealed class ServerModels(IReadOnlyDictionary<string, (long Version, string File)> models)
{
    public IReadOnlyDictionary<string, (long Version, string File)> Models { get; } = models;

    public int Count => Models.Count;

    public static ServerModels Scan(string repository)
    {
        var found = new Dictionary<string, (long, string)>();
        foreach (var modelDir in Directory.EnumerateDirectories(repository))
        {
            var latest = Directory.EnumerateDirectories(modelDir)
                .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d), out var v), Version: v))
                .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, "model.onnx")))
                .OrderByDescending(x => x.Version)
                .FirstOrDefault();
            if (latest.Dir is not null)
            {
                found[Path.GetFileName(modelDir)] = (latest.Version, Path.Combine(latest.Dir, "model.onnx"));
            }
        }
        return new ServerModels(found);
    }

    /// <summary>TF Serving's status endpoint, so the benchmark waits for every server the same way.</summary>
    public static void MapStatus(WebApplication app)
    {
        app.MapGet("/v1/models/{name}", (string name, ServerModels models) =>
            models.Models.TryGetValue(name, out var m)
                ? HttpResults.Json(new { model_version_status = new[] { new { version = m.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), state = "AVAILABLE", status = new { error_code = "OK", error_message = "" } } } })
                : HttpResults.Json(new { error = $"Could not find any versions of model {name}" }, statusCode: 404));
    }
}
