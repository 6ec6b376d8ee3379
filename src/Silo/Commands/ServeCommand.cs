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
        var gateway = new GatewayFlags();
        var models = new ModelFlags();
        var deviceFlags = new DeviceFlags();
        var siloPort = new Option<int>("--silo_port") { Description = "Orleans silo port; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var stateDir = new Option<string>("--state_dir") { Description = "Directory for grain state (experiments, deployment overrides, the model registry), kept across restarts.", DefaultValueFactory = _ => ServeOptions.DefaultStateDir };

        var command = new Command("serve", "Run a silo and the TF Serving gateway in one process (no external services).");
        foreach (var option in gateway.All.Concat(models.All).Concat(deviceFlags.All).Append(siloPort).Append(stateDir))
        {
            command.Options.Add(option);
        }
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new ServeOptions { SiloPort = result.GetValue(siloPort), StateDir = result.GetValue(stateDir)! };
            gateway.Read(result, options);
            deviceFlags.Read(result, options);
            var (batching, error) = models.ReadAndCheck(result, options, clusterSilo: false);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            var (hardware, deviceError) = SiloHardware.Detect(options);
            if (hardware is null)
            {
                return Program.Fail(deviceError!);
            }
            var builder = WebApplication.CreateBuilder();
            builder.AddGridLogging()
                   .AddGridEmbeddedSilo(options, batching!, hardware)
                   .AddModelRepositorySource(options)
                   .AddGridGateway(options);
            var app = builder.Build();
            app.MapGridGateway();
            return await GridHost.RunAsync(app, cancellationToken);
        });
        return command;
    }
}

/// <summary><c>grid silo</c>: a cluster silo that hosts model grains and advertises its devices.</summary>
public static class SiloCommand
{
    public static Command Create()
    {
        var cluster = new ClusterFlags();
        var models = new ModelFlags();
        var siloPort = new Option<int>("--silo_port") { Description = "Orleans silo-to-silo port.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway_port") { Description = "Orleans client port that 'grid gateway' connects to.", DefaultValueFactory = _ => 30000 };
        var advertised = new Option<string>("--advertised_address") { Description = "IP address other silos and gateways reach this silo at.", DefaultValueFactory = _ => "127.0.0.1" };
        var deviceFlags = new DeviceFlags();
        var name = new Option<string?>("--silo_name") { Description = "Name shown in status; default silo-<silo_port>." };

        var command = new Command("silo", "Run one silo of a Redis-backed cluster; models are served through 'grid gateway'.");
        foreach (var option in cluster.All.Concat(models.All).Concat(deviceFlags.All).Concat([siloPort, gatewayPort, advertised, name]))
        {
            command.Options.Add(option);
        }
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new ServeOptions
            {
                SiloPort = result.GetValue(siloPort),
                GatewayPort = result.GetValue(gatewayPort),
                AdvertisedAddress = result.GetValue(advertised)!,
                SiloName = result.GetValue(name),
            };
            cluster.Read(result, options);
            deviceFlags.Read(result, options);
            var (batching, error) = models.ReadAndCheck(result, options, clusterSilo: true);
            if (error is not null)
            {
                return Program.Fail(error);
            }
            var (hardware, deviceError) = SiloHardware.Detect(options);
            if (hardware is null)
            {
                return Program.Fail(deviceError!);
            }
            var builder = Host.CreateApplicationBuilder();
            builder.AddGridLogging()
                   .AddGridClusterSilo(options, batching!, hardware)
                   .AddModelRepositorySource(options);
            return await GridHost.RunAsync(builder.Build(), cancellationToken);
        });
        return command;
    }
}

/// <summary><c>grid gateway</c>: TF Serving's REST and gRPC APIs in front of a cluster, as an Orleans client.</summary>
public static class GatewayCommand
{
    public static Command Create()
    {
        var cluster = new ClusterFlags();
        var gateway = new GatewayFlags();
        var command = new Command("gateway", "Serve TF Serving's REST and gRPC APIs for a Redis-backed cluster of 'grid silo' processes.");
        foreach (var option in cluster.All.Concat(gateway.All))
        {
            command.Options.Add(option);
        }
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new ServeOptions();
            cluster.Read(result, options);
            gateway.Read(result, options);
            if ((ServeOptionsValidator.Validate(options) ?? ClusterOptionsValidator.Validate(options, isSilo: false)) is { } error)
            {
                return Program.Fail(error);
            }
            var builder = WebApplication.CreateBuilder();
            builder.AddGridLogging()
                   .AddGridClusterClient(options)
                   .AddGridGateway(options);
            var app = builder.Build();
            app.MapGridGateway();
            return await GridHost.RunAsync(app, cancellationToken);
        });
        return command;
    }
}
