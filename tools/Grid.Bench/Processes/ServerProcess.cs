namespace Grid.Bench.Processes;

/// <summary>
/// A server under test in one process (<c>dotnet grid.dll serve</c> or
/// <c>dotnet grid-bench.dll server</c>) on free 127.0.0.1 ports. Disposing kills it with its
/// children; so does this process exiting (Ctrl+C included), through <see cref="LiveProcesses"/>.
/// </summary>
public sealed class ServerProcess : IBenchServer
{
    private readonly ChildProcess _process;

    private ServerProcess(ChildProcess process, int grpcPort, int restPort)
    {
        _process = process;
        GrpcPort = grpcPort;
        RestPort = restPort;
    }

    public string Name => _process.Name;
    public int GrpcPort { get; }
    public int RestPort { get; }
    public string GrpcAddress => $"http://127.0.0.1:{GrpcPort}";
    public string RestAddress => $"http://127.0.0.1:{RestPort}";
    public bool HasExited => _process.HasExited;
    public string Tail => _process.Tail;

    /// <summary>
    /// Starts <c>dotnet DLL ARGS...</c>; <paramref name="arguments"/> gets the two ports chosen here.
    /// </summary>
    public static ServerProcess Start(string name, string dll, Func<int, int, IEnumerable<string>> arguments, string workingDirectory)
    {
        var ports = Ports.Free(2);
        var process = ChildProcess.Start(name, "dotnet", [dll, .. arguments(ports[0], ports[1])], workingDirectory);
        return new ServerProcess(process, ports[0], ports[1]);
    }

    public Task WaitUntilAvailableAsync(IEnumerable<string> models, TimeSpan timeout, CancellationToken cancellationToken) =>
        AvailabilityProbe.WaitAsync(this, [_process], models, timeout, cancellationToken);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
