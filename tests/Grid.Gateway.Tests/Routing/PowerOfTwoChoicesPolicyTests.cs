using Grid.Gateway.Routing;

namespace Grid.Gateway.Tests.Routing;

public sealed class PowerOfTwoChoicesPolicyTests
{
    /// <summary>Returns the scripted draws in order, checking each is within the asked range.</summary>
    private static Func<int, int> Draws(params int[] draws)
    {
        var i = 0;
        return max =>
        {
            var d = draws[i++];
            Assert.InRange(d, 0, max - 1);
            return d;
        };
    }

    private static ReplicaLoad[] Loads(params int[] work) => work.Select((w, i) => new ReplicaLoad(i, w, 0)).ToArray();

    [Fact]
    public void Choose_OneReplica_IsThatReplicaWithoutDrawing()
    {
        var policy = new PowerOfTwoChoicesPolicy(_ => throw new InvalidOperationException("no draw expected"));

        Assert.Equal(0, policy.Choose(Loads(9)));
    }

    [Fact]
    public void Choose_SecondSampleLessLoaded_TakesIt()
    {
        // First draw: replica 0 (work 5). Second draw 1 of the remaining {1, 2} maps to replica 2 (work 1).
        var policy = new PowerOfTwoChoicesPolicy(Draws(0, 1));

        Assert.Equal(2, policy.Choose(Loads(5, 3, 1)));
    }

    [Fact]
    public void Choose_FirstSampleLessLoaded_TakesIt()
    {
        var policy = new PowerOfTwoChoicesPolicy(Draws(1, 0));

        Assert.Equal(1, policy.Choose(Loads(4, 2, 0)));
    }

    [Fact]
    public void Choose_Tie_TakesTheFirstSampled()
    {
        var policy = new PowerOfTwoChoicesPolicy(Draws(2, 0));

        Assert.Equal(2, policy.Choose(Loads(3, 3, 3)));
    }

    [Fact]
    public void Choose_QueuedWorkCounts_AsWellAsOutstanding()
    {
        var policy = new PowerOfTwoChoicesPolicy(Draws(0, 0));
        ReplicaLoad[] replicas = [new(0, Outstanding: 1, Queued: 6), new(1, Outstanding: 4, Queued: 0)];

        Assert.Equal(1, policy.Choose(replicas));
    }

    [Fact]
    public void Choose_SameFirstAndSecondDraw_StillComparesTwoDistinctReplicas()
    {
        // A second draw equal to the first index is shifted past it: replicas 1 and 2 are compared.
        var policy = new PowerOfTwoChoicesPolicy(Draws(1, 1));

        Assert.Equal(2, policy.Choose(Loads(0, 7, 2)));
    }

    [Fact]
    public void Choose_OneSlowReplicaUnderRealRandomness_GetsFarLessThanItsShare()
    {
        var policy = new PowerOfTwoChoicesPolicy(new Random(42).Next);
        var replicas = Loads(50, 1, 1, 1);
        var picks = new int[replicas.Length];

        for (var i = 0; i < 10_000; i++)
        {
            picks[policy.Choose(replicas)]++;
        }

        // Every sampled pair that holds the slow replica also holds a less loaded one, so it is never chosen.
        Assert.Equal(0, picks[0]);
        Assert.All(picks[1..], p => Assert.InRange(p, 2_800, 3_900));
    }

    [Fact]
    public void Choose_NoReplicas_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PowerOfTwoChoicesPolicy().Choose([]));
    }
}
