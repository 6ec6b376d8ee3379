using Grid.Engines.TensorFlow.Serving;
using Grid.Serving;
using Grid.Serving.Inference;

namespace Grid.Engines.TensorFlow.Tests.Serving;

/// <summary>Every SavedModel fixture either loads through <see cref="SavedModelEngine"/> or fails with its precise reason.</summary>
public sealed class EveryFixtureTests
{
    /// <summary>The fixtures Grid refuses, by directory name, with what the message must say.</summary>
    private static readonly Dictionary<string, string[]> Refused = new(StringComparer.Ordinal)
    {
        ["saved_model_counter"] =
        [
            "signature 'incr_counter': the graph is stateful (AssignAdd (node incr_counter_op/AssignAdd)): Grid serves only stateless graphs",
            "signature 'incr_counter_by': the graph is stateful (AssignAdd (node incr_counter_by_op/AssignAdd)): Grid serves only stateless graphs",
            "signature 'reset_counter': the graph is stateful (Assign (node reset_counter_op/Assign)): Grid serves only stateless graphs",
        ],
        ["tf1_estimator_wide_deep"] =
        [
            "signature 'serving_default': unsupported TensorFlow ops: ParseExample (node ParseExample/ParseExample)",
            "ParseExample node ParseExample/ParseExample: the graph uses its sparse outputs (features feature4, feature5, feature6); Grid parses tf.Examples ahead of the graph for dense features only",
        ],
    };

    public static TheoryData<string> Directories() => [.. Fixture.AllSavedModelDirectories()];

    [Theory]
    [MemberData(nameof(Directories))]
    public void Load_EveryFixture_LoadsOrFailsWithItsReason(string directory)
    {
        var engine = new SavedModelEngine(new OnnxModelEngine(new OnnxRuntimeOptions { IntraOpThreads = 1 }), new SavedModelOptions());
        var name = Path.GetFileName(Path.GetDirectoryName(directory))!;
        if (!Refused.TryGetValue(name, out var reasons))
        {
            using var session = engine.Load(directory, ExecutionDevice.Cpu);
            Assert.NotEmpty(session.Signatures);
            return;
        }

        var error = Assert.Throws<ServingException>(() => engine.Load(directory, ExecutionDevice.Cpu));
        Assert.Equal(ServingStatusCode.Unimplemented, error.Code);
        Assert.StartsWith($"{directory} cannot be imported: ", error.Message);
        foreach (var reason in reasons)
        {
            Assert.Contains(reason, error.Message);
        }
    }
}
