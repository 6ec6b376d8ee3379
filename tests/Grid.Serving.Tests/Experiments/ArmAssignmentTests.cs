using Grid.Experiments;

namespace Grid.Serving.Tests.Experiments;

public sealed class ArmAssignmentTests
{
    private static readonly WeightedArmAssignment Policy = new();

    private static ExperimentSpec Spec(string id, params int[] weights)
        => new(id, weights.Select((w, i) => new ExperimentArm($"arm{i}", i + 1, w)).ToArray(), StickyKey: "x-user", Shadow: null);

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.5, 0)]
    [InlineData(0.8999, 0)]
    [InlineData(0.9, 1)]
    [InlineData(0.95, 1)]
    [InlineData(0.9999, 1)]
    public void Assign_NoSubjectWeights90To10_MapsDrawByCumulativeWeights(double draw, int expected)
    {
        var arm = Policy.Assign(Spec("exp", 90, 10), subject: null, draw);

        Assert.Equal(expected, arm);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.24, 0)]
    [InlineData(0.25, 1)]
    [InlineData(0.49, 1)]
    [InlineData(0.5, 2)]
    [InlineData(0.9999, 2)]
    public void Assign_NoSubjectThreeArms1To1To2_MapsDrawByCumulativeWeights(double draw, int expected)
    {
        var arm = Policy.Assign(Spec("exp", 1, 1, 2), subject: null, draw);

        Assert.Equal(expected, arm);
    }

    [Fact]
    public void Assign_SameExperimentAndSubject_AlwaysGivesSameArmRegardlessOfRandom()
    {
        var spec = Spec("exp-sticky", 50, 30, 20);
        double[] draws = [0.0, 0.1, 0.5, 0.75, 0.9999];

        for (var i = 0; i < 1000; i++)
        {
            var subject = $"user-{i}";
            var first = Policy.Assign(spec, subject, 0.3);
            Assert.Equal(Policy.Assign(spec, subject, 0.3), first);
            foreach (var draw in draws)
            {
                Assert.Equal(first, Policy.Assign(spec, subject, draw));
            }
            Assert.Equal(first, Policy.Assign(spec with { }, new string(subject.ToCharArray()), 0.6));
        }
    }

    [Fact]
    public void Assign_WithSubject_UsesStableUnitOfExperimentIdAndSubject()
    {
        var spec = Spec("exp-hash", 90, 10);

        for (var i = 0; i < 200; i++)
        {
            var subject = $"user-{i}";
            var expected = WeightedArmAssignment.StableUnit("exp-hash", subject) * 100 < 90 ? 0 : 1;
            Assert.Equal(expected, Policy.Assign(spec, subject, 0.0));
        }
    }

    [Fact]
    public void Assign_DifferentExperimentId_SplitsSameSubjectsDifferently()
    {
        var a = Spec("experiment-a", 50, 50);
        var b = Spec("experiment-b", 50, 50);

        var differing = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var subject = $"user-{i}";
            if (Policy.Assign(a, subject, 0.0) != Policy.Assign(b, subject, 0.0))
            {
                differing++;
            }
        }

        Assert.NotEqual(0, differing);
        // Independent 50/50 splits disagree on about half the subjects.
        Assert.InRange(differing, 4_000, 6_000);
    }

    [Fact]
    public void Assign_100000DistinctSubjectsWeights90To10_ArmOneShareIsNearTenPercent()
    {
        var spec = Spec("exp-uniform", 90, 10);
        const int subjects = 100_000;

        var armOne = 0;
        for (var i = 0; i < subjects; i++)
        {
            if (Policy.Assign(spec, $"user-{i}", 0.0) == 1)
            {
                armOne++;
            }
        }

        Assert.InRange((double)armOne / subjects, 0.095, 0.105);
    }

    [Theory]
    [InlineData("exp", "")]
    [InlineData("", "")]
    [InlineData("", "user-1")]
    [InlineData("exp", "user-1")]
    [InlineData("exp", "\uffff\uffff")]
    [InlineData("a-very-long-experiment-identifier-with-many-characters", "subject")]
    public void StableUnit_SpecificInputs_IsInUnitInterval(string experimentId, string subject)
    {
        var value = WeightedArmAssignment.StableUnit(experimentId, subject);

        Assert.InRange(value, 0.0, 1.0);
        Assert.True(value < 1.0);
    }

    [Fact]
    public void StableUnit_ManyInputs_IsInUnitIntervalAndDeterministic()
    {
        for (var i = 0; i < 10_000; i++)
        {
            var id = $"exp-{i % 7}";
            var subject = i % 11 == 0 ? string.Empty : $"s{i}";
            var value = WeightedArmAssignment.StableUnit(id, subject);

            Assert.True(value >= 0.0 && value < 1.0, $"StableUnit({id}, {subject}) = {value}");
            Assert.Equal(value, WeightedArmAssignment.StableUnit(id, subject));
        }
    }
}
