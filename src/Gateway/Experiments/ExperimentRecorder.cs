using Grid.Experiments;
using Grid.Inference;
using Grid.Tensors;
using Prometheus;

namespace Grid.Gateway.Experiments;

/// <summary>
/// This gateway's measurements of every experiment arm since they were last reported to the
/// model's manager, and the same counts as Prometheus metrics labelled
/// <c>{model, version, experiment, arm}</c>. Thread-safe.
/// </summary>
public sealed class ExperimentRecorder
{
    private static readonly string[] Labels = ["model", "version", "experiment", "arm"];
    private static readonly Counter Requests = Metrics.CreateCounter("grid_experiment_requests_total", "Requests routed to an experiment arm (shadow copies included).", Labels);
    private static readonly Counter Errors = Metrics.CreateCounter("grid_experiment_errors_total", "Requests to an experiment arm that failed.", Labels);
    private static readonly Histogram Latency = Metrics.CreateHistogram("grid_experiment_request_latency_seconds", "Latency of requests to an experiment arm, in the gateway.",
        new HistogramConfiguration { LabelNames = Labels, Buckets = Histogram.ExponentialBuckets(0.0001, 2, 18) });
    private static readonly Counter Classes = Metrics.CreateCounter("grid_experiment_predicted_class_total", "Predicted classes (argmax of a classifier output) per experiment arm.", [.. Labels, "class"]);

    private readonly Dictionary<(string Model, string Experiment), Dictionary<string, Accumulator>> _pending = [];
    private readonly Lock _lock = new();

    private sealed class Accumulator
    {
        public long Requests;
        public long Errors;
        public readonly long[] Buckets = new long[LatencyHistogram.BucketCount];
        public readonly Dictionary<string, long> Classes = new(StringComparer.Ordinal);
        public double OutputSum;
        public long OutputCount;
    }

    /// <summary>Records one request to <paramref name="arm"/>; <paramref name="result"/> null means it failed.</summary>
    public void Record(string model, string experiment, string arm, long version, double latencyMs, InferenceResult? result)
    {
        var versionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Requests.WithLabels(model, versionText, experiment, arm).Inc();
        Latency.WithLabels(model, versionText, experiment, arm).Observe(latencyMs / 1000);
        if (result is null)
        {
            Errors.WithLabels(model, versionText, experiment, arm).Inc();
        }
        var summary = result is null ? default : Summarize(result);
        if (summary.Classes is { } predicted)
        {
            foreach (var c in predicted)
            {
                Classes.WithLabels(model, versionText, experiment, arm, c.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            }
        }
        lock (_lock)
        {
            if (!_pending.TryGetValue((model, experiment), out var arms))
            {
                _pending[(model, experiment)] = arms = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
            }
            if (!arms.TryGetValue(arm, out var a))
            {
                arms[arm] = a = new Accumulator();
            }
            a.Requests++;
            a.Buckets[LatencyHistogram.Bucket(latencyMs)]++;
            if (result is null)
            {
                a.Errors++;
            }
            if (summary.Classes is { } classes)
            {
                foreach (var c in classes)
                {
                    var key = c.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    a.Classes[key] = a.Classes.GetValueOrDefault(key) + 1;
                }
            }
            else if (summary.FirstValue is { } value)
            {
                a.OutputSum += value;
                a.OutputCount++;
            }
        }
    }

    /// <summary>Takes everything recorded since the last call, per (model, experiment) and arm.</summary>
    public Dictionary<(string Model, string Experiment), Dictionary<string, ArmStats>> TakePending()
    {
        lock (_lock)
        {
            var taken = _pending.ToDictionary(
                p => p.Key,
                p => p.Value.ToDictionary(a => a.Key, a => new ArmStats(a.Value.Requests, a.Value.Errors, a.Value.Buckets, a.Value.Classes, a.Value.OutputSum, a.Value.OutputCount), StringComparer.Ordinal));
            _pending.Clear();
            return taken;
        }
    }

    /// <summary>Puts back deltas that could not be delivered, so no count is lost.</summary>
    public void Restore((string Model, string Experiment) key, Dictionary<string, ArmStats> deltas)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(key, out var arms))
            {
                _pending[key] = arms = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
            }
            foreach (var (arm, d) in deltas)
            {
                if (!arms.TryGetValue(arm, out var a))
                {
                    arms[arm] = a = new Accumulator();
                }
                a.Requests += d.Requests;
                a.Errors += d.Errors;
                for (var i = 0; i < a.Buckets.Length && i < d.LatencyBuckets.Length; i++)
                {
                    a.Buckets[i] += d.LatencyBuckets[i];
                }
                foreach (var (c, n) in d.Classes)
                {
                    a.Classes[c] = a.Classes.GetValueOrDefault(c) + n;
                }
                a.OutputSum += d.OutputSum;
                a.OutputCount += d.OutputCount;
            }
        }
    }

    /// <summary>
    /// A classifier's predicted classes (argmax of each row of the first float output when it is
    /// [batch, k] with k &gt; 1), or else the first output's first value.
    /// </summary>
    public static (int[]? Classes, double? FirstValue) Summarize(InferenceResult result)
    {
        if (result.Outputs.Length == 0)
        {
            return default;
        }
        var output = result.Outputs.MinBy(o => o.Name, StringComparer.Ordinal)!.Tensor;
        if (output.DType != TensorDType.Float || output.ElementCount == 0)
        {
            return default;
        }
        var values = output.AsSpan<float>();
        if (output.Shape.Length == 2 && output.Shape[1] > 1)
        {
            var k = (int)output.Shape[1];
            var rows = (int)output.Shape[0];
            var classes = new int[rows];
            for (var r = 0; r < rows; r++)
            {
                var row = values.Slice(r * k, k);
                var best = 0;
                for (var j = 1; j < k; j++)
                {
                    if (row[j] > row[best])
                    {
                        best = j;
                    }
                }
                classes[r] = best;
            }
            return (classes, null);
        }
        return (null, values[0]);
    }
}
