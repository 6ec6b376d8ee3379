using System.Diagnostics;
using Grid.Testing;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>Version discovery, hot swap, failed loads and removal, each on its own grid process.</summary>
public sealed class VersionLifecycleTests(ITestOutputHelper output) : IDisposable
{
    private const double PollSeconds = 1;
    private readonly TempDirectory _repo = new();

    public void Dispose() => _repo.Dispose();

    private static string HalfPlusTwo => Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123");

    private static string HalfPlusThree => Path.Combine(RepoPaths.TestModels, "half_plus_three", "1");

    private string ModelDir => _repo.Combine("m");

    private GridProcess Start() => GridProcess.Start(
        "--model_name", "m", "--model_base_path", ModelDir,
        "--file_system_poll_wait_seconds", PollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<long> PredictVersionAsync(PredictionService.PredictionServiceClient client)
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "m" } };
        request.Inputs["x"] = new TensorProto
        {
            Dtype = DataType.DtFloat,
            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 }, new TensorShapeProto.Types.Dim { Size = 1 } } },
            FloatVal = { 2f },
        };
        var response = await client.PredictAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.DefaultTimeout();
        var y = response.Outputs["y"].FloatVal[0];
        // Version 1 is half_plus_two (3.0 for x=2), version 2 half_plus_three (4.0).
        Assert.Equal(response.ModelSpec.Version == 1 ? 3f : 4f, y);
        return response.ModelSpec.Version ?? -1;
    }

    [Fact]
    public async Task HotSwap_NewVersionCopiedUnderLoad_NoFailedRequestsAndNewVersionWithinThreePolls()
    {
        TempDirectory.CopyDirectory(HalfPlusTwo, Path.Combine(ModelDir, "1"));
        await using var grid = Start();
        await grid.WaitForAvailableAsync("m");
        using var channel = GrpcChannel.ForAddress(grid.GrpcAddress);
        var client = new PredictionService.PredictionServiceClient(channel);

        var requests = 0;
        var failures = new List<string>();
        var firstV2 = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        var copied = TimeSpan.Zero;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var version = await PredictVersionAsync(client);
                    Interlocked.Increment(ref requests);
                    if (version == 2)
                    {
                        firstV2.TrySetResult(clock.Elapsed);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref requests);
                    lock (failures)
                    {
                        failures.Add(e.Message);
                    }
                }
            }
        })).ToList();

        clock.Start();
        TempDirectory.CopyDirectory(HalfPlusThree, Path.Combine(ModelDir, "2"));
        copied = clock.Elapsed;
        var seenAt = await firstV2.Task.WithTimeout(TimeSpan.FromSeconds(30));
        // Keep the load on across the unload of version 1.
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("m")).GetValueOrDefault(1) == "END", "version 1 END");
        var afterUnload = requests;
        await grid.WaitUntilAsync(() => Task.FromResult(requests > afterUnload + 100), "100 requests after the unload");
        stop.Cancel();
        await Task.WhenAll(clients).DefaultTimeout();

        var latency = seenAt - copied;
        output.WriteLine($"hot swap: {requests} requests, {failures.Count} failed, first version-2 response {latency.TotalMilliseconds:F0} ms after the copy (poll {PollSeconds} s)");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct()));
        Assert.True(latency < TimeSpan.FromSeconds(3 * PollSeconds), $"new version took {latency}");
        Assert.Equal(2, await PredictVersionAsync(client));
    }

    [Fact]
    public async Task BrokenVersion_AddedNextToServingOne_EndsWithErrorAndOldKeepsServing()
    {
        TempDirectory.CopyDirectory(HalfPlusTwo, Path.Combine(ModelDir, "1"));
        await using var grid = Start();
        await grid.WaitForAvailableAsync("m");

        Directory.CreateDirectory(Path.Combine(ModelDir, "2"));
        await File.WriteAllBytesAsync(Path.Combine(ModelDir, "2", "model.onnx"), "not an onnx model"u8.ToArray()).DefaultTimeout();
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync("m")).GetValueOrDefault(2) == "END", "version 2 END");

        using var response = await grid.Http.GetAsync("/v1/models/m/versions/2").DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.Contains("\"error_code\": \"INVALID_ARGUMENT\"", body);
        Assert.Contains("Failed to load ONNX model", body);
        Assert.Equal("AVAILABLE", (await grid.GetStatesAsync("m"))[1]);
        using var channel = GrpcChannel.ForAddress(grid.GrpcAddress);
        Assert.Equal(1, await PredictVersionAsync(new PredictionService.PredictionServiceClient(channel)));
    }

    [Fact]
    public async Task VersionDirectoryRemoved_LatestDeleted_UnloadsItAndServesPrevious()
    {
        TempDirectory.CopyDirectory(HalfPlusTwo, Path.Combine(ModelDir, "1"));
        TempDirectory.CopyDirectory(HalfPlusThree, Path.Combine(ModelDir, "2"));
        await using var grid = Start();
        await grid.WaitForAvailableAsync("m");
        Assert.Equal("AVAILABLE", (await grid.GetStatesAsync("m"))[2]);

        Directory.Delete(Path.Combine(ModelDir, "2"), recursive: true);
        await grid.WaitUntilAsync(async () =>
        {
            var states = await grid.GetStatesAsync("m");
            return states.GetValueOrDefault(2) == "END" && states.GetValueOrDefault(1) == "AVAILABLE";
        }, "version 2 END and version 1 AVAILABLE");

        using var channel = GrpcChannel.ForAddress(grid.GrpcAddress);
        Assert.Equal(1, await PredictVersionAsync(new PredictionService.PredictionServiceClient(channel)));
    }

    [Fact]
    public async Task NonNumericDirectory_IsIgnoredWithALogLine()
    {
        TempDirectory.CopyDirectory(HalfPlusTwo, Path.Combine(ModelDir, "1"));
        TempDirectory.CopyDirectory(HalfPlusThree, Path.Combine(ModelDir, "2.tmp"));
        await using var grid = Start();
        await grid.WaitForAvailableAsync("m");

        Assert.Equal([1L], (await grid.GetStatesAsync("m")).Keys);
        Assert.Contains("ignoring '2.tmp'", grid.Output);
    }

    [Fact]
    public async Task LeadingZeroVersion_IsParsedAsDecimal()
    {
        TempDirectory.CopyDirectory(HalfPlusTwo, Path.Combine(ModelDir, "00000123"));
        await using var grid = Start();
        await grid.WaitForAvailableAsync("m");

        Assert.Equal([123L], (await grid.GetStatesAsync("m")).Keys);
    }
}
