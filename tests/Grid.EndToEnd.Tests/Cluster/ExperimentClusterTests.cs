using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grid.Testing;

namespace Grid.EndToEnd.Tests.Cluster;

/// <summary>
/// Experiments in cluster mode: created through one gateway, routed and measured by two, kept
/// in Redis, and still there after every silo and gateway has been replaced.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ExperimentClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = "cluster-admin-token";
    private readonly TestRepository _repository = new();
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        TempDirectory.CopyDirectory(Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123"), Path.Combine(_repository.Path, "ab", "1"));
        TempDirectory.CopyDirectory(RepoPaths.TestModel("half_plus_three"), Path.Combine(_repository.Path, "ab", "2"));
        File.WriteAllText(Path.Combine(_repository.Path, "ab", "config.pbtxt"), "version_policy { all { } }\n");
        _cluster = await LocalCluster.StartAsync(_repository.Path);
        await _cluster.StartSiloAsync("silo1");
        await _cluster.StartSiloAsync("silo2");
        _cluster.AdminToken = Token;
        await _cluster.StartGatewayAsync();
        await _cluster.WaitReadyAsync(2);
        await _cluster.WaitUntilAsync(async () => (await _cluster.GetModelAsync("ab"))?.Versions.Count(v => v.Replicas.Any(r => r.State == "AVAILABLE")) == 2, "ab versions 1 and 2 serving");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _repository.Dispose();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await _cluster.Http.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, doc.RootElement.Clone());
    }

    [Fact]
    public async Task Experiment_InCluster_RoutesMeasuresAndSurvivesReplacingEveryProcess()
    {
        var (created, _) = await AdminAsync(HttpMethod.Post, "/v1/grid/models/ab/experiments",
            """{"id": "clustered", "sticky_key": "x-grid-subject", "arms": [{"name": "a", "version": 1, "weight": 1}, {"name": "b", "version": 2, "weight": 1}]}""");
        Assert.Equal(HttpStatusCode.Created, created);

        var arms = new Dictionary<string, string>();
        for (var i = 0; i < 200; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/ab:predict") { Content = new StringContent("{\"instances\": [1.0]}") };
            request.Headers.Add("x-grid-subject", $"user-{i % 20}");
            using var response = await _cluster.Http.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var arm = response.Headers.GetValues("x-grid-arm").Single();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(arm == "a" ? 2.5 : 3.5, body.RootElement.GetProperty("predictions")[0].GetDouble());
            Assert.Equal(arms.GetValueOrDefault($"user-{i % 20}", arm), arm);
            arms[$"user-{i % 20}"] = arm;
        }
        var (_, before) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/clustered");
        var counted = before.GetProperty("stats").GetProperty("a").GetProperty("requests").GetInt64() + before.GetProperty("stats").GetProperty("b").GetProperty("requests").GetInt64();
        Assert.Equal(200, counted);

        await _cluster.ReplaceAllProcessesAsync("silo3", "silo4");

        var (status, after) = await AdminAsync(HttpMethod.Get, "/v1/grid/models/ab/experiments/clustered");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ACTIVE", after.GetProperty("state").GetString());
        Assert.Equal(before.GetProperty("stats").GetRawText(), after.GetProperty("stats").GetRawText());
        output.WriteLine($"cluster experiment after replacing every process: {after.GetProperty("stats").GetRawText()}");
    }
}
