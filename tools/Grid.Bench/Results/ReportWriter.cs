using System.Text.Json;
using System.Text.Json.Serialization;

namespace Grid.Bench.Results;

/// <summary>Writes results.json, results.md and throughput.png into one folder.</summary>
public static class ReportWriter
{
    public const string JsonFile = "results.json";
    public const string MarkdownFile = "results.md";
    public const string ChartFile = "throughput.png";

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task WriteAsync(BenchReport report, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, JsonFile), JsonSerializer.Serialize(report, JsonOptions), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, MarkdownFile), MarkdownReport.Render(report), cancellationToken);
        ThroughputChart.Save(report, Path.Combine(directory, ChartFile));
    }
}
