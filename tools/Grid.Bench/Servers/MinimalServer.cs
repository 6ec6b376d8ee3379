using HttpResults = Microsoft.AspNetCore.Http.Results;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.ML.OnnxRuntime;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Bench.Servers;

/// <summary>
/// (c) What a .NET user would write instead of a model server: one <see cref="InferenceSession"/>
/// per model with default options, one ONNX Runtime run per request, no batching. Supports
/// models with one float input and float outputs, which is what the benchmark sends.
/// </summary>
public sealed class MinimalSessions : IDisposable
{
    private readonly Dictionary<string, MinimalModel> _models = [];

    public MinimalSessions(ServerModels models)
    {
        foreach (var (name, (version, file)) in models.Models)
        {
            var session = new InferenceSession(file);
            var input = session.InputMetadata.Single();
            _models[name] = new MinimalModel(name, version, session, input.Key, input.Value.Dimensions, session.OutputMetadata.Keys.ToArray());
        }
    }

    public MinimalModel? Find(string name) => _models.GetValueOrDefault(name);

    public void Dispose()
    {
        foreach (var m in _models.Values)
        {
            m.Session.Dispose();
        }
    }
}

public sealed record MinimalModel(string Name, long Version, InferenceSession Session, string Input, int[] InputDims, string[] Outputs)
{
    /// <summary>Runs one request: <paramref name="values"/> shaped <paramref name="shape"/> in, every output out.</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(float[] values, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(values, shape);
        using var options = new RunOptions();
        return Session.Run(options, [Input], [input], Outputs);
    }
}

public sealed class MinimalPredictionService(MinimalSessions sessions) : PredictionService.PredictionServiceBase
{
    public override Task<PredictResponse> Predict(PredictRequest request, ServerCallContext context)
    {
        var model = sessions.Find(request.ModelSpec?.Name ?? "")
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Model {request.ModelSpec?.Name} not found"));
        if (!request.Inputs.TryGetValue(model.Input, out var tensor) || tensor.Dtype != DataType.DtFloat)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Expected a float input '{model.Input}'"));
        }
        var shape = tensor.TensorShape.Dim.Select(d => d.Size).ToArray();
        var values = tensor.TensorContent.Length > 0
            ? MemoryMarshal.Cast<byte, float>(tensor.TensorContent.Span).ToArray()
            : tensor.FloatVal.ToArray();
        if (values.Length != shape.Aggregate(1L, (a, d) => a * d))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The input's values do not match its shape"));
        }
        using var results = model.Run(values, shape);
        var response = new PredictResponse { ModelSpec = new ModelSpec { Name = model.Name, Version = model.Version } };
        for (var i = 0; i < model.Outputs.Length; i++)
        {
            var output = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto() };
            foreach (var d in results[i].GetTensorTypeAndShape().Shape)
            {
                output.TensorShape.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
            }
            output.TensorContent = ByteString.CopyFrom(MemoryMarshal.AsBytes(results[i].GetTensorDataAsSpan<float>()));
            response.Outputs[model.Outputs[i]] = output;
        }
        return Task.FromResult(response);
    }
}

/// <summary>TF Serving's REST Predict in row format: <c>{"instances": [...]}</c> in, <c>{"predictions": [...]}</c> out.</summary>
public static class MinimalRest
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/v1/models/{name}:predict", async (string name, HttpContext context, MinimalSessions sessions) =>
        {
            if (sessions.Find(name) is not { } model)
            {
                return HttpResults.Json(new { error = $"Model {name} not found" }, statusCode: 404);
            }
            using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (!doc.RootElement.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
            {
                return HttpResults.Json(new { error = "Expected {\"instances\": [...]}" }, statusCode: 400);
            }
            var values = new List<float>();
            Flatten(instances, values);
            long[] shape = [instances.GetArrayLength(), .. model.InputDims.Skip(1).Select(d => (long)d)];
            if (values.Count != shape.Aggregate(1L, (a, d) => a * d))
            {
                return HttpResults.Json(new { error = "The instances do not match the model's input shape" }, statusCode: 400);
            }
            using var results = model.Run(values.ToArray(), shape);
            var scores = results[0].GetTensorDataAsSpan<float>().ToArray();
            var rows = (int)shape[0];
            var perRow = scores.Length / rows;
            var predictions = Enumerable.Range(0, rows).Select(r => scores.AsSpan(r * perRow, perRow).ToArray()).ToArray();
            return HttpResults.Json(new { predictions });
        });
    }

    private static void Flatten(JsonElement element, List<float> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values);
            }
        }
        else
        {
            values.Add(element.GetSingle());
        }
    }
}
