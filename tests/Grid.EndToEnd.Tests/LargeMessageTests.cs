using Grid.Testing;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>With default flags the server accepts messages well above gRPC's 4 MiB client default.</summary>
public sealed class LargeMessageTests
{
    [Fact]
    public async Task Predict_FiveMegabyteRequestWithDefaultLimits_Succeeds()
    {
        await using var grid = GridProcess.Start("--model_name", "fashion", "--model_base_path", Path.Combine(RepoPaths.ExampleModels, "fashion"));
        await grid.WaitForAvailableAsync("fashion");
        using var channel = GrpcChannel.ForAddress(grid.GrpcAddress, new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
        const int batch = 1700;   // 1700 × 784 floats ≈ 5.3 MB
        var images = new TensorProto
        {
            Dtype = DataType.DtFloat,
            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = batch }, new TensorShapeProto.Types.Dim { Size = 784 } } },
            TensorContent = Google.Protobuf.ByteString.CopyFrom(new byte[batch * 784 * 4]),
        };
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "fashion" } };
        request.Inputs["images"] = images;

        var response = await new PredictionService.PredictionServiceClient(channel)
            .PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync.DefaultTimeout();

        Assert.True(request.CalculateSize() > 5_000_000);
        Assert.Equal([batch, 10L], response.Outputs["scores"].TensorShape.Dim.Select(d => d.Size));
        Assert.Equal(batch * 10, response.Outputs["scores"].FloatVal.Count);
    }
}
