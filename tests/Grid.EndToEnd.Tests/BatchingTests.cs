using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grid.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// One grid process with <c>--enable_batching</c>, server-wide parameters from a file, and
/// per-model overrides in <c>batching_params.pbtxt</c>. The batch_probe copies answer with the
/// batch size their engine call saw, which makes merging and padding visible from outside.
/// </summary>
public sealed class BatchingGridFixture : IAsyncLifetime
{
    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public PredictionService.PredictionServiceClient Predictions => new(Channel);

    private void Probe(string name, string parameters)
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.TestModels, "batch_probe"), _repo.Combine(name));
        File.WriteAllText(_repo.Combine(name, "1", "batching_params.pbtxt"), parameters);
    }

    public async Task InitializeAsync()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "fashion", "2"), _repo.Combine("fashion", "2"));
        Probe("probe", "max_batch_size { value: 8 } batch_timeout_micros { value: 20000 } max_enqueued_batches { value: 100 } allowed_batch_sizes: [4, 8]");
        Probe("probe_queue", "max_batch_size { value: 4 } batch_timeout_micros { value: 60000000 } max_enqueued_batches { value: 1 }");
        Probe("probe_split", "max_batch_size { value: 16 } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 4 }");
        Probe("probe_pad", "max_batch_size { value: 2 } batch_timeout_micros { value: 60000000 } pad_variable_length_inputs: true");
        Probe("bad_params", "max_batch_size { value: 16 } allowed_batch_sizes: [4, 8]");
        var global = _repo.Combine("batching.txt");
        File.WriteAllText(global, """
            # server-wide parameters: fashion uses these
            max_batch_size { value: 64 }
            batch_timeout_micros { value: 2000 }
            max_enqueued_batches { value: 1000 }
            num_batch_threads { value: 2 }
            allowed_batch_sizes: [8, 16, 32, 64]
            """);
        var repository = _repo.CreateDirectory("models");
        foreach (var model in new[] { "fashion", "probe", "probe_queue", "probe_split", "probe_pad", "bad_params" })
        {
            Directory.Move(_repo.Combine(model), Path.Combine(repository, model));
        }
        Grid = GridProcess.Start(
            "--model_repository", repository, "--enable_batching", "--batching_parameters_file", global, "--enable_per_model_batching_parameters");
        await Grid.WaitForAvailableAsync("fashion", "probe", "probe_queue", "probe_split", "probe_pad");
        Channel = GrpcChannel.ForAddress(Grid.GrpcAddress);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (Grid is not null)
        {
            await Grid.DisposeAsync();
        }
        _repo.Dispose();
    }
}

[Collection(SharedGridCollection.Name)]
public sealed class BatchingTests(SharedGridFixture unbatched, BatchingGridFixture batched) : IClassFixture<BatchingGridFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static PredictRequest ProbeRequest(string model, int rows, int width, float start)
    {
        var values = Enumerable.Range(0, rows * width).Select(i => start + i).ToArray();
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = model } };
        request.Inputs["x"] = new TensorProto
        {
            Dtype = DataType.DtFloat,
            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = rows }, new TensorShapeProto.Types.Dim { Size = width } } },
            FloatVal = { values },
        };
        return request;
    }

    private static float[] Expected(PredictRequest request) => request.Inputs["x"].FloatVal.Select(v => 2 * v + 1).ToArray();

    private static long[] Shape(TensorProto t) => t.TensorShape.Dim.Select(d => d.Size).ToArray();

    private static float[] Floats(TensorProto t) => t.TensorContent.IsEmpty
        ? [.. t.FloatVal]
        : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.TensorContent.Span).ToArray();

    private static long[] Int64s(TensorProto t) => t.TensorContent.IsEmpty
        ? [.. t.Int64Val]
        : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.TensorContent.Span).ToArray();

    private Task<PredictResponse> PredictAsync(PredictRequest request, TimeSpan? deadline = null)
        => batched.Predictions.PredictAsync(request, deadline: DateTime.UtcNow.Add(deadline ?? Deadline)).ResponseAsync.DefaultTimeout();

    private Task<HttpResponseMessage> PostRowsAsync(string model, float[][] rows, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.Serialize(new { instances = rows });
        return batched.Grid.Http.PostAsync($"/v1/models/{model}:predict", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
    }

    [Fact]
    public async Task Predict_ConcurrentFashionRequestsOfMixedSizes_EqualUnbatchedResults()
    {
        var (images, _) = FashionMnist.LoadTest(240);
        var requests = new List<PredictRequest>();
        for (int at = 0, size = 1; at + size <= images.Length; at += size, size = size % 7 + 1)
        {
            var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "fashion", Version = 2 } };
            request.Inputs["images"] = new TensorProto
            {
                Dtype = DataType.DtFloat,
                TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = size }, new TensorShapeProto.Types.Dim { Size = 784 } } },
                FloatVal = { images.Skip(at).Take(size).SelectMany(i => i) },
            };
            requests.Add(request);
        }

        var batchedResults = await Task.WhenAll(requests.Select(r => PredictAsync(r))).DefaultTimeout();
        var unbatchedResults = new List<PredictResponse>();
        foreach (var r in requests)
        {
            unbatchedResults.Add(await unbatched.Predictions.PredictAsync(r, deadline: DateTime.UtcNow.Add(Deadline)).ResponseAsync.DefaultTimeout());
        }

        for (var i = 0; i < requests.Count; i++)
        {
            var got = batchedResults[i].Outputs["scores"];
            var want = unbatchedResults[i].Outputs["scores"];
            Assert.Equal(Shape(want), Shape(got));
            var g = Floats(got);
            var w = Floats(want);
            for (var j = 0; j < w.Length; j++)
            {
                Assert.True(Math.Abs(g[j] - w[j]) <= 1e-6, $"request {i} element {j}: batched {g[j]} vs unbatched {w[j]}");
            }
        }
    }

    [Fact]
    public async Task Predict_ConcurrentProbeRequests_AreMergedAndPaddedWithoutLeakingPadding()
    {
        var requests = Enumerable.Range(0, 48).Select(i => ProbeRequest("probe", rows: i % 3 + 1, width: 2, start: i * 10)).ToArray();

        var responses = await Task.WhenAll(requests.Select(r => PredictAsync(r))).DefaultTimeout();

        var merged = 0;
        for (var i = 0; i < requests.Length; i++)
        {
            var rows = i % 3 + 1;
            var y = responses[i].Outputs["y"];
            Assert.Equal([rows, 2L], Shape(y));
            Assert.Equal(Expected(requests[i]), Floats(y));
            var batch = Int64s(responses[i].Outputs["batch"]);
            Assert.Equal(rows, batch.Length);
            Assert.Contains(batch[0], new long[] { 4, 8 });
            merged += batch[0] >= rows + 1 ? 1 : 0;
        }
        Assert.True(merged > 0, "no request shared its engine call with another");
    }

    [Fact]
    public async Task Predict_RestRowsThroughBatching_ReturnOnlyTheirOwnRows()
    {
        var tasks = Enumerable.Range(0, 12).Select(i => PostRowsAsync("probe", [[i, i + 0.5f]])).ToArray();

        var responses = await Task.WhenAll(tasks).DefaultTimeout();

        for (var i = 0; i < responses.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, responses[i].StatusCode);
            using var doc = JsonDocument.Parse(await responses[i].Content.ReadAsStringAsync().DefaultTimeout());
            var prediction = Assert.Single(doc.RootElement.GetProperty("predictions").EnumerateArray());
            Assert.Equal([2f * i + 1, 2f * i + 2], prediction.GetProperty("y").EnumerateArray().Select(v => v.GetSingle()));
        }
    }

    [Fact]
    public async Task Predict_QueueFull_AnswersUnavailableAtOnceOverRestAndGrpc()
    {
        // probe_queue holds one batch of up to 4 rows for 60 s. A 1-row request opens it; a
        // 4-row request then needs a second batch, which the queue bound refuses.
        // The 1-row request is (re)sent until it is the one holding the queue: it can itself be
        // refused while a batch left by an earlier test is still being taken.
        Task<PredictResponse>? waiting = null;
        HttpResponseMessage? full = null;
        await batched.Grid.WaitUntilAsync(async () =>
        {
            if (waiting is null || waiting.IsCompleted)
            {
                waiting = PredictAsync(ProbeRequest("probe_queue", rows: 1, width: 1, start: 1));
            }
            full = await PostRowsAsync("probe_queue", [[1f], [2f], [3f], [4f]]);
            return full.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "the 1-row request to wait in the queue");
        var error = await full!.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.Contains("batch scheduling queue", error);
        Assert.Contains("max_enqueued_batches", error);

        var rpc = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(ProbeRequest("probe_queue", rows: 4, width: 1, start: 0)));
        Assert.Equal(StatusCode.Unavailable, rpc.StatusCode);

        // Three rows complete the waiting batch; both then run together.
        var filler = await PredictAsync(ProbeRequest("probe_queue", rows: 3, width: 1, start: 10));
        var first = await waiting!;
        Assert.Equal([4L], Int64s(first.Outputs["batch"]));
        Assert.Equal([3f], Floats(first.Outputs["y"]));
        Assert.Equal([21f, 23f, 25f], Floats(filler.Outputs["y"]));
    }

    [Fact]
    public async Task Predict_GrpcDeadlineWhileQueued_FailsAndLeavesTheQueue()
    {
        var rpc = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(ProbeRequest("probe_queue", rows: 1, width: 1, start: 1), TimeSpan.FromMilliseconds(500)));
        Assert.Equal(StatusCode.DeadlineExceeded, rpc.StatusCode);

        await AssertQueueEmptiesAsync();
    }

    [Fact]
    public async Task Predict_RestClientCancelsWhileQueued_LeavesTheQueue()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PostRowsAsync("probe_queue", [[1f]], cts.Token)).DefaultTimeout();

        await AssertQueueEmptiesAsync();
    }

    /// <summary>
    /// A full 4-row request succeeds at once only when the queue holds no batch: had the
    /// abandoned request stayed, the 4 rows would need a second batch and get UNAVAILABLE.
    /// </summary>
    private async Task AssertQueueEmptiesAsync()
    {
        PredictResponse? response = null;
        await batched.Grid.WaitUntilAsync(async () =>
        {
            try
            {
                response = await PredictAsync(ProbeRequest("probe_queue", rows: 4, width: 1, start: 0));
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, "the abandoned request to leave the queue", TimeSpan.FromSeconds(10));
        Assert.Equal([4L, 4, 4, 4], Int64s(response!.Outputs["batch"]));
    }

    [Fact]
    public async Task Predict_LargerThanExecutionBatch_IsSplitAndJoinedExactly()
    {
        var request = ProbeRequest("probe_split", rows: 10, width: 3, start: -5);

        var response = await PredictAsync(request);

        Assert.Equal([10L, 3], Shape(response.Outputs["y"]));
        Assert.Equal(Expected(request), Floats(response.Outputs["y"]));
        Assert.All(Int64s(response.Outputs["batch"]), b => Assert.InRange(b, 1, 4));
    }

    [Fact]
    public async Task Predict_LargerThanMaxBatchSize_IsInvalidArgument()
    {
        var rpc = await Assert.ThrowsAsync<RpcException>(() => PredictAsync(ProbeRequest("probe_split", rows: 17, width: 1, start: 0)));

        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Equal("Task size 17 is larger than maximum input batch size 16", rpc.Status.Detail);
    }

    [Fact]
    public async Task Predict_PadVariableLengthInputs_MergesDifferentLengths()
    {
        var shortRow = ProbeRequest("probe_pad", rows: 1, width: 2, start: 5);
        var longRow = ProbeRequest("probe_pad", rows: 1, width: 3, start: 1);

        var responses = await Task.WhenAll(PredictAsync(shortRow), PredictAsync(longRow)).DefaultTimeout();

        // TF Serving's rule: padded with the tensor's first element, and the output keeps the padded shape.
        Assert.Equal([1L, 3], Shape(responses[0].Outputs["y"]));
        Assert.Equal([11f, 13f, 11f], Floats(responses[0].Outputs["y"]));
        Assert.Equal([3f, 5f, 7f], Floats(responses[1].Outputs["y"]));
        Assert.Equal([2L], Int64s(responses[0].Outputs["batch"]));
    }

    [Fact]
    public async Task Load_InvalidPerModelParameters_EndsWithErrorNamingTheField()
    {
        await batched.Grid.WaitUntilAsync(async () => (await batched.Grid.GetStatesAsync("bad_params")).ContainsValue("END"), "bad_params to fail its load");

        var status = await batched.Grid.Http.GetStringAsync("/v1/models/bad_params").DefaultTimeout();

        Assert.Contains("batching_params.pbtxt", status);
        Assert.Contains("Last entry in allowed_batch_sizes must match max_batch_size; last entry was 8; expected 16", status);
    }

    [Fact]
    public async Task Predict_WithoutEnableBatching_EveryRequestRunsAlone()
    {
        var requests = Enumerable.Range(0, 32).Select(i => ProbeRequest("batch_probe", rows: i % 3 + 1, width: 2, start: i)).ToArray();

        var responses = await Task.WhenAll(requests.Select(r => unbatched.Predictions.PredictAsync(r, deadline: DateTime.UtcNow.Add(Deadline)).ResponseAsync)).DefaultTimeout();

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.All(Int64s(responses[i].Outputs["batch"]), b => Assert.Equal(i % 3 + 1, b));
            Assert.Equal(Expected(requests[i]), Floats(responses[i].Outputs["y"]));
        }
    }
}
