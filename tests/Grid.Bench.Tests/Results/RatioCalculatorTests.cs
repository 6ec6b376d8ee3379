using Grid.Bench.Results;

namespace Grid.Bench.Tests.Results;

public sealed class RatioCalculatorTests
{
    private static Ratio Find(List<Ratio> ratios, string id) => Assert.Single(ratios, r => r.Id == id);

    [Fact]
    public void Compute_CompletePoints_ComputesTheSevenRatios()
    {
        // Act
        var ratios = RatioCalculator.Compute(SamplePoints.Complete());

        // Assert
        Assert.Equal(7, ratios.Count);
        var convnet = Find(ratios, "convnet_batching_vs_onnx");
        Assert.Equal(420.0 / 500, convnet.Value!.Value, 9);   // against the best batch size (16), not batch 1
        Assert.Equal(500, convnet.Denominator);
        Assert.Contains("(16)", convnet.Description);
        Assert.Equal(7000.0 / 4000, Find(ratios, "fashion_batching_vs_grid").Value!.Value, 9);
        Assert.Equal(7000.0 / 5000, Find(ratios, "fashion_batching_vs_minimal").Value!.Value, 9);
        Assert.Equal(7000.0 / 10000, Find(ratios, "fashion_batching_vs_empty").Value!.Value, 9);
        Assert.Equal(0.4 / 0.2, Find(ratios, "fashion_grid_p50_vs_minimal").Value!.Value, 9);
        Assert.Equal(2000.0 / 4000, Find(ratios, "fashion_cluster_vs_grid").Value!.Value, 9);
        Assert.Equal(0.8 / 0.4, Find(ratios, "fashion_cluster_p50_vs_grid").Value!.Value, 9);
    }

    [Fact]
    public void Met_AgainstTargets_ComparesInTheRightDirection()
    {
        var ratios = RatioCalculator.Compute(SamplePoints.Complete());

        Assert.True(Find(ratios, "convnet_batching_vs_onnx").Met);       // 0.84 ≥ 0.8
        Assert.True(Find(ratios, "fashion_batching_vs_grid").Met);       // 1.75 ≥ 1.5
        Assert.True(Find(ratios, "fashion_batching_vs_minimal").Met);    // 1.4 ≥ 1.2
        Assert.True(Find(ratios, "fashion_batching_vs_empty").Met);      // 0.7 ≥ 0.5
        Assert.False(Find(ratios, "fashion_grid_p50_vs_minimal").Met);   // 2.0 > 1.5: a latency ratio must stay below
        Assert.Null(Find(ratios, "fashion_cluster_vs_grid").Met);        // reported without a target
        Assert.Null(Find(ratios, "fashion_cluster_p50_vs_grid").Met);
    }

    [Fact]
    public void Compute_NoClusterPoints_ClusterRatiosSayWhichPointIsMissing()
    {
        // Arrange: grid-cluster was not selected (or its cluster did not start)
        var points = SamplePoints.Complete().Where(p => p.Config != BenchConfigs.GridCluster).ToList();

        // Act
        var ratios = RatioCalculator.Compute(points);

        // Assert
        Assert.Equal("no grid-cluster fashion gRPC c=64 point", Find(ratios, "fashion_cluster_vs_grid").Missing);
        Assert.Equal("no grid-cluster fashion gRPC c=1 point", Find(ratios, "fashion_cluster_p50_vs_grid").Missing);
        Assert.NotNull(Find(ratios, "fashion_batching_vs_grid").Value);   // the others still compute
    }

    [Fact]
    public void Compute_MissingConfiguration_SaysWhichPointIsMissing()
    {
        // Arrange: grid-batching failed to start, so none of its points exist
        var points = SamplePoints.Complete().Where(p => p.Config != BenchConfigs.GridBatching).ToList();

        // Act
        var ratios = RatioCalculator.Compute(points);

        // Assert
        var ratio = Find(ratios, "fashion_batching_vs_grid");
        Assert.Null(ratio.Value);
        Assert.Null(ratio.Met);
        Assert.Equal("no grid-batching fashion gRPC c=64 point", ratio.Missing);
        Assert.NotNull(Find(ratios, "fashion_grid_p50_vs_minimal").Value);   // the others still compute
    }

    [Fact]
    public void Compute_PointWithoutSuccesses_IsNotARatio()
    {
        // Arrange: the grid point answered nothing (all errors)
        var points = SamplePoints.Complete()
            .Select(p => p.Config == BenchConfigs.Grid && p.Concurrency == 64 ? SamplePoints.Closed(BenchConfigs.Grid, "fashion", 64, 0, errors: 12) : p)
            .ToList();

        // Act
        var ratio = Find(RatioCalculator.Compute(points), "fashion_batching_vs_grid");

        // Assert
        Assert.Null(ratio.Value);
        Assert.Contains("no successful answer", ratio.Missing);
    }

    [Fact]
    public void Compute_OnlyRestPoints_IgnoresThemForGrpcRatios()
    {
        var points = SamplePoints.Complete().Select(p => p with { Protocol = p.Mode == BenchModes.Batch ? p.Protocol : BenchProtocols.Rest }).ToList();

        var ratios = RatioCalculator.Compute(points);

        Assert.All(ratios, r => Assert.Null(r.Value));
    }

    [Fact]
    public void ToLine_ValueAndTarget_ShowsInputsAndVerdict()
    {
        var ratio = Find(RatioCalculator.Compute(SamplePoints.Complete()), "fashion_batching_vs_grid");

        Assert.Equal("fashion, 64 concurrent gRPC clients: grid-batching ÷ grid samples/s = **1.75** (7,000 ÷ 4,000; target ≥ 1.5: met)", ratio.ToLine());
    }

    [Fact]
    public void ToLine_NoTarget_ShowsInputsWithoutAVerdict()
    {
        var ratio = Find(RatioCalculator.Compute(SamplePoints.Complete()), "fashion_cluster_p50_vs_grid");

        Assert.Equal("fashion, concurrency 1 (gRPC): grid-cluster p50 ÷ grid p50 latency = **2.00** (0.8 ÷ 0.4; no target)", ratio.ToLine());
    }

    [Fact]
    public void ToLine_NoTargetAndMissing_SaysNotAvailableAndWhy()
    {
        var ratio = Find(RatioCalculator.Compute([]), "fashion_cluster_vs_grid");

        Assert.Equal("fashion, 64 concurrent gRPC clients: grid-cluster ÷ grid samples/s = n/a (no target; no grid-cluster fashion gRPC c=64 point)", ratio.ToLine());
    }

    [Fact]
    public void ToLine_Missing_SaysNotAvailableAndWhy()
    {
        var ratio = Find(RatioCalculator.Compute([]), "fashion_grid_p50_vs_minimal");

        Assert.Equal("fashion, concurrency 1 (gRPC): grid p50 ÷ minimal p50 latency = n/a (target ≤ 1.5; no grid fashion gRPC c=1 point)", ratio.ToLine());
    }
}
