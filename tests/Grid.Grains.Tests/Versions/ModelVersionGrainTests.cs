using Grid.Grains;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Repository;
using Grid.Tensors;
using Grid.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Grid.Grains.Tests.Versions;

public sealed class ModelVersionGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static AspiredVersion HalfPlusTwo()
    {
        var dir = Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123");
        return new AspiredVersion(123, dir, RepositoryScanner.Fingerprint(dir, out _)!);
    }

    private IModelVersionGrain Replica(string name) => fixture.Grains.Replica(name, 123, 0, Grid.Devices.DeviceRequirement.Any);

    [Fact]
    public async Task PredictAsync_ManyConcurrentRequests_EachGetsItsOwnResult()
    {
        var grain = Replica("concurrent");
        await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();

        var tasks = Enumerable.Range(0, 64).Select(i => grain.PredictAsync(new InferenceRequest(
            ModelSignature.DefaultKey, [new NamedTensor("x", TensorData.FromFloats([1, 1], [i]))], []))).ToList();
        var results = await Task.WhenAll(tasks).DefaultTimeout();

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(0.5f * i + 2, results[i].Outputs[0].Tensor.AsSpan<float>()[0]);
        }
    }

    [Fact]
    public async Task PredictAsync_UnknownInput_ThrowsInvalidArgumentWithTfMessage()
    {
        var grain = Replica("bad-input");
        await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();

        var error = await Assert.ThrowsAsync<ServingException>(() => grain.PredictAsync(new InferenceRequest(
            ModelSignature.DefaultKey, [new NamedTensor("nope", TensorData.FromFloats([1, 1], [1f]))], [])).DefaultTimeout());

        Assert.Equal(ServingStatusCode.InvalidArgument, error.Code);
        Assert.StartsWith("input tensor alias not found in signature: nope", error.Message);
    }

    [Fact]
    public async Task PredictAsync_UnknownSignature_ThrowsFailedPrecondition()
    {
        var grain = Replica("bad-signature");
        await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();

        var error = await Assert.ThrowsAsync<ServingException>(() => grain.PredictAsync(new InferenceRequest(
            "foo", [new NamedTensor("x", TensorData.FromFloats([1, 1], [1f]))], [])).DefaultTimeout());

        Assert.Equal(ServingStatusCode.FailedPrecondition, error.Code);
        Assert.Equal("Serving signature key \"foo\" not found.", error.Message);
    }

    [Fact]
    public async Task LoadAsync_SameFingerprintTwice_ReturnsSameSignatures()
    {
        var grain = Replica("reload");

        var first = await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();
        var second = await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();

        Assert.Equal(first.Signatures[0].Key, second.Signatures[0].Key);
        Assert.Equal(first.Signatures[0].Inputs[0].Alias, second.Signatures[0].Inputs[0].Alias);
    }

    [Fact]
    public async Task UnloadAsync_ThenPredict_ThrowsVersionNotLoaded()
    {
        var grain = Replica("unload");
        await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();

        await grain.UnloadAsync().DefaultTimeout();
        var error = await Assert.ThrowsAsync<ServingException>(() => grain.PredictAsync(new InferenceRequest(
            ModelSignature.DefaultKey, [new NamedTensor("x", TensorData.FromFloats([1, 1], [1f]))], [])).DefaultTimeout());

        Assert.Equal(ServingFailureKind.VersionNotLoaded, error.Kind);
    }

    [Fact]
    public async Task LoadAndUnload_ListAndUnlistTheReplicaForCoLocatedCallers()
    {
        var directory = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<LocalReplicaDirectory>();
        var key = ModelVersionKey.Format("listed", 123);
        var grain = fixture.Grains.Replica("listed", 123, 0, Grid.Devices.DeviceRequirement.Any);

        await grain.LoadAsync(HalfPlusTwo()).DefaultTimeout();
        Assert.True(directory.TryGet(key, out var local));
        var result = await local.PredictAsync(new InferenceRequest(
            ModelSignature.DefaultKey, [new NamedTensor("x", TensorData.FromFloats([1, 1], [4f]))], []), CancellationToken.None).DefaultTimeout();
        Assert.Equal(4f, result.Outputs[0].Tensor.AsSpan<float>()[0]);

        await grain.UnloadAsync().DefaultTimeout();
        Assert.False(directory.TryGet(key, out _));
        var error = await Assert.ThrowsAsync<ServingException>(() => local.PredictAsync(new InferenceRequest(
            ModelSignature.DefaultKey, [new NamedTensor("x", TensorData.FromFloats([1, 1], [4f]))], []), CancellationToken.None)).DefaultTimeout();
        Assert.Equal(ServingFailureKind.VersionNotLoaded, error.Kind);
    }
}

/// <summary>The grain path (a client in another container) with batching on.</summary>
public sealed class BatchingModelVersionGrainTests(BatchingClusterFixture fixture) : IClassFixture<BatchingClusterFixture>
{
    [Fact]
    public async Task PredictAsync_ConcurrentMixedSizes_EqualUnbatchedResults()
    {
        var dir = Path.Combine(RepoPaths.ExampleModels, "fashion", "2");
        var version = new AspiredVersion(2, dir, RepositoryScanner.Fingerprint(dir, out _)!);
        var grain = fixture.Grains.Replica("fashion", 2, 0, Grid.Devices.DeviceRequirement.Any);
        await grain.LoadAsync(version).DefaultTimeout();
        using var reference = new Grid.Serving.Inference.OnnxModelEngine(new()).Load(dir);
        var random = new Random(7);
        var requests = Enumerable.Range(0, 40).Select(i =>
        {
            var rows = i % 5 + 1;
            var values = Enumerable.Range(0, rows * 784).Select(_ => (float)random.NextDouble()).ToArray();
            return new InferenceRequest(ModelSignature.DefaultKey, [new NamedTensor("images", TensorData.FromFloats([rows, 784], values))], []);
        }).ToArray();

        var results = await Task.WhenAll(requests.Select(r => grain.PredictAsync(r))).DefaultTimeout();

        for (var i = 0; i < requests.Length; i++)
        {
            var expected = reference.Run(reference.Signatures[0], requests[i].Inputs, ["scores"])[0].Tensor;
            var actual = results[i].Outputs[0].Tensor;
            Assert.Equal(expected.Shape, actual.Shape);
            var e = expected.AsSpan<float>();
            var a = actual.AsSpan<float>();
            for (var j = 0; j < e.Length; j++)
            {
                Assert.True(Math.Abs(e[j] - a[j]) <= 1e-6, $"request {i} element {j}: {a[j]} vs {e[j]}");
            }
        }
    }
}
