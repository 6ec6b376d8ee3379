using Grid.Gateway.Experiments;
using Grid.Inference;
using Grid.Tensors;

namespace Grid.Gateway.Tests.Experiments;

public class ExperimentRecorderTests
{
    private static InferenceResult Result(params NamedTensor[] outputs) => new(1, "serving_default", outputs);

    [Fact]
    public void Summarize_ClassifierScores_ReturnsTheArgmaxOfEachRow()
    {
        // Arrange: three rows of four class scores.
        var scores = TensorData.FromFloats([3, 4], [0.1f, 0.7f, 0.1f, 0.1f, 0.9f, 0f, 0f, 0.1f, 0f, 0f, 0.2f, 0.8f]);

        // Act
        var (classes, first) = ExperimentRecorder.Summarize(Result(new NamedTensor("scores", scores)));

        // Assert
        Assert.Equal([1, 0, 3], classes);
        Assert.Null(first);
    }

    [Fact]
    public void Summarize_RegressionOutput_ReturnsTheFirstValue()
    {
        var (classes, first) = ExperimentRecorder.Summarize(Result(new NamedTensor("y", TensorData.FromFloats([2, 1], [2.5f, 3f]))));

        Assert.Null(classes);
        Assert.Equal(2.5, first);
    }

    [Fact]
    public void Summarize_SeveralOutputs_UsesTheAlphabeticallyFirst()
    {
        var (classes, first) = ExperimentRecorder.Summarize(Result(
            new NamedTensor("z", TensorData.FromFloats([1, 2], [0f, 1f])),
            new NamedTensor("a", TensorData.FromFloats([1], [7f]))));

        Assert.Null(classes);
        Assert.Equal(7, first);
    }

    [Fact]
    public void TakePending_AfterRecords_ReturnsPerArmCountsOnceThenNothing()
    {
        // Arrange
        var recorder = new ExperimentRecorder();
        var scores = TensorData.FromFloats([2, 3], [0f, 1f, 0f, 0f, 1f, 0f]);
        recorder.Record("m", "e", "a", 1, 0.5, Result(new NamedTensor("scores", scores)));
        recorder.Record("m", "e", "a", 1, 2.0, null);
        recorder.Record("m", "e", "b", 2, 1.0, Result(new NamedTensor("y", TensorData.FromFloats([1], [4f]))));

        // Act
        var pending = recorder.TakePending();
        var again = recorder.TakePending();

        // Assert
        var arms = pending[("m", "e")];
        Assert.Equal(2, arms["a"].Requests);
        Assert.Equal(1, arms["a"].Errors);
        Assert.Equal(2, arms["a"].Classes["1"]);
        Assert.Equal(2, arms["a"].LatencyBuckets.Sum());
        Assert.Equal(1, arms["b"].Requests);
        Assert.Equal(4, arms["b"].OutputSum);
        Assert.Empty(again);
    }

    [Fact]
    public void Restore_UndeliveredDeltas_AreTakenAgainAddedToNewOnes()
    {
        var recorder = new ExperimentRecorder();
        recorder.Record("m", "e", "a", 1, 0.5, null);
        var undelivered = recorder.TakePending();

        recorder.Restore(("m", "e"), undelivered[("m", "e")]);
        recorder.Record("m", "e", "a", 1, 0.5, null);
        var pending = recorder.TakePending();

        Assert.Equal(2, pending[("m", "e")]["a"].Requests);
        Assert.Equal(2, pending[("m", "e")]["a"].Errors);
    }
}
