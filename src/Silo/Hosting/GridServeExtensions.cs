using System.Net;
using Grid.Gateway.Hosting;
using Grid.Grains.Hosting;
using Grid.Serving.Batching;
using Grid.Serving.Policies;
using Grid.Silo.Configuration;
using Grid.Silo.Services;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Orleans.Configuration;

namespace Grid.Silo.Hosting;

public static class GridServeExtensions
{
    /// <summary>An embedded single-process silo: localhost clustering, model grains.</summary>
    public static WebApplicationBuilder AddGridEmbeddedSilo(this WebApplicationBuilder builder, ServeOptions options, BatchingOptions batching)
    {
        var siloPort = options.SiloPort == 0 ? ServeAddresses.FreeTcpPort() : options.SiloPort;
        // Orleans' own limit must stay well above the gateway's, which is enforced first.
        var orleansBodyLimit = Math.Max(100 * 1024 * 1024, 2L * options.MaxMessageBytes);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: ServeAddresses.FreeTcpPort());
            silo.Configure<SiloMessagingOptions>(m => m.MaxMessageBodySize = (int)Math.Min(int.MaxValue, orleansBodyLimit));
            silo.Services.AddGridGrains(configureBatching: b =>
            {
                b.Enabled = batching.Enabled;
                b.Parameters = batching.Parameters;
                b.PerModelParameters = batching.PerModelParameters;
            });
        });
        return builder;
    }

    /// <summary>The repository source that feeds aspired versions to the model grains.</summary>
    public static WebApplicationBuilder AddModelRepositorySource(this WebApplicationBuilder builder, ServeOptions options)
    {
        builder.Services.AddSingleton<IVersionSelectionPolicy>(new LatestVersionSelectionPolicy(1));
        builder.Services.Configure<RepositorySourceOptions>(o =>
        {
            o.PollInterval = TimeSpan.FromSeconds(Math.Max(0, options.FileSystemPollWaitSeconds));
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
        builder.Services.AddGridGateway(g => g.MaxMessageBytes = options.MaxMessageBytes);
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
