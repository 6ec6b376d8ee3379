using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.Bench.Load;

/// <summary>
/// Sends one pre-built batch-1 Predict request and checks the answer has the expected output.
/// Throws on any failure (transport, status, missing output). Thread-safe; <c>worker</c> picks
/// the connection so concurrent workers spread over the client's channels.
/// </summary>
public interface IPredictClient
{
    Task PredictAsync(int worker, CancellationToken cancellationToken);
}

/// <summary>One request's input: a float tensor of shape [1, ..dims], filled once from a fixed seed.</summary>
public sealed class RequestPayload
{
    public RequestPayload(string model, string input, string output, IReadOnlyList<long> dims, int seed = 42)
    {
        Model = model;
        Input = input;
        Output = output;
        Shape = [1, .. dims];
        var count = dims.Aggregate(1L, (a, d) => a * d);
        var random = new Random(seed);
        Values = new float[count];
        for (var i = 0; i < Values.Length; i++)
        {
            Values[i] = random.NextSingle();
        }
    }

    public string Model { get; }
    public string Input { get; }
    public string Output { get; }
    public long[] Shape { get; }
    public float[] Values { get; }

    /// <summary>The gRPC request: tensor_content, as a performance-minded TF Serving client sends it.</summary>
    public PredictRequest ToGrpc()
    {
        var shape = new TensorShapeProto();
        foreach (var d in Shape)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        }
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = Model } };
        request.Inputs[Input] = new TensorProto
        {
            Dtype = DataType.DtFloat,
            TensorShape = shape,
            TensorContent = ByteString.CopyFrom(MemoryMarshal.AsBytes(Values.AsSpan())),
        };
        return request;
    }

    /// <summary>The REST body in TF Serving's row format: <c>{"instances": [instance]}</c>, nested by the shape.</summary>
    public byte[] ToRestJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WritePropertyName("instances");
            json.WriteStartArray();
            var offset = 0;
            WriteNested(json, Shape.AsSpan(1), ref offset);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    private void WriteNested(Utf8JsonWriter json, ReadOnlySpan<long> dims, ref int offset)
    {
        if (dims.IsEmpty)
        {
            json.WriteNumberValue(Values[offset++]);
            return;
        }
        json.WriteStartArray();
        for (var i = 0; i < dims[0]; i++)
        {
            WriteNested(json, dims[1..], ref offset);
        }
        json.WriteEndArray();
    }
}

/// <summary>
/// gRPC with Grpc.Net.Client over several channels (one HTTP/2 connection each), so concurrent
/// clients do not serialise on one connection. The same set-up for every configuration.
/// </summary>
public sealed class GrpcPredictClient : IPredictClient, IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly PredictionService.PredictionServiceClient[] _clients;
    private readonly PredictRequest _request;
    private readonly string _output;

    public GrpcPredictClient(GrpcChannel[] channels, RequestPayload payload)
    {
        _channels = channels;
        _clients = channels.Select(c => new PredictionService.PredictionServiceClient(c)).ToArray();
        _request = payload.ToGrpc();
        _output = payload.Output;
    }

    /// <summary>Channels to one address; each is its own HTTP/2 connection.</summary>
    public static GrpcChannel[] CreateChannels(string address, int count) =>
        Enumerable.Range(0, count).Select(_ => GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            MaxSendMessageSize = 64 * 1024 * 1024,
        })).ToArray();

    public async Task PredictAsync(int worker, CancellationToken cancellationToken)
    {
        var response = await _clients[worker % _clients.Length].PredictAsync(_request, cancellationToken: cancellationToken);
        if (!response.Outputs.ContainsKey(_output))
        {
            throw new InvalidDataException($"The response has no output '{_output}'");
        }
    }

    public void Dispose()
    {
        foreach (var c in _channels)
        {
            c.Dispose();
        }
    }
}

/// <summary>REST: HTTP/1.1 keep-alive connections (one per concurrent request) with a pre-serialised body.</summary>
public sealed class RestPredictClient : IPredictClient
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly byte[] Predictions = "\"predictions\""u8.ToArray();
    private readonly HttpClient _http;
    private readonly string _path;
    private readonly byte[] _body;

    public RestPredictClient(HttpClient http, RequestPayload payload)
    {
        _http = http;
        _path = $"/v1/models/{payload.Model}:predict";
        _body = payload.ToRestJson();
    }

    public static HttpClient CreateHttpClient(string address) => new(new SocketsHttpHandler
    {
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        MaxConnectionsPerServer = int.MaxValue,
    })
    {
        BaseAddress = new Uri(address),
        Timeout = Timeout.InfiniteTimeSpan,   // the load generator cancels; no per-request cap
    };

    public async Task PredictAsync(int worker, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(_body);
        content.Headers.ContentType = Json;
        using var response = await _http.PostAsync(_path, content, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)));
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {text}");
        }
        if (bytes.AsSpan().IndexOf(Predictions) < 0)
        {
            throw new InvalidDataException("The response has no \"predictions\"");
        }
    }
}
