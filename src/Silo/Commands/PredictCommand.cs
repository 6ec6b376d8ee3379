using System.CommandLine;
using System.Text.Json;
using Grid.Gateway.Protocols.TensorFlowServing;
using Grid.Gateway.Protocols.TensorFlowServing.Rest;
using Grid.Tensors;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow.Serving;

namespace Grid.Silo.Commands;

/// <summary>
/// <c>grid predict</c>: a TF Serving gRPC client. Reads a TF Serving REST-style JSON body
/// (<c>instances</c> or <c>inputs</c>), types it with the server's signature from
/// GetModelMetadata, sends one Predict and prints the outputs as JSON.
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "Server gRPC address, HOST:PORT.", Required = true };
        var model = new Option<string>("--model") { Description = "Model name.", Required = true };
        var version = new Option<long?>("--version") { Description = "Model version; default: the latest available." };
        var signature = new Option<string?>("--signature_name") { Description = "Signature key; default serving_default (or the body's signature_name)." };
        var json = new Option<FileInfo>("--json") { Description = "JSON file with {\"instances\": …} or {\"inputs\": …}, as for TF Serving's REST predict.", Required = true };
        var timeout = new Option<double>("--timeout_seconds") { Description = "Deadline for each call.", DefaultValueFactory = _ => 30 };

        var command = new Command("predict", "Send one Predict over gRPC to a TF Serving-compatible server and print the outputs.")
        {
            target, model, version, signature, json, timeout,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var file = result.GetValue(json)!;
            if (!file.Exists)
            {
                return Program.Fail($"--json '{file.FullName}' does not exist");
            }
            try
            {
                var output = await RunAsync(
                    result.GetValue(target)!, result.GetValue(model)!, result.GetValue(version), result.GetValue(signature),
                    await File.ReadAllBytesAsync(file.FullName, cancellationToken), TimeSpan.FromSeconds(result.GetValue(timeout)), cancellationToken);
                Console.WriteLine(output);
                return 0;
            }
            catch (RpcException e)
            {
                return Program.Fail($"{e.StatusCode}: {e.Status.Detail}");
            }
            catch (Grid.Serving.ServingException e)
            {
                return Program.Fail(e.Message);
            }
        });
        return command;
    }

    public static async Task<string> RunAsync(
        string target, string model, long? version, string? signatureName, byte[] body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(target.Contains("://") ? target : "http://" + target, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = int.MaxValue,
            MaxSendMessageSize = int.MaxValue,
        });
        var client = new PredictionService.PredictionServiceClient(channel);
        using var parsed = TfServingJsonCodec.ParseBody(body);
        var key = signatureName ?? parsed.SignatureName ?? Models.ModelSignature.DefaultKey;
        var spec = new ModelSpec { Name = model, SignatureName = key };
        if (version is { } v)
        {
            spec.Version = v;
        }
        var metadata = await client.GetModelMetadataAsync(
            new GetModelMetadataRequest { ModelSpec = spec, MetadataField = { TfServingMessages.SignatureDefField } },
            deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        var map = metadata.Metadata[TfServingMessages.SignatureDefField].Unpack<SignatureDefMap>();
        if (!map.SignatureDef.TryGetValue(key, out var def))
        {
            throw Grid.Serving.ServingException.InvalidArgument($"Serving signature name: \"{key}\" not found in signature def");
        }
        var inputs = TfServingJsonCodec.DecodeInputs(parsed, SignatureDefReader.ToSignature(key, def));
        var request = new PredictRequest { ModelSpec = spec };
        foreach (var input in inputs)
        {
            request.Inputs[input.Name] = TensorProtoCodec.Encode(input.Tensor);
        }
        var response = await client.PredictAsync(request, deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        var outputs = response.Outputs
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new NamedTensor(kv.Key, TensorProtoCodec.Decode(kv.Key, kv.Value)))
            .ToList();
        using var stream = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            TfServingJsonCodec.WriteResponse(writer, parsed.IsRowFormat, outputs);
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
