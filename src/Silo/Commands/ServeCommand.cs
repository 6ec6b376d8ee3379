using System.CommandLine;
using Grid.Gateway.Hosting;
using Grid.Silo.Configuration;
using Grid.Silo.Hosting;

namespace Grid.Silo.Commands;

/// <summary><c>grid serve</c>: silo and gateway in one process, on the embedded default.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "gRPC port (TF Serving's PredictionService and ModelService).", DefaultValueFactory = _ => ServeOptions.DefaultGrpcPort };
        var restPort = new Option<int>("--rest_api_port") { Description = "REST port for TF Serving's /v1/models API; 0 turns REST off.", DefaultValueFactory = _ => ServeOptions.DefaultRestPort };
        var host = new Option<string>("--host") { Description = "Address to bind both ports to (an IP address or 'localhost').", DefaultValueFactory = _ => ServeOptions.DefaultHost };
        var modelName = new Option<string>("--model_name") { Description = "Name of the model served from --model_base_path.", DefaultValueFactory = _ => ServeOptions.DefaultModelName };
        var basePath = new Option<string?>("--model_base_path") { Description = "One model's base path: <base_path>/<version>/model.onnx." };
        var repository = new Option<string?>("--model_repository") { Description = "A directory whose every subdirectory is a model base path (Triton's layout). Default when no model flag is given: examples/models." };
        var poll = new Option<double>("--file_system_poll_wait_seconds") { Description = "Seconds between scans for new or removed versions; 0 scans once at start-up.", DefaultValueFactory = _ => ServeOptions.DefaultPollWaitSeconds };
        var maxMessage = new Option<int>("--max_message_bytes") { Description = "Largest gRPC message and REST body, in bytes (default 64 MiB).", DefaultValueFactory = _ => Gateway.Configuration.GatewayOptions.DefaultMaxMessageBytes };
        var siloPort = new Option<int>("--silo_port") { Description = "Orleans silo port; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var enableBatching = new Option<bool>("--enable_batching") { Description = "Merge concurrent requests to a model version into one engine call (server-side batching)." };
        var batchingFile = new Option<string?>("--batching_parameters_file") { Description = "TF Serving's BatchingParameters in text format (max_batch_size, batch_timeout_micros, ...); needs --enable_batching." };
        var perModelBatching = new Option<bool>("--enable_per_model_batching_parameters") { Description = "Read batching_params.pbtxt from each version directory, overriding --batching_parameters_file for it." };

        var command = new Command("serve", "Run a silo and the TF Serving gateway in one process (no external services).")
        {
            port, restPort, host, modelName, basePath, repository, poll, maxMessage, siloPort,
            enableBatching, batchingFile, perModelBatching,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new ServeOptions
            {
                GrpcPort = result.GetValue(port),
                RestPort = result.GetValue(restPort),
                Host = result.GetValue(host)!,
                ModelName = result.GetValue(modelName)!,
                ModelBasePath = result.GetValue(basePath),
                ModelRepository = result.GetValue(repository),
                FileSystemPollWaitSeconds = result.GetValue(poll),
                MaxMessageBytes = result.GetValue(maxMessage),
                SiloPort = result.GetValue(siloPort),
                EnableBatching = result.GetValue(enableBatching),
                BatchingParametersFile = result.GetValue(batchingFile),
                EnablePerModelBatchingParameters = result.GetValue(perModelBatching),
            };
            if (options.ModelBasePath is null && options.ModelRepository is null)
            {
                var defaults = ServeDefaults.FindExampleRepository();
                if (!Directory.Exists(defaults))
                {
                    return Program.Fail("no --model_base_path or --model_repository given, and no examples/models directory was found");
                }
                options.ModelRepository = defaults;
            }
            if (ServeOptionsValidator.Validate(options) is { } error)
            {
                return Program.Fail(error);
            }
            var (batching, batchingError) = options.ResolveBatching();
            if (batchingError is not null)
            {
                return Program.Fail(batchingError);
            }
            return await RunAsync(options, batching!, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServeOptions options, Serving.Batching.BatchingOptions batching, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.AddGridEmbeddedSilo(options, batching)
               .AddModelRepositorySource(options)
               .AddGridGateway(options);

        var app = builder.Build();
        app.MapTensorFlowServing();
        try
        {
            await app.RunAsync(cancellationToken);
            return 0;
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.AddressInUseException || e is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            return Program.Fail($"cannot listen: {e.Message}");
        }
    }
}
