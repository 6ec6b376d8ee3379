using Grid.Bench.Cli;
using Grid.Bench.Results;

namespace Grid.Bench.Tests.Cli;

public sealed class BenchSettingsTests
{
    [Fact]
    public void ParseNames_KnownNamesInAnyOrder_ReturnsThemInTheCanonicalOrder()
    {
        var (values, error) = BenchSettings.ParseNames("--configs", "grid, onnx,grid", BenchConfigs.All);

        Assert.Null(error);
        Assert.Equal(["onnx", "grid"], values);
    }

    [Fact]
    public void ParseNames_GridAndCluster_SelectsBothInTheCanonicalOrder()
    {
        var (values, error) = BenchSettings.ParseNames("--configs", "grid-cluster,grid", BenchConfigs.All);

        Assert.Null(error);
        Assert.Equal(["grid", "grid-cluster"], values);
    }

    [Fact]
    public void ParseNames_UnknownName_NamesItAndTheOption()
    {
        var (values, error) = BenchSettings.ParseNames("--configs", "grid,triton", BenchConfigs.All);

        Assert.Null(values);
        Assert.Equal("--configs: unknown 'triton' (expected some of onnx, torch, empty, minimal, grid, grid-batching, grid-cluster)", error);
    }

    [Fact]
    public void ParseInts_List_ReturnsDistinctAscending()
    {
        var (values, error) = BenchSettings.ParseInts("--concurrency", "64,1,16,1", 10_000);

        Assert.Null(error);
        Assert.Equal([1, 16, 64], values);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    [InlineData("four")]
    [InlineData("20000")]
    [InlineData(",")]
    public void ParseInts_BadValue_IsAnError(string text)
    {
        var (values, error) = BenchSettings.ParseInts("--concurrency", text, 10_000);

        Assert.Null(values);
        Assert.StartsWith("--concurrency", error);
    }
}
