using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Bench.Servers;

/// <summary>
/// (b) The transport limit: answers every Predict with the same precomputed response, a
/// <c>scores</c> tensor of float zeros shaped [1,10], without looking at the inputs.
/// </summary>
public sealed class EmptyResponses
{
    public const int Classes = 10;

    public EmptyResponses()
    {
        var tensor = new TensorProto
        {
            Dtype = DataType.DtFloat,
            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 }, new TensorShapeProto.Types.Dim { Size = Classes } } },
            TensorContent = ByteString.CopyFrom(new byte[Classes * sizeof(float)]),
        };
        Grpc = new PredictResponse { Outputs = { ["scores"] = tensor } };
        Rest = Encoding.UTF8.GetBytes("{\"predictions\": [[" + string.Join(", ", Enumerable.Repeat("0.0", Classes)) + "]]}");
    }

    public PredictResponse Grpc { get; }

    public byte[] Rest { get; }
}

public sealed class EmptyPredictionService(EmptyResponses responses) : PredictionService.PredictionServiceBase
{
    public override Task<PredictResponse> Predict(PredictRequest request, ServerCallContext context) => Task.FromResult(responses.Grpc);
}

public static class EmptyRest
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/v1/models/{name}:predict", async (HttpContext context, EmptyResponses responses) =>
        {
            // Read the body as a real server must, then answer without parsing it.
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(responses.Rest, context.RequestAborted);
        });
    }
}
