using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Analytics;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>A/B tests' arithmetic (R-DAT-5): stable assignment by weight, the two-proportion z-test, and when a winner is called.</summary>
public sealed class ExperimentStatisticsTests
{
    private static ExperimentTerms Terms(int minVisitors = 100, double confidence = 0.95, params (string Name, int Weight)[] variants) =>
        new("test", (variants.Length == 0 ? [("A", 50), ("B", 50)] : variants).Select(v => new ExperimentVariant(v.Name, v.Weight)).ToArray(),
            ExperimentGoal.Placed, null, DateTimeOffset.UnixEpoch, null, minVisitors, confidence);

    [Fact]
    public void A_visitor_always_gets_the_same_variant_and_visitors_split_by_the_weights()
    {
        IReadOnlyList<ExperimentVariant> variants = [new("control", 20), new("new-page", 80)];
        var assigned = Enumerable.Range(0, 10_000).Select(i => ExperimentBuckets.Variant(variants, "exp-1", $"buyer-{i}").Name).ToArray();

        Assert.Equal(assigned, Enumerable.Range(0, 10_000).Select(i => ExperimentBuckets.Variant(variants, "exp-1", $"buyer-{i}").Name));
        Assert.InRange(assigned.Count(a => a == "control"), 1_850, 2_150);
        // Another experiment splits the same visitors independently of this one.
        var other = Enumerable.Range(0, 10_000).Select(i => ExperimentBuckets.Variant(variants, "exp-2", $"buyer-{i}").Name).ToArray();
        Assert.InRange(assigned.Zip(other).Count(p => p.First == "control" && p.Second == "control"), 300, 500);
    }

    [Fact]
    public void The_p_value_is_that_of_a_pooled_two_proportion_z_test()
    {
        Assert.Equal(0.975, ExperimentStatistics.NormalCdf(1.959964), 6);
        Assert.Equal(0.5, ExperimentStatistics.NormalCdf(0), 6);
        Assert.Equal(0.0354885, ExperimentStatistics.PValue(1000, 100, 1000, 130)!.Value, 5);
        Assert.Equal(0.0002045, ExperimentStatistics.PValue(20, 1, 20, 12)!.Value, 5);
        Assert.Equal(1, ExperimentStatistics.PValue(50, 0, 70, 0));
        Assert.Null(ExperimentStatistics.PValue(0, 0, 10, 3));
    }

    [Fact]
    public void A_variant_significantly_better_than_the_control_wins_once_every_variant_has_its_visitors()
    {
        var (variants, decision, winner) = ExperimentStatistics.Decide(Terms(), [new("A", 1000, 100), new("B", 1000, 130)]);
        var (_, early, none) = ExperimentStatistics.Decide(Terms(), [new("A", 1000, 100), new("B", 99, 60)]);

        Assert.Equal((ExperimentDecision.VariantWins, "B"), (decision, winner));
        Assert.Equal((0.1, 0.13, 0.3), (variants[0].ConversionRate, variants[1].ConversionRate, variants[1].Uplift));
        Assert.True(variants[1].Significant);
        Assert.Equal((ExperimentDecision.NotEnoughVisitors, null), (early, none));
    }

    [Fact]
    public void The_control_wins_only_when_every_other_variant_is_significantly_worse_and_otherwise_there_is_no_winner_yet()
    {
        var (_, control, winner) = ExperimentStatistics.Decide(Terms(), [new("A", 1000, 130), new("B", 1000, 100)]);
        var (_, even, noWinner) = ExperimentStatistics.Decide(Terms(), [new("A", 1000, 100), new("B", 1000, 105)]);
        var (_, stricter, _) = ExperimentStatistics.Decide(Terms(confidence: 0.99), [new("A", 1000, 100), new("B", 1000, 130)]);

        Assert.Equal((ExperimentDecision.ControlWins, "A"), (control, winner));
        Assert.Equal((ExperimentDecision.NoSignificantDifference, null), (even, noWinner));
        Assert.Equal(ExperimentDecision.NoSignificantDifference, stricter);
    }

    [Fact]
    public void With_more_challengers_each_needs_a_stronger_result_so_a_false_winner_stays_as_unlikely()
    {
        // p = 0.035 wins against one challenger at 95%, not with two (each is held to 0.025).
        var three = Terms(100, 0.95, ("A", 34), ("B", 33), ("C", 33));
        var (variants, decision, winner) = ExperimentStatistics.Decide(three, [new("A", 1000, 100), new("B", 1000, 130), new("C", 1000, 101)]);

        Assert.False(variants[1].Significant);
        Assert.Equal((ExperimentDecision.NoSignificantDifference, null), (decision, winner));
    }
}
