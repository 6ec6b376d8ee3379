using System.Net;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Grid.Devices;
using Grid.Testing;

namespace Grid.EndToEnd.Tests.Configuration;

/// <summary>
/// The cluster flags of <c>grid silo</c> and <c>grid gateway</c>: <c>--cluster</c> parsing,
/// <c>ClusterOptionsValidator</c> (device resolution is unit-tested in Grid.Serving.Tests). This project builds grid
/// but keeps it out of the test process's references, so its types are reached by reflection
/// on the built grid.dll (see <see cref="GridAssembly"/>).
/// </summary>
public sealed class ClusterOptionsTests
{
    // ClusterAddress.TryParse

    [Fact]
    public void TryParse_RedisUrl_ReturnsTheEndpoint()
    {
        // Act
        var (error, options) = GridAssembly.ParseClusterAddress("redis://127.0.0.1:6379");

        // Assert
        Assert.Null(error);
        Assert.NotNull(options);
        Assert.Equal(new[] { "127.0.0.1:6379" }, options.EndPoints);
        Assert.Null(options.Password);
        Assert.Null(options.DefaultDatabase);
        Assert.False(options.AbortOnConnectFail);
    }

    [Fact]
    public void TryParse_RedisUrlWithPasswordAndDatabase_ReturnsBoth()
    {
        // Act
        var (error, options) = GridAssembly.ParseClusterAddress("redis://:secret@host:6380/2");

        // Assert
        Assert.Null(error);
        Assert.NotNull(options);
        Assert.Equal(new[] { "host:6380" }, options.EndPoints);
        Assert.Equal("secret", options.Password);
        Assert.Equal(2, options.DefaultDatabase);
    }

    [Fact]
    public void TryParse_RedisUrlWithBarePassword_ReturnsThePassword()
    {
        // Act
        var (error, options) = GridAssembly.ParseClusterAddress("REDIS://secret@10.1.2.3:7000");

        // Assert
        Assert.Null(error);
        Assert.NotNull(options);
        Assert.Equal(new[] { "10.1.2.3:7000" }, options.EndPoints);
        Assert.Equal("secret", options.Password);
    }

    [Fact]
    public void TryParse_PlainHostAndPort_ReturnsTheEndpoint()
    {
        // Act
        var (error, options) = GridAssembly.ParseClusterAddress("host:6379");

        // Assert
        Assert.Null(error);
        Assert.NotNull(options);
        Assert.Equal(new[] { "host:6379" }, options.EndPoints);
        Assert.Null(options.Password);
        Assert.Null(options.DefaultDatabase);
    }

    [Theory]
    [InlineData("http://x:1", "only redis:// addresses are supported")]
    [InlineData("redis://host", "expected redis://HOST:PORT")]
    [InlineData("redis://host:0", "expected redis://HOST:PORT")]
    [InlineData("redis://host:65536", "expected redis://HOST:PORT")]
    [InlineData("redis://:6379", "expected redis://HOST:PORT")]
    [InlineData("host", "expected redis://HOST:PORT")]
    [InlineData("", "expected redis://HOST:PORT")]
    [InlineData("redis://host:6379/x", "the database after '/' must be a non-negative integer")]
    [InlineData("redis://host:6379/-1", "the database after '/' must be a non-negative integer")]
    [InlineData("redis://host:6379/", "the database after '/' must be a non-negative integer")]
    public void TryParse_BadAddress_ReturnsTheErrorAndNoOptions(string text, string expected)
    {
        // Act
        var (error, options) = GridAssembly.ParseClusterAddress(text);

        // Assert
        Assert.Equal(expected, error);
        Assert.Null(options);
    }

    // ClusterOptionsValidator.Validate

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_ValidClusterFlags_ReturnsNull(bool isSilo)
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo, ValidSilo);

        // Assert
        Assert.Null(error);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_MissingCluster_SaysItIsRequired(bool isSilo)
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo, ValidSilo.With("Cluster", null));

        // Assert
        Assert.Equal("--cluster is required: the Redis that holds membership and state, e.g. --cluster redis://127.0.0.1:6379", error);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_BadCluster_NamesTheFlagAndTheAddress(bool isSilo)
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo, ValidSilo.With("Cluster", "http://x:1"));

        // Assert
        Assert.Equal("--cluster 'http://x:1': only redis:// addresses are supported", error);
    }

    [Fact]
    public void Validate_EmptyClusterId_NamesTheFlag()
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo: true, ValidSilo.With("ClusterId", " "));

        // Assert
        Assert.Equal("--cluster_id must not be empty", error);
    }

    [Fact]
    public void ValidateServe_BadDevices_NamesTheEntry()
    {
        // Act: grid serve and grid silo share the device flags
        var error = GridAssembly.ValidateServe(new Flags().With("Devices", "cpu,tpu"));

        // Assert
        Assert.Equal("--devices 'cpu,tpu': 'tpu' is not a device; expected 'cpu' or 'gpu:N' (e.g. --devices cpu,gpu:0,gpu:1)", error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void ValidateServe_NonPositiveGpuMemory_NamesTheFlag(int mib)
    {
        // Act
        var error = GridAssembly.ValidateServe(new Flags().With("GpuMemoryMib", (int?)mib));

        // Assert
        Assert.Equal($"--gpu_memory_mib must be a positive number of MiB, got {mib}", error);
    }

    [Fact]
    public void ValidateServe_LibtorchPathNotADirectory_NamesTheFlag()
    {
        // Act
        var error = GridAssembly.ValidateServe(new Flags().With("LibTorchPath", "/no/such/torch/lib"));

        // Assert
        Assert.Equal("--libtorch_path '/no/such/torch/lib' is not a directory", error);
    }

    [Fact]
    public void Validate_GoodDevices_ReturnsNull()
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo: true, ValidSilo.With("Devices", "cpu,gpu:0"));

        // Assert
        Assert.Null(error);
    }

    [Fact]
    public void Validate_GatewayPortEqualsSiloPort_NamesBothFlags()
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo: true, ValidSilo.With("GatewayPort", 11111));

        // Assert
        Assert.Equal("--gateway_port must be between 1 and 65535 and differ from --silo_port, got 11111", error);
    }

    [Fact]
    public void Validate_SiloPortZero_NamesTheFlag()
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo: true, ValidSilo.With("SiloPort", 0));

        // Assert
        Assert.Equal("--silo_port must be between 1 and 65535, got 0", error);
    }

    [Theory]
    [InlineData("silo-1")]
    [InlineData("localhost")]
    [InlineData("")]
    public void Validate_BadAdvertisedAddress_NamesTheFlag(string address)
    {
        // Act
        var error = GridAssembly.ValidateCluster(isSilo: true, ValidSilo.With("AdvertisedAddress", address));

        // Assert
        Assert.Equal($"--advertised_address '{address}' is not an IP address", error);
    }

    [Fact]
    public void Validate_GatewayRole_SkipsTheSiloChecks()
    {
        // Arrange: every silo-only flag is bad
        var flags = ValidSilo.With("SiloPort", 0).With("GatewayPort", 0).With("AdvertisedAddress", "not-an-ip").With("Devices", "tpu");

        // Act
        var error = GridAssembly.ValidateCluster(isSilo: false, flags);

        // Assert
        Assert.Null(error);
    }

    private static Flags ValidSilo { get; } = new Flags()
        .With("Cluster", "redis://127.0.0.1:6379")
        .With("SiloPort", 11111)
        .With("GatewayPort", 30000)
        .With("AdvertisedAddress", "127.0.0.1");
}

/// <summary>ServeOptions property values by name, applied to a fresh instance.</summary>
internal sealed record Flags(IReadOnlyDictionary<string, object?> Values)
{
    public Flags() : this(new Dictionary<string, object?>())
    {
    }

    public Flags With(string property, object? value) => new(new Dictionary<string, object?>(Values) { [property] = value });
}

/// <summary>What a parsed <c>--cluster</c> sets, read off StackExchange.Redis's ConfigurationOptions.</summary>
internal sealed record ClusterConnection(IReadOnlyList<string> EndPoints, string? Password, int? DefaultDatabase, bool AbortOnConnectFail);

/// <summary>
/// The built grid.dll, loaded into the test process on first use (its dependencies resolve from
/// its own build folder; Grid.Abstractions is the one already loaded, so <see cref="SiloDevices"/>
/// comes back typed).
/// </summary>
internal static class GridAssembly
{
    private static readonly Lazy<Assembly> Grid = new(() => Assembly.LoadFrom(RepoPaths.GridDll));

    public static (string? Error, ClusterConnection? Options) ParseClusterAddress(string text)
    {
        object?[] args = [text, null];
        var error = (string?)Invoke(Type("Grid.Silo.Configuration.ClusterAddress"), "TryParse", args);
        if (args[1] is not { } options)
        {
            return (error, null);
        }
        var endPoints = ((IEnumerable<EndPoint>)Get(options, "EndPoints")!).Select(Format).ToList();
        return (error, new ClusterConnection(endPoints, (string?)Get(options, "Password"), (int?)Get(options, "DefaultDatabase"), (bool)Get(options, "AbortOnConnectFail")!));
    }

    public static string? ValidateCluster(bool isSilo, Flags flags)
    {
        var optionsType = Type("Grid.Silo.Configuration.ServeOptions");
        var options = Activator.CreateInstance(optionsType)!;
        foreach (var (name, value) in flags.Values)
        {
            optionsType.GetProperty(name)!.SetValue(options, value);
        }
        return (string?)Invoke(Type("Grid.Silo.Configuration.ClusterOptionsValidator"), "Validate", [options, isSilo]);
    }

    public static string? ValidateServe(Flags flags)
    {
        var optionsType = Type("Grid.Silo.Configuration.ServeOptions");
        var options = Activator.CreateInstance(optionsType)!;
        optionsType.GetProperty("ModelRepository")!.SetValue(options, RepoPaths.ExampleModels);
        foreach (var (name, value) in flags.Values)
        {
            optionsType.GetProperty(name)!.SetValue(options, value);
        }
        return (string?)Invoke(Type("Grid.Silo.Configuration.ServeOptionsValidator"), "Validate", [options]);
    }

    private static Type Type(string name) => Grid.Value.GetType(name, throwOnError: true)!;

    private static object? Get(object instance, string property) => instance.GetType().GetProperty(property)!.GetValue(instance);

    private static string Format(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString()!,
    };

    /// <summary>Calls a public static method, rethrowing what it throws rather than the reflection wrapper.</summary>
    private static object? Invoke(Type type, string method, object?[] args)
    {
        try
        {
            return type.GetMethod(method, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
