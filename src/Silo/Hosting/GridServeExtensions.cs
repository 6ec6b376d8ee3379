using System.Net;
using Grid.Gateway.Hosting;
using Grid.Grains.Hosting;
using Grid.Serving.Batching;
using Grid.Serving.Policies;
using Grid.Silo.Configuration;
using Grid.Silo.Services;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Orleans.Configuration;
using Grid.Devices;

namespace Grid.Silo.Hosting;

public static partial class GridServeExtensions
{
    public static T AddGridLogging<T>(this T builder) where T : IHostApplicationBuilder
    {
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        return builder;
    }

    /// <summary>Orleans' own limit must stay well above the gateway's, which is enforced first.</summary>
    private static int OrleansBodyLimit(ServeOptions options) => (int)Math.Min(int.MaxValue, Math.Max(100 * 1024 * 1024, 2L * options.MaxMessageBytes));

    /// <summary>An embedded single-process silo: localhost clustering, in-memory grain state, model grains.</summary>
    public static T AddGridEmbeddedSilo<T>(this T builder, ServeOptions options, BatchingOptions batching, SiloHardware hardware) where T : IHostApplicationBuilder
    {
        var siloPort = options.SiloPort == 0 ? ServeAddresses.FreeTcpPort() : options.SiloPort;
        var devices = hardware.Devices;
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: ServeAddresses.FreeTcpPort());
            silo.Configure<SiloMessagingOptions>(m => m.MaxMessageBodySize = OrleansBodyLimit(options));
            silo.Services.AddGridFileStorage(GridStorage.Name, Path.GetFullPath(options.StateDir));
            silo.AddGridPlacement(devices, hardware.Binding(options));
            silo.Services.AddSingleton(new Grid.Engines.TensorFlow.Serving.SavedModelOptions { Tags = options.SavedModelTags });
            silo.Services.AddGridGrains(o => hardware.ConfigureOnnx(o, options), b => b.CopyFrom(batching));
        });
        builder.Services.AddHostedService(sp => new DeviceAnnouncement(hardware, sp.GetRequiredService<ILogger<DeviceAnnouncement>>()));
        return builder;
    }

    /// <summary>
    /// A cluster silo: Redis membership and grain state, the advertised devices as silo metadata,
    /// failure detection tuned to seconds, model grains.
    /// </summary>
    public static T AddGridClusterSilo<T>(this T builder, ServeOptions options, BatchingOptions batching, SiloHardware hardware) where T : IHostApplicationBuilder
    {
        ClusterAddress.TryParse(options.Cluster!, out var redis);
        var devices = hardware.Devices;
        var address = System.Net.IPAddress.Parse(options.AdvertisedAddress);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(c => { c.ClusterId = options.ClusterId; c.ServiceId = ServiceId; });
            silo.Configure<SiloOptions>(s => s.SiloName = options.SiloName ?? $"silo-{options.SiloPort}");
            silo.UseRedisClustering(r => r.ConfigurationOptions = redis!.Clone());
            silo.AddRedisGrainStorage(GridStorage.Name, r => r.ConfigurationOptions = redis!.Clone());
            silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: !System.Net.IPAddress.IsLoopback(address));
            silo.Configure<SiloMessagingOptions>(m => m.MaxMessageBodySize = OrleansBodyLimit(options));
            silo.Configure<ClusterMembershipOptions>(ConfigureFailureDetection);
            silo.AddGridPlacement(devices, hardware.Binding(options));
            silo.Services.AddSingleton(new Grid.Engines.TensorFlow.Serving.SavedModelOptions { Tags = options.SavedModelTags });
            silo.Services.AddGridGrains(o => hardware.ConfigureOnnx(o, options), b => b.CopyFrom(batching));
        });
        builder.Services.AddHostedService(sp => new DeviceAnnouncement(hardware, sp.GetRequiredService<ILogger<DeviceAnnouncement>>()));
        return builder;
    }

    /// <summary>The Orleans service id shared by every Grid cluster; clusters differ by <c>--cluster_id</c>.</summary>
    public const string ServiceId = "grid";

    /// <summary>
    /// Declares a silo that stopped answering dead after about 3 s (3 missed 1 s probes) instead
    /// of Orleans' default of about 15 s, so its replicas are re-placed sooner. Loopback and LAN
    /// clusters answer probes in milliseconds; raise these on congested networks.
    /// </summary>
    private static void ConfigureFailureDetection(ClusterMembershipOptions m)
    {
        m.ProbeTimeout = TimeSpan.FromSeconds(1);
        m.NumMissedProbesLimit = 3;
        m.NumVotesForDeathDeclaration = 1;
        m.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        m.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>
    /// A gateway process: an Orleans client of the cluster in Redis. It keeps retrying until a
    /// silo answers, so gateways may start before silos, and refreshes its silo list every 2 s.
    /// </summary>
    public static T AddGridClusterClient<T>(this T builder, ServeOptions options) where T : IHostApplicationBuilder
    {
        ClusterAddress.TryParse(options.Cluster!, out var redis);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(c => { c.ClusterId = options.ClusterId; c.ServiceId = ServiceId; });
            client.UseRedisClustering(r => r.ConfigurationOptions = redis!.Clone());
            client.Configure<Orleans.Configuration.GatewayOptions>(g => g.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2));
            client.Configure<ClientMessagingOptions>(m => m.MaxMessageBodySize = OrleansBodyLimit(options));
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
        });
        return builder;
    }

    /// <summary>The repository source that feeds aspired versions to the model grains.</summary>
    public static T AddModelRepositorySource<T>(this T builder, ServeOptions options) where T : IHostApplicationBuilder
    {
        builder.Services.AddSingleton<IVersionSelectionPolicy>(new LatestVersionSelectionPolicy(1));
        builder.Services.Configure<RepositorySourceOptions>(o =>
        {
            o.PollInterval = TimeSpan.FromSeconds(Math.Max(0, options.FileSystemPollWaitSeconds));
            o.DefaultDeployment = options.DefaultDeployment;
            if (options.ModelBasePath is not null)
            {
                o.Models[options.ModelName] = Path.GetFullPath(options.ModelBasePath);
            }
            else
            {
                o.RepositoryRoot = Path.GetFullPath(options.ModelRepository ?? ServeDefaults.FindExampleRepository());
            }
        });
        builder.Services.AddHostedService<RepositorySource>();
        return builder;
    }

    /// <summary>The TF Serving gateway on its two ports: gRPC (HTTP/2) and REST (HTTP/1.1).</summary>
    public static WebApplicationBuilder AddGridGateway(this WebApplicationBuilder builder, ServeOptions options)
    {
        var address = ServeAddresses.TryParseHost(options.Host)!;
        builder.WebHost.ConfigureKestrel(k =>
        {
            // REST enforces --max_message_bytes itself (and answers 413 in TF Serving's error
            // format); gRPC enforces it through its own receive limit.
            k.Limits.MaxRequestBodySize = null;
            k.Listen(address, options.GrpcPort, l => l.Protocols = HttpProtocols.Http2);
            if (options.RestPort != 0)
            {
                k.Listen(address, options.RestPort, l => l.Protocols = HttpProtocols.Http1);
            }
        });
        builder.Services.AddGridGateway(g =>
        {
            g.MaxMessageBytes = options.MaxMessageBytes;
            g.AdminToken = options.AdminToken;
            g.EnableSignatureMethodNameCheck = options.EnableSignatureMethodNameCheck;
        });
        return builder;
    }
}

public static class ServeDefaults
{
    /// <summary>
    /// The embedded default repository, <c>examples/models</c>: looked up from the working
    /// directory first, then upwards from the executable, so <c>dotnet run</c> finds it from a clone.
    /// </summary>
    public static string FindExampleRepository()
    {
        if (Directory.Exists(ServeOptions.DefaultRepository))
        {
            return ServeOptions.DefaultRepository;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ServeOptions.DefaultRepository);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return ServeOptions.DefaultRepository;
    }
}

/// <summary>
/// What a silo found at start-up: its devices, the libtorch it loaded and what ONNX Runtime's
/// CUDA provider found (each null when none was needed).
/// </summary>
public sealed record SiloHardware(SiloDevices Devices, Grid.Engines.LibTorch.LibTorchStatus? LibTorch, Grid.Serving.Inference.OnnxCudaStatus? OnnxCuda = null)
{
    /// <summary>Resolves the devices for a silo command; an error line for bad device flags, a bad --libtorch_path or --cuda_library_path.</summary>
    public static (SiloHardware? Hardware, string? Error) Detect(ServeOptions options)
    {
        var (devices, libtorch, onnxCuda, error) = DeviceDetection.ForSilo(options);
        return devices is null ? (null, error) : (new SiloHardware(devices, libtorch, onnxCuda), null);
    }

    /// <summary>ONNX Runtime's options on this silo: threads, and CUDA when its provider loaded.</summary>
    public void ConfigureOnnx(Grid.Serving.Inference.OnnxRuntimeOptions onnx, ServeOptions options)
    {
        onnx.IntraOpThreads = options.IntraOpParallelism;
        onnx.Cuda = OnnxCuda;
        onnx.CudnnConvAlgoSearch = options.CudnnConvAlgoSearch;
        onnx.GpuMemoryLimitBytes = options.GpuMemoryMib is { } mib ? mib * 1024L * 1024L : null;
    }

    public Grid.Serving.Inference.DeviceBindingOptions Binding(ServeOptions options) => new()
    {
        GpuMemoryLimitBytes = options.GpuMemoryMib is { } mib ? mib * 1024L * 1024L : null,
    };
}

/// <summary>Says at start-up what the silo offers, which libtorch it runs, and in one line why a GPU it has is not offered.</summary>
public sealed partial class DeviceAnnouncement(SiloHardware hardware, ILogger<DeviceAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var devices = hardware.Devices;
        Log.Devices(logger, string.Join(",", devices.Devices));
        if (hardware.LibTorch is { } libtorch)
        {
            Log.LibTorch(logger, libtorch.Source, libtorch.CudaAvailable ? $"{libtorch.CudaDeviceCount} device(s)" : "unavailable");
        }
        if (hardware.OnnxCuda is { } onnx)
        {
            Log.OnnxCuda(logger, onnx.Available ? $"{onnx.DeviceCount} device(s), libraries from {string.Join(":", onnx.LibraryDirectories)}" : $"unavailable ({onnx.UnavailableReason})");
        }
        var gpus = string.Join(",", devices.Gpus);
        if (gpus.Length > 0)
        {
            if (devices.GpuUnusableReason is { } reason)
            {
                Log.GpuRefused(logger, gpus, reason);
            }
            else if (devices.GpuStandIn)
            {
                Log.GpuStandIn(logger, gpus);
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(1301, LogLevel.Information, "Silo devices: {Devices}")]
        public static partial void Devices(ILogger logger, string devices);

        [LoggerMessage(1302, LogLevel.Warning, "GPUs {Gpus} are not offered for placement: {Reason}. Models that need a GPU will not be placed here; models that allow 'any' run on the CPU.")]
        public static partial void GpuRefused(ILogger logger, string gpus, string reason);

        [LoggerMessage(1303, LogLevel.Warning, "GPUs {Gpus} are stand-ins (--gpu_stand_in): GPU placements are accepted and run on the CPU engine")]
        public static partial void GpuStandIn(ILogger logger, string gpus);

        [LoggerMessage(1304, LogLevel.Information, "libtorch: {Source}; CUDA: {Cuda}")]
        public static partial void LibTorch(ILogger logger, string source, string cuda);

        [LoggerMessage(1305, LogLevel.Information, "ONNX Runtime CUDA provider: {Cuda}")]
        public static partial void OnnxCuda(ILogger logger, string cuda);
    }
}

/// <summary>Runs a built host, turning a port already in use into one line and exit code 2.</summary>
public static class GridHost
{
    public static async Task<int> RunAsync(IHost host, CancellationToken cancellationToken)
    {
        try
        {
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.AddressInUseException || e is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            return Program.Fail($"cannot listen: {e.Message}");
        }
    }
}
