using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grid.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Tensorflow;
using Tensorflow.Serving;

namespace Grid.EndToEnd.Tests;

/// <summary>
/// A/B experiments against a real <c>grid serve</c>: model <c>ab</c> serves version 1
/// (y = 0.5x + 2) and version 2 (y = 0.5x + 3) side by side (<c>version_policy { all { } }</c>),
/// so every answer shows which version produced it. The admin API needs a bearer token.
/// </summary>
public sealed class ExperimentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = "test-admin-token";
    private readonly TempDirectory _repository = new();
    private readonly TempDirectory _state = new();
    private GridProcess _grid = null!;

    public async Task InitializeAsync()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123"), _repository.Combine("ab", "1"));
        TempDirectory.CopyDirectory(RepoPaths.TestModel("half_plus_three"), _repository.Combine("ab", "2"));
        File.WriteAllText(_repository.Combine("ab", "config.pbtxt"), "version_policy { all { } }\n");
        await StartAsync();
    }

    private async Task StartAsync()
    {
        _grid = GridProcess.Start("--model_repository", _repository.Path, "--state_dir", _state.Path, "--admin_token", Token);
        await _grid.WaitUntilAsync(async () => (await _grid.GetStatesAsync("ab")).Count(s => s.Value == "AVAILABLE") == 2, "ab versions 1 and 2 AVAILABLE");
    }

    public async Task DisposeAsync()
    {
        await _grid.DisposeAsync();
        _repository.Dispose();
        _state.Dispose();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, string? json = null, string? token = Token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await _grid.Http.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        return (response.StatusCode, doc.RootElement.Clone());
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> CreateAsync(string json) => AdminAsync(HttpMethod.Post, "/v1/grid/models/ab/experiments", json);

    /// <summary>One REST predict of x = 1: returns the arm header and which version answered (1 → 2.5, 2 → 3.5).</summary>
    private async Task<(string? Arm, int Version)> PredictAsync(string? subject = null, string path = "/v1/models/ab:predict")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{\"instances\": [1.0]}") };
        if (subject is not null)
        {
            request.Headers.Add("x-grid-subject", subject);
        }
        using var response = await _grid.Http.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = JsonDocument.Parse(body);
        var y = doc.RootElement.GetProperty("predictions")[0].GetDouble();
        var arm = response.Headers.TryGetValues("x-grid-arm", out var values) ? values.Single() : null;
        return (arm, y == 2.5 ? 1 : y == 3.5 ? 2 : throw new InvalidOperationException($"unexpected prediction {y}"));
    }

    [Fact]
    public async Task Predict_NinetyTenSplitOver10000Requests_PassesChiSquare()
    {
        var (status, _) = await CreateAsync("""{"id": "split", "arms": [{"name": "control", "version": 1, "weight": 90}, {"name": "treatment", "version": 2, "weight": 10}]}""");
        Assert.Equal(HttpStatusCode.Created, status);

        var counts = new int[3];
        var arms = new Dictionary<string, int>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            var (arm, version) = await PredictAsync();
            lock (counts)
            {
                counts[version]++;
                arms[arm!] = arms.GetValueOrDefault(arm!) + 1;
            }
        });

        // Every answer came from the version of the arm the header names.
        Assert.Equal(counts[1], arms.GetValueOrDefault("control"));
        Assert.Equal(counts[2], arms.GetValueOrDefault("treatment"));
        // Chi-square with 1 degree of freedom; 10.83 is the 0.001 critical value.
        double expected1 = 9000, expected2 = 1000;
        var chiSquare = Math.Pow(counts[1] - expected1, 2) / expected1 + Math.Pow(counts[2] - expected2, 2) / expected2;
        output.WriteLine($"90/10 over 10,000 requests: control {counts[1]}, treatment {counts[2]}, chi-square {chiSquare:F2} (p > 0.001 needs < 10.83)");
        Assert.True(chiSquare < 10.83, $"control {counts[1]}, treatment {counts[2]}: chi-square {chiSquare:F2}");

        var (_, experiment) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/split");
        var stats = experiment.GetProperty("stats");
        Assert.Equal(counts[1], stats.GetProperty("control").GetProperty("requests").GetInt64());
        Assert.Equal(counts[2], stats.GetProperty("treatment").GetProperty("requests").GetInt64());
        Assert.Equal(0, stats.GetProperty("control").GetProperty("errors").GetInt64());
        Assert.Equal(2.5, stats.GetProperty("control").GetProperty("output_mean").GetDouble());
        Assert.True(stats.GetProperty("control").GetProperty("latency_ms").GetProperty("p50").GetDouble() > 0);

        var metrics = await _grid.Http.GetStringAsync("/metrics");
        Assert.Contains("grid_experiment_requests_total{model=\"ab\",version=\"2\",experiment=\"split\",arm=\"treatment\"} " + counts[2], metrics);
    }

    [Fact]
    public async Task Predict_RepeatedSubjects_AlwaysGetTheirArm_AndExplicitVersionBypasses()
    {
        await CreateAsync("""{"id": "sticky", "sticky_key": "x-grid-subject", "arms": [{"name": "a", "version": 1, "weight": 50}, {"name": "b", "version": 2, "weight": 50}]}""");

        var first = new Dictionary<string, string>();
        for (var round = 0; round < 5; round++)
        {
            for (var s = 0; s < 100; s++)
            {
                var subject = $"user-{s}";
                var (arm, version) = await PredictAsync(subject);
                Assert.Equal(arm == "a" ? 1 : 2, version);
                if (!first.TryAdd(subject, arm!))
                {
                    Assert.Equal(first[subject], arm);
                }
            }
        }
        Assert.Contains("a", first.Values);
        Assert.Contains("b", first.Values);

        var (bypassArm, bypassVersion) = await PredictAsync("user-1", "/v1/models/ab/versions/1:predict");
        Assert.Null(bypassArm);
        Assert.Equal(1, bypassVersion);
    }

    [Fact]
    public async Task Predict_OverGrpc_ArmInTrailerAndServedVersionInModelSpec()
    {
        await CreateAsync("""{"id": "grpc", "sticky_key": "x-grid-subject", "arms": [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 2, "weight": 1}]}""");
        using var channel = GrpcChannel.ForAddress(_grid.GrpcAddress);
        var client = new PredictionService.PredictionServiceClient(channel);
        var seen = new HashSet<string>();
        for (var s = 0; s < 40; s++)
        {
            var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "ab" } };
            request.Inputs["x"] = new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 } } }, FloatVal = { 1f } };
            using var call = client.PredictAsync(request, new Metadata { { "x-grid-subject", $"s{s}" } }, DateTime.UtcNow.AddSeconds(30));
            var response = await call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(30));
            var arm = call.GetTrailers().GetValue("x-grid-arm");
            Assert.Equal(arm == "a" ? 1L : 2L, response.ModelSpec.Version);
            Assert.Equal(arm == "a" ? 2.5f : 3.5f, response.Outputs["y"].FloatVal[0]);
            seen.Add(arm!);
        }
        Assert.Equal(["a", "b"], seen.Order());
    }

    [Fact]
    public async Task Shadow_GetsItsShareAndItsFailuresNeverReachTheCaller()
    {
        // Both arms serve version 1; a quarter of the requests are copied to version 2.
        await CreateAsync("""{"id": "shadowed", "arms": [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 1, "weight": 1}], "shadow": {"version": 2, "percent": 25}}""");
        for (var i = 0; i < 800; i++)
        {
            var (_, version) = await PredictAsync();
            Assert.Equal(1, version);
        }
        var (_, experiment) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/shadowed");
        var shadow = experiment.GetProperty("stats").GetProperty("shadow");
        var shadowed = shadow.GetProperty("requests").GetInt64();
        // 800 × 0.25 = 200, standard deviation 12.2: ±5 sigma.
        output.WriteLine($"shadow at 25 %: {shadowed} of 800 requests copied");
        Assert.InRange(shadowed, 139, 261);
        Assert.Equal(3.5, shadow.GetProperty("output_mean").GetDouble());
    }

    [Fact]
    public async Task Shadow_FailingVersion_CallerStillGetsItsAnswer()
    {
        // Every request is copied to version 2, which is then removed, so every copy fails.
        Assert.Equal(HttpStatusCode.Created, (await AdminAsync(HttpMethod.Post, "/v1/grid/models/ab/experiments",
            """{"id": "failing-shadow", "arms": [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 1, "weight": 1}], "shadow": {"version": 2, "percent": 100}}""")).Status);
        // Version 2 leaves the repository: every shadow copy now fails (version not found).
        Directory.Delete(_repository.Combine("ab", "2"), recursive: true);
        await _grid.WaitUntilAsync(async () => !(await _grid.GetStatesAsync("ab")).TryGetValue(2, out var s) || s == "END", "ab version 2 unloaded");

        for (var i = 0; i < 50; i++)
        {
            var (arm, version) = await PredictAsync();
            Assert.Equal(1, version);
            Assert.NotNull(arm);
        }
        await _grid.WaitUntilAsync(async () =>
        {
            var (_, e) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/failing-shadow");
            return e.GetProperty("stats").GetProperty("shadow").GetProperty("errors").GetInt64() == 50;
        }, "50 failed shadow copies recorded");
    }

    [Fact]
    public async Task PromoteAndStop_PinAndRestoreTheDefault()
    {
        // Without an experiment the latest version (2) serves.
        Assert.Equal(2, (await PredictAsync()).Version);
        await CreateAsync("""{"id": "first", "arms": [{"name": "old", "version": 1, "weight": 1}, {"name": "new", "version": 2, "weight": 1}]}""");

        var (promoteStatus, promoted) = await AdminAsync(HttpMethod.Post, "/v1/grid/models/ab/experiments/first/promote", """{"arm": "old"}""");
        Assert.Equal(HttpStatusCode.OK, promoteStatus);
        Assert.Equal("PROMOTED", promoted.GetProperty("state").GetString());
        for (var i = 0; i < 20; i++)
        {
            var (arm, version) = await PredictAsync();
            Assert.Null(arm);
            Assert.Equal(1, version);
        }

        // A second experiment, stopped: the default goes back to the promoted version 1.
        await CreateAsync("""{"id": "second", "arms": [{"name": "x", "version": 2, "weight": 1}, {"name": "y", "version": 2, "weight": 1}]}""");
        Assert.Equal(2, (await PredictAsync()).Version);
        var (stopStatus, stopped) = await AdminAsync(HttpMethod.Post, "/v1/grid/models/ab/experiments/second/stop");
        Assert.Equal(HttpStatusCode.OK, stopStatus);
        Assert.Equal("STOPPED", stopped.GetProperty("state").GetString());
        Assert.Equal("1", stopped.GetProperty("previous_default").GetString());
        Assert.Equal(1, (await PredictAsync()).Version);

        var (_, list) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments");
        Assert.Equal(["first", "second"], list.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Weights_Changed_TakeEffect()
    {
        await CreateAsync("""{"id": "weights", "arms": [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 2, "weight": 1}]}""");

        var (status, updated) = await AdminAsync(HttpMethod.Put, "/v1/grid/models/ab/experiments/weights/weights", """{"a": 1, "b": 1000000}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1000000, updated.GetProperty("arms")[1].GetProperty("weight").GetInt32());
        // The gateway's status cache lives 100 ms; after it, b gets (almost) everything.
        await _grid.WaitUntilAsync(async () => (await PredictAsync()).Arm == "b", "weights applied");
        var results = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            results.Add((await PredictAsync()).Arm!);
        }
        Assert.True(results.Count(a => a == "b") >= 49, string.Join(",", results));
    }

    [Fact]
    public async Task Experiments_SurviveARestart()
    {
        await CreateAsync("""{"id": "durable", "sticky_key": "x-grid-subject", "arms": [{"name": "a", "version": 1, "weight": 3}, {"name": "b", "version": 2, "weight": 1}]}""");
        for (var i = 0; i < 30; i++)
        {
            await PredictAsync($"u{i}");
        }
        var (_, before) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/durable");

        await _grid.DisposeAsync();
        await StartAsync();
        // The restarted process re-loads the replicas its state lists; wait until they serve.
        await _grid.WaitUntilAsync(async () =>
        {
            using var r = await _grid.Http.PostAsync("/v1/models/ab/versions/2:predict", new StringContent("{\"instances\": [1.0]}"));
            using var r1 = await _grid.Http.PostAsync("/v1/models/ab/versions/1:predict", new StringContent("{\"instances\": [1.0]}"));
            return r.IsSuccessStatusCode && r1.IsSuccessStatusCode;
        }, "both versions serving after the restart");

        var (status, after) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/durable");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ACTIVE", after.GetProperty("state").GetString());
        Assert.Equal(30, after.GetProperty("stats").GetProperty("a").GetProperty("requests").GetInt64() + after.GetProperty("stats").GetProperty("b").GetProperty("requests").GetInt64());
        Assert.Equal(before.GetProperty("arms").GetRawText(), after.GetProperty("arms").GetRawText());
        Assert.NotNull((await PredictAsync("u1")).Arm);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-token-123", HttpStatusCode.Unauthorized)]
    [InlineData(Token, HttpStatusCode.Created)]
    public async Task Create_AdminToken_IsRequired(string? token, HttpStatusCode expected)
    {
        var (status, body) = await AdminAsync(HttpMethod.Post, "/v1/grid/models/ab/experiments",
            """{"id": "auth", "arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}]}""", token);

        Assert.Equal(expected, status);
        var (_, list) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments");
        Assert.Equal(expected == HttpStatusCode.Created ? 1 : 0, list.GetProperty("experiments").GetArrayLength());
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Contains("token", body.GetProperty("error").GetString());
        }
    }

    [Theory]
    [InlineData("""{"arms": [{"version": 1, "weight": 1}, {"version": 7, "weight": 1}]}""", "no available version 7")]
    [InlineData("""{"arms": [{"version": 1, "weight": 0}, {"version": 2, "weight": 1}]}""", "weight 0")]
    [InlineData("""{"arms": [{"version": 1, "weight": -5}, {"version": 2, "weight": 1}]}""", "weight -5")]
    [InlineData("""{"arms": [{"version": 1, "weight": 1}]}""", "at least 2 arms")]
    [InlineData("""{"arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}], "shadow": {"version": 9, "percent": 10}}""", "no available version 9")]
    [InlineData("""{"arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}], "shadow": {"version": 2, "percent": 150}}""", "shadow.percent")]
    [InlineData("""{"arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}], "colour": "red"}""", "Unknown field 'colour'")]
    [InlineData("""{"id": "bad id!", "arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}]}""", "Experiment id")]
    [InlineData("""not json""", "JSON Parse error")]
    public async Task Create_InvalidSpec_Is400WithTheReason(string json, string reason)
    {
        var (status, body) = await CreateAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(reason, body.GetProperty("error").GetString());
        var (_, list) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments");
        Assert.Equal(0, list.GetProperty("experiments").GetArrayLength());
    }

    [Fact]
    public async Task Create_SecondActiveExperiment_Is400()
    {
        await CreateAsync("""{"id": "one", "arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}]}""");

        var (status, body) = await CreateAsync("""{"id": "two", "arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("already has an active experiment 'one'", body.GetProperty("error").GetString());
    }
}
