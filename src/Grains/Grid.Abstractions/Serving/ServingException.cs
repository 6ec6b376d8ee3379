namespace Grid.Serving;

/// <summary>
/// The one error type for expected serving failures (unknown model, bad input, queue full…),
/// carrying a gRPC-style code. It crosses grain calls intact; protocol adapters map it to
/// HTTP and gRPC statuses. Any other exception is a bug and surfaces as INTERNAL.
/// </summary>
[GenerateSerializer, Alias("grid.ServingException")]
public sealed class ServingException : Exception
{
    public ServingException(ServingStatusCode code, string message) : base(message)
    {
        Code = code;
    }

    public ServingException(ServingStatusCode code, string message, ServingFailureKind kind) : base(message)
    {
        Code = code;
        Kind = kind;
    }

    [Id(0)] public ServingStatusCode Code { get; private set; }

    /// <summary>Distinguishes failures the gateway may retry on another target.</summary>
    [Id(1)] public ServingFailureKind Kind { get; private set; }

    public static ServingException InvalidArgument(string message) => new(ServingStatusCode.InvalidArgument, message);

    public static ServingException NotFound(string message) => new(ServingStatusCode.NotFound, message);

    public static ServingException FailedPrecondition(string message) => new(ServingStatusCode.FailedPrecondition, message);

    /// <summary>The addressed version replica holds no session (never loaded, or already unloaded).</summary>
    public static ServingException VersionNotLoaded(string model, long version) => new(
        ServingStatusCode.Unavailable,
        $"Servable {{name: {model} version: {version}}} is not loaded",
        ServingFailureKind.VersionNotLoaded);
}

[GenerateSerializer]
public enum ServingFailureKind
{
    None = 0,

    /// <summary>
    /// The version replica was not serving when the request arrived: a routing snapshot raced
    /// with a version swap. Predict is idempotent, so the gateway re-resolves and retries.
    /// </summary>
    VersionNotLoaded = 1,
}
