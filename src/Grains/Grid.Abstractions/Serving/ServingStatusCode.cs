namespace Grid.Serving;

/// <summary>
/// Canonical status codes, numerically identical to gRPC's and to TensorFlow's
/// <c>tensorflow.error.Code</c>. Each protocol maps them in exactly one place.
/// </summary>
[GenerateSerializer]
public enum ServingStatusCode
{
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

public static class ServingStatusCodeExtensions
{
    /// <summary>TensorFlow's enum name, e.g. <c>INVALID_ARGUMENT</c>, as TF Serving's REST status shows it.</summary>
    public static string TfName(this ServingStatusCode code) => code switch
    {
        ServingStatusCode.Ok => "OK",
        ServingStatusCode.Cancelled => "CANCELLED",
        ServingStatusCode.Unknown => "UNKNOWN",
        ServingStatusCode.InvalidArgument => "INVALID_ARGUMENT",
        ServingStatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        ServingStatusCode.NotFound => "NOT_FOUND",
        ServingStatusCode.AlreadyExists => "ALREADY_EXISTS",
        ServingStatusCode.PermissionDenied => "PERMISSION_DENIED",
        ServingStatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        ServingStatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        ServingStatusCode.Aborted => "ABORTED",
        ServingStatusCode.OutOfRange => "OUT_OF_RANGE",
        ServingStatusCode.Unimplemented => "UNIMPLEMENTED",
        ServingStatusCode.Internal => "INTERNAL",
        ServingStatusCode.Unavailable => "UNAVAILABLE",
        ServingStatusCode.DataLoss => "DATA_LOSS",
        ServingStatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    };
}
