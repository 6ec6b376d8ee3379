using System.Globalization;

namespace Grid.Bench.Results;

/// <summary>
/// One ratio the project reports, computed from the points of a single run. <see cref="Value"/>
/// is null (and <see cref="Missing"/> says why) when a point it needs was not measured or had
/// no successful answer. A ratio without a <see cref="Target"/> is reported for information:
/// <see cref="Met"/> is null.
/// </summary>
public sealed record Ratio
{
    public required string Id { get; init; }
    public required string Description { get; init; }
    public double? Value { get; init; }

    /// <summary>"&gt;=" or "&lt;="; null when there is no target.</summary>
    public string? Comparison { get; init; }
    public double? Target { get; init; }
    public double? Numerator { get; init; }
    public double? Denominator { get; init; }
    public string? Missing { get; init; }

    public bool? Met => Value is not { } v || Target is not { } t ? null : Comparison == ">=" ? v >= t : v <= t;

    /// <summary>
    /// One Markdown list line, e.g. "fashion, 64 gRPC clients: ... = 1.62 (a ÷ b; target ≥ 1.5: met)",
    /// or "... = 0.62 (a ÷ b; no target)".
    /// </summary>
    public string ToLine()
    {
        var target = Target is not { } t ? "no target" : $"target {(Comparison == ">=" ? "≥" : "≤")} {t.ToString("0.##", CultureInfo.InvariantCulture)}";
        if (Value is not { } v)
        {
            return $"{Description} = n/a ({target}; {Missing})";
        }
        var inputs = $"{Format(Numerator)} ÷ {Format(Denominator)}";
        var verdict = Met is { } met ? $"{target}: {(met ? "met" : "NOT met")}" : target;
        return $"{Description} = **{v.ToString("0.00", CultureInfo.InvariantCulture)}** ({inputs}; {verdict})";
    }

    private static string Format(double? x) => x switch
    {
        null => "?",
        < 100 => x.Value.ToString("0.###", CultureInfo.InvariantCulture),
        _ => x.Value.ToString("#,0", CultureInfo.InvariantCulture),
    };
}

/// <summary>The ratios the project tracks (docs/benchmarks.md), computed from one run's points. Pure.</summary>
public static class RatioCalculator
{
    public const int ThroughputConcurrency = 64;
    public const int LatencyConcurrency = 1;

    /// <param name="settings">
    /// The run's settings: when they ask for other engines or devices than ONNX Runtime on the CPU,
    /// ratios against it follow the seven (see <see cref="EngineRatios"/>); null: the seven only.
    /// </param>
    public static List<Ratio> Compute(IReadOnlyList<BenchPoint> points, RunSettings? settings = null)
    {
        var ratios = new List<Ratio>();

        // Compute-bound model: how close batching gets to what ONNX Runtime does with whole batches.
        var convnetBatching = Closed(points, BenchConfigs.GridBatching, "convnet", BenchProtocols.Grpc, ThroughputConcurrency);
        var bestOnnx = Best(points.Where(p => p.Config == BenchConfigs.Onnx && p.Model == "convnet"));
        ratios.Add(Divide(
            "convnet_batching_vs_onnx",
            $"convnet, {ThroughputConcurrency} concurrent gRPC clients: grid-batching samples/s ÷ raw ONNX samples/s at its best batch size{(bestOnnx is null ? "" : $" ({bestOnnx.BatchSize})")}",
            ">=", 0.8,
            Throughput(convnetBatching, $"grid-batching convnet gRPC c={ThroughputConcurrency}"),
            bestOnnx is null ? (null, "no raw ONNX convnet point") : (bestOnnx.SamplesPerSecond, null)));

        // Overhead-bound model: batching against the alternatives at the same load.
        var fashionBatching = Throughput(
            Closed(points, BenchConfigs.GridBatching, "fashion", BenchProtocols.Grpc, ThroughputConcurrency),
            $"grid-batching fashion gRPC c={ThroughputConcurrency}");
        foreach (var (other, target) in new[] { (BenchConfigs.Grid, 1.5), (BenchConfigs.Minimal, 1.2), (BenchConfigs.Empty, 0.5) })
        {
            ratios.Add(Divide(
                $"fashion_batching_vs_{other}",
                $"fashion, {ThroughputConcurrency} concurrent gRPC clients: grid-batching ÷ {other} samples/s",
                ">=", target,
                fashionBatching,
                Throughput(Closed(points, other, "fashion", BenchProtocols.Grpc, ThroughputConcurrency), $"{other} fashion gRPC c={ThroughputConcurrency}")));
        }

        // One client: Grid's per-request overhead against the hand-written server.
        ratios.Add(Divide(
            "fashion_grid_p50_vs_minimal",
            $"fashion, concurrency {LatencyConcurrency} (gRPC): grid p50 ÷ minimal p50 latency",
            "<=", 1.5,
            P50(Closed(points, BenchConfigs.Grid, "fashion", BenchProtocols.Grpc, LatencyConcurrency), $"grid fashion gRPC c={LatencyConcurrency}"),
            P50(Closed(points, BenchConfigs.Minimal, "fashion", BenchProtocols.Grpc, LatencyConcurrency), $"minimal fashion gRPC c={LatencyConcurrency}")));

        // The gateway → silo hop: the cluster against grid serve, whose requests stay in one
        // process. Reported without a target.
        ratios.Add(Divide(
            "fashion_cluster_vs_grid",
            $"fashion, {ThroughputConcurrency} concurrent gRPC clients: grid-cluster ÷ grid samples/s",
            null, null,
            Throughput(Closed(points, BenchConfigs.GridCluster, "fashion", BenchProtocols.Grpc, ThroughputConcurrency), $"grid-cluster fashion gRPC c={ThroughputConcurrency}"),
            Throughput(Closed(points, BenchConfigs.Grid, "fashion", BenchProtocols.Grpc, ThroughputConcurrency), $"grid fashion gRPC c={ThroughputConcurrency}")));
        ratios.Add(Divide(
            "fashion_cluster_p50_vs_grid",
            $"fashion, concurrency {LatencyConcurrency} (gRPC): grid-cluster p50 ÷ grid p50 latency",
            null, null,
            P50(Closed(points, BenchConfigs.GridCluster, "fashion", BenchProtocols.Grpc, LatencyConcurrency), $"grid-cluster fashion gRPC c={LatencyConcurrency}"),
            P50(Closed(points, BenchConfigs.Grid, "fashion", BenchProtocols.Grpc, LatencyConcurrency), $"grid fashion gRPC c={LatencyConcurrency}")));
        if (settings is not null)
        {
            ratios.AddRange(EngineRatios(points, settings));
        }
        return ratios;
    }

    /// <summary>
    /// Each other engine and device against ONNX Runtime on the CPU, per model, without targets:
    /// raw libtorch on each device and raw ONNX Runtime on a GPU ÷ raw ONNX Runtime on the CPU, each at its best batch size (when
    /// <c>torch</c> ran), and grid and grid-batching on each variant ÷ the same config on ONNX
    /// Runtime on the CPU at <see cref="ThroughputConcurrency"/> gRPC clients.
    /// </summary>
    public static List<Ratio> EngineRatios(IReadOnlyList<BenchPoint> points, RunSettings settings)
    {
        var ratios = new List<Ratio>();
        foreach (var model in settings.Models)
        {
            // Raw libtorch on each device, and raw ONNX Runtime on a GPU, against raw ONNX Runtime on the CPU.
            foreach (var series in BenchSeries.Raw(settings.Configs, settings.Devices).Where(s => s != BenchConfigs.Onnx))
            {
                var other = Best(points.Where(p => p.Series == series && p.Model == model));
                var onnx = Best(points.Where(p => p.Series == BenchConfigs.Onnx && p.Model == model));
                ratios.Add(Divide(
                    $"{model}_{series}_vs_onnx",
                    $"{model}: raw {series} ÷ raw onnx samples/s, each at its best batch size{(other is null || onnx is null ? "" : $" ({other.BatchSize}, {onnx.BatchSize})")}",
                    null, null,
                    other is null ? (null, $"no raw {series} {model} point") : (other.SamplesPerSecond, null),
                    onnx is null ? (null, $"no raw onnx {model} point") : (onnx.SamplesPerSecond, null)));
            }
            foreach (var config in new[] { BenchConfigs.Grid, BenchConfigs.GridBatching }.Where(settings.Configs.Contains))
            {
                foreach (var variant in settings.Variants.Where(v => !v.IsDefault))
                {
                    var series = BenchSeries.Name(config, variant);
                    ratios.Add(Divide(
                        $"{model}_{series}_vs_{config}",
                        $"{model}, {ThroughputConcurrency} concurrent gRPC clients: {series} ÷ {config} samples/s",
                        null, null,
                        Throughput(ClosedSeries(points, series, model, BenchProtocols.Grpc, ThroughputConcurrency), $"{series} {model} gRPC c={ThroughputConcurrency}"),
                        Throughput(ClosedSeries(points, config, model, BenchProtocols.Grpc, ThroughputConcurrency), $"{config} {model} gRPC c={ThroughputConcurrency}")));
                }
            }
        }
        ratios.AddRange(GpuRatios(points, settings));
        return ratios;
    }

    /// <summary>
    /// For each engine measured raw on a GPU, per model: grid-batching on that GPU at
    /// <see cref="ThroughputConcurrency"/> gRPC clients ÷ the raw engine on the GPU at its best
    /// batch size (target ≥ 0.8 for convnet), and the raw engine on the GPU ÷ the same engine on
    /// the CPU at the same batch size, the largest of at least 32 that both measured (target ≥ 10
    /// for convnet). Other models are reported without targets.
    /// </summary>
    public static List<Ratio> GpuRatios(IReadOnlyList<BenchPoint> points, RunSettings settings)
    {
        var ratios = new List<Ratio>();
        if (!settings.Devices.Contains(BenchDevices.Gpu))
        {
            return ratios;
        }
        var raw = BenchSeries.Raw(settings.Configs, settings.Devices);
        foreach (var engine in BenchEngines.All)
        {
            var config = engine == BenchEngines.OnnxRuntime ? BenchConfigs.Onnx : BenchConfigs.Torch;
            var gpuSeries = BenchSeries.Name(config, engine, BenchDevices.Gpu);
            var cpuSeries = BenchSeries.Name(config, engine, BenchDevices.Cpu);
            if (!raw.Contains(gpuSeries))
            {
                continue;
            }
            foreach (var model in settings.Models)
            {
                var convnet = model == "convnet";
                var best = Best(points.Where(p => p.Series == gpuSeries && p.Model == model));
                if (settings.Configs.Contains(BenchConfigs.GridBatching) && settings.Variants.Contains(new EngineVariant(engine, BenchDevices.Gpu)))
                {
                    var batching = BenchSeries.Name(BenchConfigs.GridBatching, engine, BenchDevices.Gpu);
                    ratios.Add(Divide(
                        $"{model}_{batching}_vs_{gpuSeries}",
                        $"{model}, {ThroughputConcurrency} concurrent gRPC clients: {batching} samples/s ÷ raw {gpuSeries} samples/s at its best batch size{(best is null ? "" : $" ({best.BatchSize})")}",
                        convnet ? ">=" : null, convnet ? 0.8 : null,
                        Throughput(ClosedSeries(points, batching, model, BenchProtocols.Grpc, ThroughputConcurrency), $"{batching} {model} gRPC c={ThroughputConcurrency}"),
                        best is null ? (null, $"no raw {gpuSeries} {model} point") : (best.SamplesPerSecond, null)));
                }
                var batch = points.Where(p => p.Series == gpuSeries && p.Model == model && p.BatchSize >= 32 && p.Errors == 0)
                    .Select(p => p.BatchSize)
                    .Where(b => points.Any(c => c.Series == cpuSeries && c.Model == model && c.BatchSize == b && c.Errors == 0))
                    .DefaultIfEmpty(0).Max();
                var onGpu = points.FirstOrDefault(p => p.Series == gpuSeries && p.Model == model && p.BatchSize == batch);
                var onCpu = points.FirstOrDefault(p => p.Series == cpuSeries && p.Model == model && p.BatchSize == batch);
                ratios.Add(Divide(
                    $"{model}_{gpuSeries}_vs_{cpuSeries}",
                    $"{model}: raw {gpuSeries} ÷ raw {cpuSeries} samples/s at batch {(batch == 0 ? "≥ 32" : batch.ToString(CultureInfo.InvariantCulture))}",
                    convnet ? ">=" : null, convnet ? 10.0 : null,
                    onGpu is null ? (null, $"no raw {gpuSeries} {model} point at a batch ≥ 32 that {cpuSeries} measured too") : (onGpu.SamplesPerSecond, null),
                    onCpu is null ? (null, $"no raw {cpuSeries} {model} point at batch ≥ 32") : (onCpu.SamplesPerSecond, null)));
            }
        }
        return ratios;
    }

    private static BenchPoint? Best(IEnumerable<BenchPoint> raw) =>
        raw.Where(p => p.Mode == BenchModes.Batch && p.Errors == 0 && p.SamplesPerSecond > 0).MaxBy(p => p.SamplesPerSecond);

    private static BenchPoint? ClosedSeries(IReadOnlyList<BenchPoint> points, string series, string model, string protocol, int concurrency) =>
        points.FirstOrDefault(p => p.Series == series && p.Model == model && p.Protocol == protocol
                                   && p.Mode == BenchModes.Closed && p.Concurrency == concurrency);

    /// <summary>The point of <paramref name="config"/> on ONNX Runtime on the CPU (its plain series), as every ratio before engines compared.</summary>
    private static BenchPoint? Closed(IReadOnlyList<BenchPoint> points, string config, string model, string protocol, int concurrency) =>
        ClosedSeries(points, config, model, protocol, concurrency);

    private static (double? Value, string? Missing) Throughput(BenchPoint? p, string what) => p switch
    {
        null => (null, $"no {what} point"),
        { SamplesPerSecond: <= 0 } => (null, $"{what} had no successful answer"),
        _ => (p.SamplesPerSecond, null),
    };

    private static (double? Value, string? Missing) P50(BenchPoint? p, string what) => p switch
    {
        null => (null, $"no {what} point"),
        { P50Ms: null } => (null, $"{what} had no successful answer"),
        _ => (p.P50Ms, null),
    };

    /// <param name="comparison">"&gt;=" or "&lt;=", with <paramref name="target"/>; both null for a ratio without a target.</param>
    private static Ratio Divide(string id, string description, string? comparison, double? target,
        (double? Value, string? Missing) numerator, (double? Value, string? Missing) denominator)
    {
        var missing = numerator.Missing ?? denominator.Missing;
        if (missing is null && denominator.Value is <= 0)
        {
            missing = "the denominator is zero";
        }
        return new Ratio
        {
            Id = id,
            Description = description,
            Comparison = comparison,
            Target = target,
            Numerator = numerator.Value,
            Denominator = denominator.Value,
            Value = missing is null ? numerator.Value!.Value / denominator.Value!.Value : null,
            Missing = missing,
        };
    }
}
