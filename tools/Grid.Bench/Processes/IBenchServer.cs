namespace Grid.Bench.Processes;

/// <summary>A server the benchmark could not start; the configuration is reported as failed.</summary>
public sealed class ServerStartException(string message) : Exception(message);

/// <summary>
/// A server configuration under load, whatever processes it takes: the 127.0.0.1 ports the load
/// goes to (TF Serving's gRPC and REST APIs), a wait until its models are AVAILABLE, and
/// whether any of its processes died. Disposing stops every process it started.
/// </summary>
public interface IBenchServer : IAsyncDisposable
{
    string Name { get; }
    int GrpcPort { get; }
    int RestPort { get; }
    string GrpcAddress { get; }
    string RestAddress { get; }

    /// <summary>True once any of its processes has exited.</summary>
    bool HasExited { get; }

    /// <summary>The last lines its processes wrote, for error reports.</summary>
    string Tail { get; }

    /// <summary>
    /// Returns when every model has an AVAILABLE version on the REST port; throws
    /// <see cref="ServerStartException"/> if a process exits or time runs out first.
    /// </summary>
    Task WaitUntilAvailableAsync(IEnumerable<string> models, TimeSpan timeout, CancellationToken cancellationToken);
}
