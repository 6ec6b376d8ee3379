using Grid.Grains;
using Grid.Inference;
using Grid.Models;
using Grid.Serving;
using Grid.Serving.Repository;
using Grid.Tensors;
using Grid.Testing;

namespace Grid.Grains.Tests.Models;

/// <summary>
/// ModelGrain drives real ModelVersionGrains that load real ONNX files: the lifecycle of
/// TF Serving's manager, on the Orleans TestingHost.
/// </summary>
public sealed class ModelGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly TempDirectory _repo = new();

    public void Dispose() => _repo.Dispose();

    private AspiredVersion Version(long version, string source)
    {
        var dir = _repo.Combine(version.ToString());
        if (!Directory.Exists(dir))
        {
            TempDirectory.CopyDirectory(source, dir);
        }
        return new AspiredVersion(version, dir, RepositoryScanner.Fingerprint(dir, out _)!);
    }

    private static string HalfPlusTwo => Path.Combine(RepoPaths.ExampleModels, "half_plus_two", "123");

    private static string HalfPlusThree => Path.Combine(RepoPaths.TestModels, "half_plus_three", "1");

    private AspiredVersion BrokenVersion(long version)
    {
        var dir = _repo.Combine(version.ToString());
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, Grid.Serving.Inference.ModelFormats.Onnx.ModelFile), [1, 2, 3, 4, 5, 6, 7, 8]);
        return new AspiredVersion(version, dir, RepositoryScanner.Fingerprint(dir, out _)!);
    }

    private static InferenceRequest Request(params float[] x) => new(
        ModelSignature.DefaultKey,
        [new NamedTensor("x", TensorData.FromFloats([x.Length, 1], x))],
        []);

    private IModelGrain Model(string name) => fixture.Grains.GetGrain<IModelGrain>(name);

    private IModelVersionGrain Replica(string model, long version) => fixture.Grains.Replica(model, version, 0, Grid.Devices.DeviceRequirement.Any);

    [Fact]
    public async Task SetAspiredVersions_OneVersion_BecomesAvailableWithSignature()
    {
        var model = Model("single");

        await model.SetAspiredVersionsAsync([Version(1, HalfPlusTwo)]).DefaultTimeout();
        var status = await model.GetStatusAsync().DefaultTimeout();

        var v = Assert.Single(status.Versions);
        Assert.Equal(ModelVersionState.Available, v.State);
        Assert.Equal(ServingStatusCode.Ok, v.ErrorCode);
        var signature = Assert.Single(v.Signatures);
        Assert.Equal("serving_default", signature.Key);
        Assert.Equal("x", Assert.Single(signature.Inputs).Alias);
        Assert.Equal([-1L, 1L], signature.Inputs[0].Shape);
    }

    [Fact]
    public async Task Predict_LoadedVersion_ComputesHalfPlusTwo()
    {
        await Model("predict").SetAspiredVersionsAsync([Version(123, HalfPlusTwo)]).DefaultTimeout();

        var result = await Replica("predict", 123).PredictAsync(Request(1, 2, 5)).DefaultTimeout();

        Assert.Equal(123, result.Version);
        var y = Assert.Single(result.Outputs);
        Assert.Equal("y", y.Name);
        Assert.Equal([3L, 1L], y.Tensor.Shape);
        Assert.Equal([2.5f, 3f, 4.5f], y.Tensor.AsSpan<float>().ToArray());
    }

    [Fact]
    public async Task SetAspiredVersions_NewVersion_LoadsItThenUnloadsOld()
    {
        var model = Model("swap");
        await model.SetAspiredVersionsAsync([Version(1, HalfPlusTwo)]).DefaultTimeout();

        await model.SetAspiredVersionsAsync([Version(2, HalfPlusThree)]).DefaultTimeout();
        var status = await model.GetStatusAsync().DefaultTimeout();

        Assert.Equal(ModelVersionState.End, status.Find(1)!.State);
        Assert.Equal(ServingStatusCode.Ok, status.Find(1)!.ErrorCode);
        Assert.Equal(ModelVersionState.Available, status.Find(2)!.State);
        var result = await Replica("swap", 2).PredictAsync(Request(1)).DefaultTimeout();
        Assert.Equal(3.5f, result.Outputs[0].Tensor.AsSpan<float>()[0]);
    }

    [Fact]
    public async Task Predict_UnloadedVersion_ThrowsVersionNotLoadedAcrossTheGrainBoundary()
    {
        var model = Model("unloaded");
        await model.SetAspiredVersionsAsync([Version(1, HalfPlusTwo)]).DefaultTimeout();
        await model.SetAspiredVersionsAsync([Version(2, HalfPlusThree)]).DefaultTimeout();

        var error = await Assert.ThrowsAsync<ServingException>(() => Replica("unloaded", 1).PredictAsync(Request(1)).DefaultTimeout());

        Assert.Equal(ServingStatusCode.Unavailable, error.Code);
        Assert.Equal(ServingFailureKind.VersionNotLoaded, error.Kind);
    }

    [Fact]
    public async Task SetAspiredVersions_BrokenNewVersion_EndsWithErrorAndOldKeepsServing()
    {
        var model = Model("broken");
        await model.SetAspiredVersionsAsync([Version(1, HalfPlusTwo)]).DefaultTimeout();

        await model.SetAspiredVersionsAsync([BrokenVersion(2)]).DefaultTimeout();
        var status = await model.GetStatusAsync().DefaultTimeout();

        var failed = status.Find(2)!;
        Assert.Equal(ModelVersionState.End, failed.State);
        Assert.NotEqual(ServingStatusCode.Ok, failed.ErrorCode);
        Assert.Contains("Failed to load", failed.ErrorMessage);
        Assert.Equal(ModelVersionState.Available, status.Find(1)!.State);
        var result = await Replica("broken", 1).PredictAsync(Request(2)).DefaultTimeout();
        Assert.Equal(3f, result.Outputs[0].Tensor.AsSpan<float>()[0]);
    }

    [Fact]
    public async Task SetAspiredVersions_EmptySet_UnloadsEverything()
    {
        var model = Model("emptied");
        await model.SetAspiredVersionsAsync([Version(1, HalfPlusTwo)]).DefaultTimeout();

        await model.SetAspiredVersionsAsync([]).DefaultTimeout();
        var status = await model.GetStatusAsync().DefaultTimeout();

        Assert.Equal(ModelVersionState.End, Assert.Single(status.Versions).State);
        Assert.Null(status.LatestAvailable());
    }

    [Fact]
    public async Task SetAspiredVersions_SameSetTwice_IsIdempotent()
    {
        var model = Model("idempotent");
        var v1 = Version(1, HalfPlusTwo);

        await model.SetAspiredVersionsAsync([v1]).DefaultTimeout();
        await model.SetAspiredVersionsAsync([v1]).DefaultTimeout();
        var status = await model.GetStatusAsync().DefaultTimeout();

        Assert.Equal(ModelVersionState.Available, Assert.Single(status.Versions).State);
    }

    [Fact]
    public async Task GetStatus_UnknownModel_HasNoVersions()
    {
        var status = await Model("never-registered").GetStatusAsync().DefaultTimeout();

        Assert.False(status.Exists);
    }
}
