using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grid.Testing;

namespace Grid.EndToEnd.Tests.SavedModels;

/// <summary>
/// One grid process serving the real TensorFlow SavedModels of <c>shared/fixtures/savedmodels</c>
/// that have a reference file, each repository entry a symbolic link to the fixture's model
/// directory (the fixtures are read in place, never copied).
/// </summary>
public sealed class SavedModelReferenceFixture : IAsyncLifetime
{
    private readonly TempDirectory _repo = new();

    public GridProcess Grid { get; private set; } = null!;

    public Task InitializeAsync()
    {
        foreach (var model in SavedModelReferenceTests.ReferenceModels())
        {
            Directory.CreateSymbolicLink(_repo.Combine(model), Path.Combine(RepoPaths.SavedModels, model));
        }
        Grid = GridProcess.Start("--model_repository", _repo.Path);
        // Each test waits for its own model, so one model that does not load fails only its case.
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (Grid is not null)
        {
            await Grid.DisposeAsync();
        }
        _repo.Dispose();
    }
}

/// <summary>
/// Grid's answers for real SavedModels against reference outputs computed without TensorFlow and
/// without Grid's importer: <c>tests/Grid.Testing/Models/savedmodel_reference.py</c> reads each
/// model's checkpoint and Keras config itself and runs the forward pass in numpy (float64); it
/// checks itself on MNIST (0.9758, 0.9939) and Fashion-MNIST (0.9636). The reference files hold
/// the request instances (exact float32 decimals) and the expected outputs.
/// </summary>
public sealed class SavedModelReferenceTests(SavedModelReferenceFixture fixture, ITestOutputHelper log) : IClassFixture<SavedModelReferenceFixture>
{
    /// <summary>
    /// Grid computes in float32, the reference in float64. Rerunning the reference's own forward
    /// passes in float32 moves every output by at most 2.3e-6 absolute / 5.3e-6 relative, LSTMs
    /// (60 and 100 steps) included; ONNX Runtime's different summation order and fused
    /// multiply-adds are rounding of that same size. 1e-4 relative (plus 1e-5 absolute, for
    /// probabilities near 0) leaves a margin of about 20 over that, and is still far tighter than
    /// what a wrong layer does to these outputs. Measured on the reference itself: the SAME
    /// padding's extra pixel put before instead of after (fer_mini_xception) moves an output by
    /// 0.16, LSTM gates i/f swapped by 0.04 to 0.08, Flatten in NCHW order by 0.98, and the
    /// subtlest, BatchNormalization without its epsilon in crypto_lstm_bn, by 2.8e-3: 50 times
    /// what this tolerance allows there.
    /// </summary>
    private const double RelativeTolerance = 1e-4;

    private const double AbsoluteTolerance = 1e-5;

    /// <summary>Loading imports every signature to ONNX; the LSTM models take the longest.</summary>
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromMinutes(3);

    private static string ReferenceDirectory => Path.Combine(RepoPaths.TestModels, "savedmodel-references");

    public static IEnumerable<string> ReferenceModels() =>
        Directory.EnumerateFiles(ReferenceDirectory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    public static TheoryData<string> References() => new(ReferenceModels());

    [Theory]
    [MemberData(nameof(References))]
    public async Task Predict_ReferenceInstances_MatchReferenceOutputs(string model)
    {
        var reference = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ReferenceDirectory, model + ".json")).DefaultTimeout())!.AsObject();
        Assert.Equal(model, (string?)reference["model"]);
        var signature = (string)reference["signature"]!;
        var input = (string)reference["input"]!;
        var output = (string)reference["output"]!;
        var instances = reference["instances"]!.AsArray();
        var expected = reference["outputs"]!.AsArray();
        Assert.Equal(instances.Count, expected.Count);

        var grid = fixture.Grid;
        await grid.WaitUntilAsync(async () => (await grid.GetStatesAsync(model)).ContainsValue("AVAILABLE"), $"model {model} AVAILABLE", LoadTimeout);

        // Row format, each instance named by the signature's input alias. The numbers are sent as
        // the file writes them: the shortest decimals of the float32 values the reference used.
        var request = new JsonObject
        {
            ["signature_name"] = signature,
            ["instances"] = new JsonArray(instances.Select(i => (JsonNode)new JsonObject { [input] = i!.DeepClone() }).ToArray()),
        };
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await grid.Http.PostAsync($"/v1/models/{model}:predict", content).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{model}: HTTP {(int)response.StatusCode}: {body}");

        var predictions = JsonDocument.Parse(body).RootElement.GetProperty("predictions");
        Assert.Equal(expected.Count, predictions.GetArrayLength());
        var worst = (Difference: 0.0, Allowed: 0.0, Where: "");
        var failures = 0;
        var count = 0;
        for (var row = 0; row < expected.Count; row++)
        {
            var actualRow = predictions[row];
            if (actualRow.ValueKind == JsonValueKind.Object)
            {
                actualRow = actualRow.GetProperty(output); // a row of named outputs
            }
            var (want, wantShape) = Flatten(JsonDocument.Parse(expected[row]!.ToJsonString()).RootElement);
            var (got, gotShape) = Flatten(actualRow);
            Assert.True(wantShape.SequenceEqual(gotShape),
                $"{model} instance {row}: shape [{string.Join(",", gotShape)}], reference [{string.Join(",", wantShape)}]");
            Assert.Equal(want.Count, got.Count);
            for (var i = 0; i < want.Count; i++)
            {
                count++;
                var difference = Math.Abs(got[i] - want[i]);
                var allowed = AbsoluteTolerance + RelativeTolerance * Math.Abs(want[i]);
                if (!(difference <= allowed))
                {
                    failures++;
                }
                if (!(difference <= worst.Difference) || double.IsNaN(difference))
                {
                    worst = (difference, allowed, string.Create(CultureInfo.InvariantCulture, $"instance {row} value {i}: grid {got[i]:R}, reference {want[i]:R}"));
                }
            }
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model}: {count} outputs, max difference {worst.Difference:G3} (allowed there {worst.Allowed:G3}) at {worst.Where}"));
        Assert.True(failures == 0, string.Create(CultureInfo.InvariantCulture,
            $"{model}: {failures} of {count} outputs outside {AbsoluteTolerance} + {RelativeTolerance}·|reference|; max difference {worst.Difference:G3} at {worst.Where}"));
    }

    /// <summary>A nested JSON array of numbers as its row-major values and its shape.</summary>
    private static (List<double> Values, List<int> Shape) Flatten(JsonElement element)
    {
        var values = new List<double>();
        var shape = new List<int>();
        Walk(element, 0);
        return (values, shape);

        void Walk(JsonElement e, int depth)
        {
            if (e.ValueKind != JsonValueKind.Array)
            {
                values.Add(e.GetDouble());
                return;
            }
            if (shape.Count == depth)
            {
                shape.Add(e.GetArrayLength());
            }
            foreach (var item in e.EnumerateArray())
            {
                Walk(item, depth + 1);
            }
        }
    }
}
