using System.Text.Json;
using Grid.Serving;
using Microsoft.AspNetCore.Http;

namespace Grid.Gateway.Protocols.TensorFlowServing.Rest;

/// <summary>The one place where serving failures become TF Serving REST errors: <c>{"error": "…"}</c>.</summary>
public static class RestErrors
{
    /// <summary>TF Serving's canonical-code → HTTP table (http_server.cc).</summary>
    public static int HttpStatus(ServingStatusCode code) => code switch
    {
        ServingStatusCode.Ok => StatusCodes.Status200OK,
        ServingStatusCode.Cancelled => 499,
        ServingStatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        ServingStatusCode.FailedPrecondition => StatusCodes.Status400BadRequest,
        ServingStatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        ServingStatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        ServingStatusCode.NotFound => StatusCodes.Status404NotFound,
        ServingStatusCode.AlreadyExists => StatusCodes.Status409Conflict,
        ServingStatusCode.Aborted => StatusCodes.Status409Conflict,
        ServingStatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        ServingStatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        ServingStatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        ServingStatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
        ServingStatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static (int Status, string Message) Map(Exception exception, HttpContext context) => exception switch
    {
        ServingException e => (HttpStatus(e.Code), e.Message),
        BadHttpRequestException e => (e.StatusCode, e.Message),
        OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "Request was cancelled"),
        OperationCanceledException or TimeoutException => (StatusCodes.Status504GatewayTimeout, "Request timed out inside the grid"),
        _ => (StatusCodes.Status500InternalServerError, "Internal error: " + exception.Message),
    };

    public static async Task WriteAsync(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("error", message);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
