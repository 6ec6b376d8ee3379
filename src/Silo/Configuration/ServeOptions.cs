using Grid.Devices;
using Grid.Gateway.Configuration;
using Grid.Models;
using Grid.Serving.Batching;

namespace Grid.Silo.Configuration;

/// <summary>
/// Everything <c>grid serve</c>, <c>grid silo</c> and <c>grid gateway</c> take, under TF
/// Serving's flag names where TF Serving has one. Validated as a whole by
/// <see cref="ServeOptionsValidator"/> (and <see cref="ClusterOptionsValidator"/> for the
/// cluster roles) before anything starts.
/// </summary>
public sealed class ServeOptions
{
    public const int DefaultGrpcPort = 8500;
    public const int DefaultRestPort = 8501;
    public const string DefaultHost = "0.0.0.0";
    public const string DefaultModelName = "default";
    public const double DefaultPollWaitSeconds = 1;
    public const string DefaultRepository = "examples/models";

    /// <summary>gRPC port (<c>--port</c>).</summary>
    public int GrpcPort { get; set; } = DefaultGrpcPort;

    /// <summary>REST port (<c>--rest_api_port</c>); 0 turns REST off, as in TF Serving.</summary>
    public int RestPort { get; set; } = DefaultRestPort;

    /// <summary>Address both ports bind to (<c>--host</c>).</summary>
    public string Host { get; set; } = DefaultHost;

    /// <summary>Name of the single model served from <see cref="ModelBasePath"/>.</summary>
    public string ModelName { get; set; } = DefaultModelName;

    /// <summary>TF Serving's single-model base path: <c>&lt;base_path&gt;/&lt;version&gt;/model.onnx</c>.</summary>
    public string? ModelBasePath { get; set; }

    /// <summary>Triton's convention: every subdirectory is a model named after it.</summary>
    public string? ModelRepository { get; set; }

    /// <summary>Seconds between repository scans; 0 or less scans once at start-up.</summary>
    public double FileSystemPollWaitSeconds { get; set; } = DefaultPollWaitSeconds;

    /// <summary>Largest gRPC message or REST body, in bytes.</summary>
    public int MaxMessageBytes { get; set; } = GatewayOptions.DefaultMaxMessageBytes;

    /// <summary>Orleans silo-to-silo port; 0 picks a free one (only this process uses it in serve mode).</summary>
    public int SiloPort { get; set; }

    /// <summary>
    /// <c>--tensorflow_intra_op_parallelism</c>: threads each ONNX Runtime session may use for
    /// one run; 0 means one per core. TF Serving's name is kept so existing command lines work.
    /// </summary>
    public int IntraOpParallelism { get; set; }

    /// <summary><c>--enable_batching</c>: merge concurrent requests per model version.</summary>
    public bool EnableBatching { get; set; }

    /// <summary><c>--batching_parameters_file</c>: TF Serving's BatchingParameters in text format.</summary>
    public string? BatchingParametersFile { get; set; }

    /// <summary><c>--enable_per_model_batching_parameters</c>: read <c>batching_params.pbtxt</c> per version.</summary>
    public bool EnablePerModelBatchingParameters { get; set; }

    /// <summary><c>--model_replicas</c>: replicas per version for models whose config.pbtxt does not say.</summary>
    public int ModelReplicas { get; set; } = 1;

    /// <summary><c>--model_device</c>: device requirement for models whose config.pbtxt does not say.</summary>
    public DeviceRequirement ModelDevice { get; set; } = DeviceRequirement.Any;

    /// <summary>The deployment models get when their config.pbtxt does not set it.</summary>
    public ModelDeployment DefaultDeployment => ModelReplicas == 1 && ModelDevice == DeviceRequirement.Any
        ? ModelDeployment.Default
        : new ModelDeployment(ModelReplicas, ModelDevice, "flags");

    /// <summary><c>--cluster</c>: the Redis that holds membership and grain state (<c>redis://HOST:PORT</c>).</summary>
    public string? Cluster { get; set; }

    /// <summary><c>--cluster_id</c>: silos and gateways with the same id form one grid.</summary>
    public string ClusterId { get; set; } = "grid";

    /// <summary><c>--gateway_port</c>: the silo's Orleans client port, which <c>grid gateway</c> connects to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary><c>--advertised_address</c>: the IP other silos and gateways reach this silo at.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary><c>--devices</c>: what this silo offers; null detects (the CPU, plus any NVIDIA GPUs).</summary>
    public string? Devices { get; set; }

    /// <summary>
    /// <c>--gpu_stand_in</c>: accept GPU placements and run them on the CPU engine. For testing
    /// placement where no CUDA engine can run; the silo says so at start-up.
    /// </summary>
    public bool GpuStandIn { get; set; }

    /// <summary>
    /// <c>--libtorch_path</c> (or <c>GRID_LIBTORCH_PATH</c>): a host libtorch <c>lib</c> directory
    /// to use instead of the bundled CPU build; how a silo gets CUDA. Null: the bundled build.
    /// </summary>
    public string? LibTorchPath { get; set; }

    /// <summary><c>--saved_model_tags</c>: the tag set that picks a SavedModel's MetaGraphDef (TF Serving's flag; default <c>serve</c>).</summary>
    public IReadOnlyList<string> SavedModelTags { get; set; } = ["serve"];

    /// <summary><c>--gpu_memory_mib</c>: model memory admitted per GPU, in MiB; null: no limit beyond the device's own.</summary>
    public int? GpuMemoryMib { get; set; }

    /// <summary>
    /// <c>--cuda_library_path</c> (or <c>GRID_CUDA_LIBRARY_PATH</c>): colon-separated directories
    /// holding the CUDA and cuDNN libraries of ONNX Runtime's CUDA provider. Null: the
    /// <c>nvidia/*/lib</c> folders beside <see cref="LibTorchPath"/>'s PyTorch install, if any.
    /// </summary>
    public string? CudaLibraryPath { get; set; }

    /// <summary><c>--cudnn_conv_algo_search</c>: EXHAUSTIVE (default), HEURISTIC or DEFAULT, for ONNX Runtime on a GPU.</summary>
    public string CudnnConvAlgoSearch { get; set; } = "EXHAUSTIVE";

    /// <summary><c>--enable_signature_method_name_check</c>: see <see cref="GatewayOptions.EnableSignatureMethodNameCheck"/>.</summary>
    public bool EnableSignatureMethodNameCheck { get; set; }

    /// <summary><c>--admin_token</c>: the bearer token the admin API requires; null leaves it open.</summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// <c>--state_dir</c> (<c>grid serve</c>): where grain state (experiments, deployment
    /// overrides, the model registry) is kept as files, so it survives a restart.
    /// </summary>
    public string StateDir { get; set; } = DefaultStateDir;

    public const string DefaultStateDir = ".grid-state";

    /// <summary><c>--silo_name</c>: how the silo appears in status; default <c>silo-PORT</c>.</summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// The batching configuration these flags describe, reading and checking the parameters
    /// file; the error names the flag, the file and the field.
    /// </summary>
    public (BatchingOptions? Options, string? Error) ResolveBatching()
    {
        var options = new BatchingOptions { Enabled = EnableBatching, PerModelParameters = EnablePerModelBatchingParameters };
        if (BatchingParametersFile is null)
        {
            return (options, null);
        }
        if (!File.Exists(BatchingParametersFile))
        {
            return (null, $"--batching_parameters_file '{BatchingParametersFile}' does not exist");
        }
        try
        {
            options.Parameters = BatchingParametersParser.ParseFile(BatchingParametersFile);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            return (null, $"--batching_parameters_file '{BatchingParametersFile}': {e.Message}");
        }
        if (BatchingParametersValidator.Validate(options.Parameters) is { } error)
        {
            return (null, $"--batching_parameters_file '{BatchingParametersFile}': {error}");
        }
        return (options, null);
    }
}

/// <summary>Rejects a bad command line with one line that names the flag.</summary>
public static class ServeOptionsValidator
{
    public static string? Validate(ServeOptions o)
    {
        if (o.GrpcPort is < 1 or > 65535)
        {
            return $"--port must be between 1 and 65535, got {o.GrpcPort}";
        }
        if (o.RestPort is < 0 or > 65535)
        {
            return $"--rest_api_port must be between 0 and 65535, got {o.RestPort}";
        }
        if (o.RestPort == o.GrpcPort)
        {
            return $"--port and --rest_api_port must differ, both are {o.GrpcPort}";
        }
        if (o.SiloPort is < 0 or > 65535)
        {
            return $"--silo_port must be between 0 and 65535, got {o.SiloPort}";
        }
        if (ServeAddresses.TryParseHost(o.Host) is null)
        {
            return $"--host '{o.Host}' is not an IP address or 'localhost'";
        }
        if (o.Devices is not null && SiloDevices.ParseList(o.Devices).Error is { } deviceError)
        {
            return $"--devices '{o.Devices}': {deviceError}";
        }
        if (o.GpuMemoryMib is < 1)
        {
            return $"--gpu_memory_mib must be a positive number of MiB, got {o.GpuMemoryMib}";
        }
        if (o.LibTorchPath is not null && !Directory.Exists(o.LibTorchPath))
        {
            return $"--libtorch_path '{o.LibTorchPath}' is not a directory";
        }
        if (o.CudaLibraryPath?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(d => !Directory.Exists(d)) is { } missingCuda)
        {
            return $"--cuda_library_path: '{missingCuda}' is not a directory";
        }
        if (o.CudnnConvAlgoSearch is not ("EXHAUSTIVE" or "HEURISTIC" or "DEFAULT"))
        {
            return $"--cudnn_conv_algo_search must be EXHAUSTIVE, HEURISTIC or DEFAULT, got '{o.CudnnConvAlgoSearch}'";
        }
        if (o.ModelBasePath is not null && o.ModelRepository is not null)
        {
            return "--model_base_path and --model_repository cannot be used together";
        }
        if (o.ModelBasePath is not null && !Directory.Exists(o.ModelBasePath))
        {
            return $"--model_base_path '{o.ModelBasePath}' is not a directory";
        }
        if (o.ModelRepository is not null && !Directory.Exists(o.ModelRepository))
        {
            return $"--model_repository '{o.ModelRepository}' is not a directory";
        }
        if (string.IsNullOrWhiteSpace(o.ModelName) || o.ModelName.IndexOfAny(['/', ':']) >= 0)
        {
            return $"--model_name '{o.ModelName}' must be non-empty and contain no '/' or ':'";
        }
        if (double.IsNaN(o.FileSystemPollWaitSeconds) || o.FileSystemPollWaitSeconds > 86400)
        {
            return $"--file_system_poll_wait_seconds must be at most 86400, got {o.FileSystemPollWaitSeconds}";
        }
        if (o.IntraOpParallelism is < 0 or > 1024)
        {
            return $"--tensorflow_intra_op_parallelism must be between 0 and 1024, got {o.IntraOpParallelism}";
        }
        if (o.BatchingParametersFile is not null && !o.EnableBatching)
        {
            return "--batching_parameters_file is set without setting --enable_batching";
        }
        if (o.EnablePerModelBatchingParameters && !o.EnableBatching)
        {
            return "--enable_per_model_batching_parameters is set without setting --enable_batching";
        }
        if (o.MaxMessageBytes < 1024)
        {
            return $"--max_message_bytes must be at least 1024, got {o.MaxMessageBytes}";
        }
        if (o.AdminToken is { } token && (token.Length < 8 || token.Any(char.IsWhiteSpace)))
        {
            return "--admin_token must be at least 8 characters with no spaces";
        }
        if (o.ModelReplicas is < 1 or > Serving.Configuration.ModelConfig.MaxReplicas)
        {
            return $"--model_replicas must be between 1 and {Serving.Configuration.ModelConfig.MaxReplicas}, got {o.ModelReplicas}";
        }
        return null;
    }
}

/// <summary>Checks the flags only the cluster roles (<c>grid silo</c>, <c>grid gateway</c>) take.</summary>
public static class ClusterOptionsValidator
{
    public static string? Validate(ServeOptions o, bool isSilo)
    {
        if (o.Cluster is null)
        {
            return "--cluster is required: the Redis that holds membership and state, e.g. --cluster redis://127.0.0.1:6379";
        }
        if (ClusterAddress.TryParse(o.Cluster, out _) is { } error)
        {
            return $"--cluster '{o.Cluster}': {error}";
        }
        if (string.IsNullOrWhiteSpace(o.ClusterId))
        {
            return "--cluster_id must not be empty";
        }
        if (!isSilo)
        {
            return null;
        }
        if (o.SiloPort is < 1 or > 65535)
        {
            return $"--silo_port must be between 1 and 65535, got {o.SiloPort}";
        }
        if (o.GatewayPort is < 1 or > 65535 || o.GatewayPort == o.SiloPort)
        {
            return $"--gateway_port must be between 1 and 65535 and differ from --silo_port, got {o.GatewayPort}";
        }
        if (!System.Net.IPAddress.TryParse(o.AdvertisedAddress, out _))
        {
            return $"--advertised_address '{o.AdvertisedAddress}' is not an IP address";
        }
        return null;
    }
}

/// <summary>Reads <c>--cluster</c>: <c>redis://[:PASSWORD@]HOST:PORT[/DB]</c> or plain <c>HOST:PORT</c>.</summary>
public static class ClusterAddress
{
    /// <summary>Returns an error, or null with <paramref name="options"/> set.</summary>
    public static string? TryParse(string text, out StackExchange.Redis.ConfigurationOptions? options)
    {
        options = null;
        var rest = text.Trim();
        string? password = null;
        var database = -1;
        if (rest.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["redis://".Length..];
            var at = rest.LastIndexOf('@');
            if (at >= 0)
            {
                var user = rest[..at];
                password = user.Contains(':') ? user[(user.IndexOf(':') + 1)..] : user;
                rest = rest[(at + 1)..];
            }
            var slash = rest.IndexOf('/');
            if (slash >= 0)
            {
                if (!int.TryParse(rest[(slash + 1)..], out database) || database < 0)
                {
                    return "the database after '/' must be a non-negative integer";
                }
                rest = rest[..slash];
            }
        }
        else if (rest.Contains("://", StringComparison.Ordinal))
        {
            return "only redis:// addresses are supported";
        }
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out var port) || port is < 1 or > 65535)
        {
            return "expected redis://HOST:PORT";
        }
        options = new StackExchange.Redis.ConfigurationOptions
        {
            EndPoints = { { rest[..colon], port } },
            Password = password,
            AbortOnConnectFail = false,
        };
        if (database >= 0)
        {
            options.DefaultDatabase = database;
        }
        return null;
    }
}

public static class ServeAddresses
{
    public static System.Net.IPAddress? TryParseHost(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return System.Net.IPAddress.Loopback;
        }
        return System.Net.IPAddress.TryParse(host, out var address) ? address : null;
    }

    public static int FreeTcpPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
