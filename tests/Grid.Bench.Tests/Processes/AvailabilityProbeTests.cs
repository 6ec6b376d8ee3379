using System.Text.Json;
using Grid.Bench.Processes;

namespace Grid.Bench.Tests.Processes;

/// <summary>Reading a server's GetModelStatus answer: available, still loading, or failed (so a configuration fails in seconds, not at the start timeout).</summary>
public sealed class AvailabilityProbeTests
{
    private static (bool Available, string? Failure) Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return AvailabilityProbe.Read(doc.RootElement);
    }

    [Fact]
    public void Read_AvailableVersion_IsAvailable()
    {
        var result = Read("""{ "model_version_status": [ { "version": "2", "state": "AVAILABLE", "status": { "error_code": "OK", "error_message": "" } } ] }""");

        Assert.Equal((true, null), result);
    }

    [Fact]
    public void Read_Loading_IsNeitherAvailableNorFailed()
    {
        var result = Read("""{ "model_version_status": [ { "version": "2", "state": "LOADING", "status": { "error_code": "OK", "error_message": "" } } ] }""");

        Assert.Equal((false, null), result);
    }

    [Fact]
    public void Read_EndWithError_IsTheFailure()
    {
        // What grid serve answers for a KIND_GPU model on a machine without a usable GPU.
        var result = Read("""
            { "model_version_status": [ { "version": "2", "state": "END", "status": { "error_code": "UNAVAILABLE",
              "error_message": "Model fashion version 2 cannot be placed. No silo can host it: it needs a usable GPU" } } ] }
            """);

        Assert.False(result.Available);
        Assert.Equal("Model fashion version 2 cannot be placed. No silo can host it: it needs a usable GPU", result.Failure);
    }

    [Fact]
    public void Read_OneVersionFailedAnotherLoading_IsNotYetFailed()
    {
        var result = Read("""
            { "model_version_status": [
              { "version": "1", "state": "END", "status": { "error_code": "UNKNOWN", "error_message": "bad file" } },
              { "version": "2", "state": "LOADING", "status": { "error_code": "OK", "error_message": "" } } ] }
            """);

        Assert.Equal((false, null), result);
    }

    [Fact]
    public void Read_NoVersions_IsNotYetAvailable()
    {
        Assert.Equal((false, null), Read("""{ "error": "Servable not found" }"""));
    }
}
