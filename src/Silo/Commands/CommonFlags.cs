using System.CommandLine;
using Grid.Devices;
using Grid.Serving.Batching;
using Grid.Silo.Configuration;

namespace Grid.Silo.Commands;

/// <summary>The TF Serving front-end flags: gRPC and REST ports, bind address, message limit.</summary>
internal sealed class GatewayFlags
{
    private readonly Option<int> _port = new("--port") { Description = "gRPC port (TF Serving's PredictionService and ModelService).", DefaultValueFactory = _ => ServeOptions.DefaultGrpcPort };
    private readonly Option<int> _restPort = new("--rest_api_port") { Description = "REST port for TF Serving's /v1/models API; 0 turns REST off.", DefaultValueFactory = _ => ServeOptions.DefaultRestPort };
    private readonly Option<string> _host = new("--host") { Description = "Address to bind both ports to (an IP address or 'localhost').", DefaultValueFactory = _ => ServeOptions.DefaultHost };
    private readonly Option<int> _maxMessage = new("--max_message_bytes") { Description = "Largest gRPC message and REST body, in bytes (default 64 MiB).", DefaultValueFactory = _ => Gateway.Configuration.GatewayOptions.DefaultMaxMessageBytes };
    private readonly Option<string?> _adminToken = new("--admin_token") { Description = "Require 'Authorization: Bearer <token>' on the admin API (/v1/grid/...). Also read from GRID_ADMIN_TOKEN." };

    private readonly Option<bool> _methodNameCheck = new("--enable_signature_method_name_check") { Description = "Classify and Regress refuse signatures whose method_name is not theirs (TF Serving's flag; off by default, as there, because native TF2 SavedModels mark every signature predict)." };

    public IEnumerable<Option> All => [_port, _restPort, _host, _maxMessage, _adminToken, _methodNameCheck];

    public void Read(ParseResult result, ServeOptions o)
    {
        o.GrpcPort = result.GetValue(_port);
        o.RestPort = result.GetValue(_restPort);
        o.Host = result.GetValue(_host)!;
        o.MaxMessageBytes = result.GetValue(_maxMessage);
        o.AdminToken = result.GetValue(_adminToken) ?? Environment.GetEnvironmentVariable("GRID_ADMIN_TOKEN");
        o.EnableSignatureMethodNameCheck = result.GetValue(_methodNameCheck);
    }
}

/// <summary>The model flags of a process that hosts model grains: repository, engine threads, batching, deployment defaults.</summary>
internal sealed class ModelFlags
{
    private readonly Option<string> _modelName = new("--model_name") { Description = "Name of the model served from --model_base_path.", DefaultValueFactory = _ => ServeOptions.DefaultModelName };
    private readonly Option<string?> _basePath = new("--model_base_path") { Description = "One model's base path: <base_path>/<version>/model.onnx." };
    private readonly Option<string?> _repository = new("--model_repository") { Description = "A directory whose every subdirectory is a model base path (Triton's layout). Default when no model flag is given: examples/models." };
    private readonly Option<double> _poll = new("--file_system_poll_wait_seconds") { Description = "Seconds between scans for new or removed versions; 0 scans once at start-up.", DefaultValueFactory = _ => ServeOptions.DefaultPollWaitSeconds };
    private readonly Option<int> _intraOp = new("--tensorflow_intra_op_parallelism") { Description = "Threads one ONNX Runtime run may use; 0 means one per core.", DefaultValueFactory = _ => 0 };
    private readonly Option<bool> _enableBatching = new("--enable_batching") { Description = "Merge concurrent requests to a model version into one engine call (server-side batching)." };
    private readonly Option<string?> _batchingFile = new("--batching_parameters_file") { Description = "TF Serving's BatchingParameters in text format (max_batch_size, batch_timeout_micros, ...); needs --enable_batching." };
    private readonly Option<bool> _perModelBatching = new("--enable_per_model_batching_parameters") { Description = "Read batching_params.pbtxt from each version directory, overriding --batching_parameters_file for it." };
    private readonly Option<int> _replicas = new("--model_replicas") { Description = "Replicas of every version, for models whose config.pbtxt has no instance_group count.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _tags = new("--saved_model_tags") { Description = "Comma-separated tags that pick the MetaGraphDef of a TensorFlow SavedModel.", DefaultValueFactory = _ => "serve" };
    private readonly Option<string> _device = new("--model_device") { Description = "Device models need (gpu, cpu or any), for models whose config.pbtxt has no instance_group kind.", DefaultValueFactory = _ => "any" };

    public IEnumerable<Option> All => [_modelName, _basePath, _repository, _poll, _intraOp, _enableBatching, _batchingFile, _perModelBatching, _replicas, _device, _tags];

    /// <summary>
    /// Reads the flags, checks the whole command line (with the cluster silo's flags when
    /// <paramref name="clusterSilo"/>) and reads the batching file: the batching configuration,
    /// or one error line naming the flag.
    /// </summary>
    public (BatchingOptions? Batching, string? Error) ReadAndCheck(ParseResult result, ServeOptions o, bool clusterSilo)
    {
        var error = Read(result, o)
            ?? ServeOptionsValidator.Validate(o)
            ?? (clusterSilo ? ClusterOptionsValidator.Validate(o, isSilo: true) : null);
        return error is not null ? (null, error) : o.ResolveBatching();
    }

    /// <summary>Reads the flags; returns an error naming the flag, or null.</summary>
    private string? Read(ParseResult result, ServeOptions o)
    {
        o.ModelName = result.GetValue(_modelName)!;
        o.ModelBasePath = result.GetValue(_basePath);
        o.ModelRepository = result.GetValue(_repository);
        o.FileSystemPollWaitSeconds = result.GetValue(_poll);
        o.IntraOpParallelism = result.GetValue(_intraOp);
        o.EnableBatching = result.GetValue(_enableBatching);
        o.BatchingParametersFile = result.GetValue(_batchingFile);
        o.EnablePerModelBatchingParameters = result.GetValue(_perModelBatching);
        o.ModelReplicas = result.GetValue(_replicas);
        o.SavedModelTags = [.. result.GetValue(_tags)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        if (o.SavedModelTags.Count == 0)
        {
            return "--saved_model_tags needs at least one tag";
        }
        var device = result.GetValue(_device);
        if (!DeviceRequirements.TryParse(device, out var parsed))
        {
            return $"--model_device '{device}' must be gpu, cpu or any";
        }
        o.ModelDevice = parsed;
        if (o.ModelBasePath is null && o.ModelRepository is null)
        {
            var defaults = Hosting.ServeDefaults.FindExampleRepository();
            if (!Directory.Exists(defaults))
            {
                return "no --model_base_path or --model_repository given, and no examples/models directory was found";
            }
            o.ModelRepository = defaults;
        }
        return null;
    }
}

/// <summary>The device flags of a process that hosts model grains.</summary>
internal sealed class DeviceFlags
{
    private readonly Option<string?> _devices = new("--devices") { Description = "Devices offered to models: cpu, gpu:0, gpu:1... (comma-separated). Default: the CPU plus every GPU CUDA sees (or the driver lists)." };
    private readonly Option<bool> _standIn = new("--gpu_stand_in") { Description = "Accept GPU placements and run them on the CPU engine (testing placement without a CUDA engine)." };
    private readonly Option<string?> _libtorch = new("--libtorch_path") { Description = "A host libtorch lib directory (e.g. a PyTorch install's site-packages/torch/lib) used instead of the bundled CPU build; how GPUs become usable. Also read from GRID_LIBTORCH_PATH." };
    private readonly Option<int?> _gpuMemory = new("--gpu_memory_mib") { Description = "Model memory admitted per GPU, in MiB; a load beyond it fails with RESOURCE_EXHAUSTED, and it caps each ONNX Runtime CUDA arena. Default: no limit beyond the device's own." };
    private readonly Option<string?> _cudaLibraries = new("--cuda_library_path") { Description = "Colon-separated directories with the CUDA 13 and cuDNN 9 libraries for ONNX Runtime's CUDA provider (a GridOnnxRuntime=cuda build). Default: the nvidia/*/lib folders of the --libtorch_path PyTorch install. Also read from GRID_CUDA_LIBRARY_PATH." };
    private readonly Option<string> _cudnnSearch = new("--cudnn_conv_algo_search") { Description = "cuDNN convolution algorithm search for ONNX Runtime on a GPU: EXHAUSTIVE (benchmark once per shape), HEURISTIC or DEFAULT.", DefaultValueFactory = _ => "EXHAUSTIVE" };

    public IEnumerable<Option> All => [_devices, _standIn, _libtorch, _gpuMemory, _cudaLibraries, _cudnnSearch];

    public void Read(ParseResult result, ServeOptions o)
    {
        o.Devices = result.GetValue(_devices);
        o.GpuStandIn = result.GetValue(_standIn);
        var libtorch = result.GetValue(_libtorch) ?? Environment.GetEnvironmentVariable(Grid.Engines.LibTorch.LibTorchRuntime.EnvironmentVariable);
        o.LibTorchPath = string.IsNullOrWhiteSpace(libtorch) ? null : libtorch;
        o.GpuMemoryMib = result.GetValue(_gpuMemory);
        var cuda = result.GetValue(_cudaLibraries) ?? Environment.GetEnvironmentVariable(Grid.Serving.Inference.OnnxCudaRuntime.EnvironmentVariable);
        o.CudaLibraryPath = string.IsNullOrWhiteSpace(cuda) ? null : cuda;
        o.CudnnConvAlgoSearch = result.GetValue(_cudnnSearch)!.ToUpperInvariant();
    }
}

/// <summary>The flags that join a process to a cluster.</summary>
internal sealed class ClusterFlags
{
    private readonly Option<string?> _cluster = new("--cluster") { Description = "Redis holding the cluster's membership and state: redis://HOST:PORT[/DB].", Required = true };
    private readonly Option<string> _clusterId = new("--cluster_id") { Description = "Silos and gateways with the same id and Redis form one grid.", DefaultValueFactory = _ => "grid" };

    public IEnumerable<Option> All => [_cluster, _clusterId];

    public void Read(ParseResult result, ServeOptions o)
    {
        o.Cluster = result.GetValue(_cluster);
        o.ClusterId = result.GetValue(_clusterId)!;
    }
}
