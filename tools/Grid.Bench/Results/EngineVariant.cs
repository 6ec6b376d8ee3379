namespace Grid.Bench.Results;

/// <summary>The engines Grid can serve a model with, by their Triton platform names.</summary>
public static class BenchEngines
{
    /// <summary>ONNX Runtime: <c>model.onnx</c>, on the CPU, or on a GPU in a <c>GridOnnxRuntime=cuda</c> build.</summary>
    public const string OnnxRuntime = "onnxruntime_onnx";

    /// <summary>libtorch through TorchSharp: a TorchScript <c>model.pt</c> with its <c>signature.json</c>.</summary>
    public const string LibTorch = "pytorch_libtorch";

    public static readonly IReadOnlyList<string> All = [OnnxRuntime, LibTorch];

    /// <summary>
    /// The devices an engine can run on. A GPU series of a build or machine without CUDA fails
    /// with the reason instead of running.
    /// </summary>
    public static IReadOnlyList<string> DevicesOf(string engine) => engine switch
    {
        OnnxRuntime => [BenchDevices.Cpu, BenchDevices.Gpu],
        LibTorch => [BenchDevices.Cpu, BenchDevices.Gpu],
        _ => [],
    };

    /// <summary>The short name used in series names: <c>onnx</c>, <c>torch</c>.</summary>
    public static string Short(string engine) => engine switch
    {
        OnnxRuntime => "onnx",
        LibTorch => "torch",
        _ => engine,
    };
}

public static class BenchDevices
{
    public const string Cpu = "cpu";
    public const string Gpu = "gpu";

    public static readonly IReadOnlyList<string> All = [Cpu, Gpu];
}

/// <summary>
/// One engine on one device. The grid configurations run once per variant; ONNX Runtime on the
/// CPU is the default (and what every configuration ran on before engines could be chosen), so
/// its series keep their plain config names.
/// </summary>
public sealed record EngineVariant(string Engine, string Device)
{
    public static readonly EngineVariant OnnxCpu = new(BenchEngines.OnnxRuntime, BenchDevices.Cpu);

    public bool IsDefault => this == OnnxCpu;

    /// <summary>"torch-cpu", "torch-gpu", "onnx-cpu".</summary>
    public string Name => $"{BenchEngines.Short(Engine)}-{Device}";

    /// <summary>
    /// Every (engine, device) pair that exists, engines in the order of <see cref="BenchEngines.All"/>
    /// and devices in the order of <see cref="BenchDevices.All"/>; pairs an engine cannot run on are left out.
    /// </summary>
    public static List<EngineVariant> Combine(IEnumerable<string> engines, IEnumerable<string> devices)
    {
        var wanted = devices.ToList();
        return BenchEngines.All.Where(engines.Contains)
            .SelectMany(e => BenchDevices.All.Where(d => wanted.Contains(d) && BenchEngines.DevicesOf(e).Contains(d)).Select(d => new EngineVariant(e, d)))
            .ToList();
    }

    public override string ToString() => $"{Engine} on {Device}";
}

/// <summary>
/// A series: one configuration on one engine and device, the unit of a table column, a chart
/// line and a failure. Its name is the config name for ONNX Runtime on the CPU
/// (<c>grid</c>, <c>onnx</c>), the config and the variant otherwise (<c>grid+torch-cpu</c>,
/// <c>grid-batching+torch-gpu</c>), <c>torch-cpu</c> / <c>torch-gpu</c> for raw libtorch and
/// <c>onnx-gpu</c> for raw ONNX Runtime on a GPU.
/// </summary>
public static class BenchSeries
{
    public static string Name(string config, string? engine, string? device)
    {
        if (config == BenchConfigs.Torch)
        {
            return $"{BenchConfigs.Torch}-{device ?? BenchDevices.Cpu}";
        }
        if (config == BenchConfigs.Onnx)
        {
            return device is null or BenchDevices.Cpu ? BenchConfigs.Onnx : $"{BenchConfigs.Onnx}-{device}";
        }
        if (engine is null || device is null || new EngineVariant(engine, device).IsDefault)
        {
            return config;
        }
        return $"{config}+{new EngineVariant(engine, device).Name}";
    }

    public static string Name(string config, EngineVariant? variant) => Name(config, variant?.Engine, variant?.Device);

    /// <summary>
    /// The network series of a run, in the order they run and are shown: each server config
    /// selected, the grid ones once per variant.
    /// </summary>
    public static List<string> Servers(IReadOnlyList<string> configs, IReadOnlyList<EngineVariant> variants) =>
        BenchConfigs.Servers.Where(configs.Contains)
            .SelectMany(c => BenchConfigs.PerEngine.Contains(c) ? variants.Select(v => Name(c, v)) : [c])
            .ToList();

    /// <summary>The raw in-process series: <c>onnx</c> and <c>onnx-gpu</c>, then <c>torch-DEVICE</c> per device.</summary>
    public static List<string> Raw(IReadOnlyList<string> configs, IReadOnlyList<string> devices)
    {
        var names = new List<string>();
        if (configs.Contains(BenchConfigs.Onnx))
        {
            names.AddRange(BenchDevices.All.Where(d => d == BenchDevices.Cpu || devices.Contains(d)).Select(d => Name(BenchConfigs.Onnx, BenchEngines.OnnxRuntime, d)));
        }
        if (configs.Contains(BenchConfigs.Torch))
        {
            names.AddRange(BenchDevices.All.Where(devices.Contains).Select(d => Name(BenchConfigs.Torch, BenchEngines.LibTorch, d)));
        }
        return names;
    }
}
