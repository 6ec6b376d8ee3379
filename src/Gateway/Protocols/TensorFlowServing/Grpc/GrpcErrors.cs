using Grid.Serving;
using Grpc.Core;

namespace Grid.Gateway.Protocols.TensorFlowServing.Grpc;

/// <summary>The one place where serving failures become gRPC statuses.</summary>
public static class GrpcErrors
{
    public static RpcException ToRpcException(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc,
        ServingException e => new RpcException(new Status((StatusCode)(int)e.Code, e.Message)),
        OperationCanceledException when context.Deadline <= DateTime.UtcNow => new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded")),
        OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "Request was cancelled")),
        TimeoutException => new RpcException(new Status(StatusCode.DeadlineExceeded, "Request timed out inside the grid")),
        _ => new RpcException(new Status(StatusCode.Internal, "Internal error: " + exception.Message)),
    };

    /// <summary>Runs a handler and maps whatever it throws.</summary>
    public static async Task<T> Guard<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        try
        {
            return await handler();
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw ToRpcException(e, context);
        }
    }
}
