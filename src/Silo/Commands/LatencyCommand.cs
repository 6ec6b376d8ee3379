using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Grid.Gateway.Protocols.TensorFlowServing;
using Grid.Tensors;
using Grpc.Net.Client;
using Tensorflow.Serving;

namespace Grid.Silo.Commands;

/// <summary>
/// <c>grid latency</c>: one client, one request at a time, against a running server over
/// REST and gRPC; prints p50/p90/p99. It measures the per-request cost of the serving path,
/// not throughput (that is the benchmark's job).
/// </summary>
public static class LatencyCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Server address.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "gRPC port.", DefaultValueFactory = _ => 8500 };
        var restPort = new Option<int>("--rest_api_port") { Description = "REST port.", DefaultValueFactory = _ => 8501 };
        var model = new Option<string>("--model") { Description = "Model name (a [-1,1] float input named x).", DefaultValueFactory = _ => "half_plus_two" };
        var version = new Option<long?>("--version") { Description = "Model version; default: none, so the model's experiment or default version serves." };
        var requests = new Option<int>("--requests") { Description = "Measured requests per protocol.", DefaultValueFactory = _ => 2000 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured requests first.", DefaultValueFactory = _ => 200 };
        var command = new Command("latency", "Measure sequential Predict latency over REST and gRPC against a running server.")
        {
            host, port, restPort, model, version, requests, warmup,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var h = result.GetValue(host)!;
            var m = result.GetValue(model)!;
            var v = result.GetValue(version);
            var n = result.GetValue(requests);
            var w = result.GetValue(warmup);
            using var http = new HttpClient { BaseAddress = new Uri($"http://{h}:{result.GetValue(restPort)}") };
            var body = Encoding.UTF8.GetBytes("""{"instances": [1.0]}""");
            var rest = await MeasureAsync(n, w, async () =>
            {
                using var content = new ByteArrayContent(body);
                using var response = await http.PostAsync(v is { } pinned ? $"/v1/models/{m}/versions/{pinned}:predict" : $"/v1/models/{m}:predict", content, cancellationToken);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync(cancellationToken);
            });
            using var channel = GrpcChannel.ForAddress($"http://{h}:{result.GetValue(port)}");
            var client = new PredictionService.PredictionServiceClient(channel);
            var request = new PredictRequest { ModelSpec = new ModelSpec { Name = m } };
            if (v is { } grpcVersion)
            {
                request.ModelSpec.Version = grpcVersion;
            }
            request.Inputs["x"] = TensorProtoCodec.Encode(TensorData.FromFloats([1, 1], [1f]));
            var grpc = await MeasureAsync(n, w, async () => await client.PredictAsync(request, cancellationToken: cancellationToken));
            Console.WriteLine($"model {m}{(v is { } shown ? $" version {shown}" : "")}, {n} sequential requests per protocol after {w} warm-up requests");
            Console.WriteLine("| protocol | p50 (ms) | p90 (ms) | p99 (ms) |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine(Row("REST", rest));
            Console.WriteLine(Row("gRPC", grpc));
            return 0;
        });
        return command;
    }

    private static async Task<double[]> MeasureAsync(int count, int warmup, Func<Task> call)
    {
        for (var i = 0; i < warmup; i++)
        {
            await call();
        }
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(samples);
        return samples;
    }

    private static string Row(string name, double[] sorted)
    {
        string P(double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))].ToString("0.000", CultureInfo.InvariantCulture);
        return $"| {name} | {P(0.50)} | {P(0.90)} | {P(0.99)} |";
    }
}
