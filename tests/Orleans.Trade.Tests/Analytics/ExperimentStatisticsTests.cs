using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Analytics;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>A/B tests' arithmetic (R-DAT-5): stable assignment by weight, the two-proportion z-test, and when a winner is called.</summary>
public sealed class ExperimentStatisticsTests
{
    /// <summary>A fixed-horizon experiment (the z-test): the sequential one has its own cases below.</summary>
    private static ExperimentTerms Terms(int minVisitors = 100, double confidence = 0.95, params (string Name, int Weight)[] variants) =>
        new("test", (variants.Length == 0 ? [("A", 50), ("B", 50)] : variants).Select(v => new ExperimentVariant(v.Name, v.Weight)).ToArray(),
            ExperimentGoal.Placed, null, DateTimeOffset.UnixEpoch, null, minVisitors, confidence, ExperimentMethod.FixedHorizon);

    private static ExperimentTerms Sequential(double effect) => Terms() with { Method = ExperimentMethod.Sequential, MinDetectableEffect = effect };

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

    [Fact]
    public void The_sequential_p_value_is_one_over_the_mixture_likelihood_ratio_and_needs_more_visitors_than_the_z_test()
    {
        // Λ = √(V/(V+τ²))·exp(τ²d²/(2V(V+τ²))), V the unpooled variance of the difference d (values computed independently).
        Assert.Equal(0.000309242, ExperimentStatistics.SequentialPValue(20, 1, 20, 12, 0.3)!.Value, 7);
        Assert.Equal(0.396405, ExperimentStatistics.SequentialPValue(1000, 100, 1000, 130, 0.02)!.Value, 5);
        Assert.Equal(0.067598, ExperimentStatistics.SequentialPValue(10_000, 1_000, 10_000, 1_130, 0.02)!.Value, 5);
        Assert.Equal(1, ExperimentStatistics.SequentialPValue(50, 0, 70, 0, 0.02));

        // 10% against 13% on 1,000 visitors each wins at a single look, not yet for the always-valid test.
        var (_, sequential, none) = ExperimentStatistics.Decide(Sequential(0.02), [new("A", 1000, 100), new("B", 1000, 130)]);
        var (_, later, winner) = ExperimentStatistics.Decide(Sequential(0.02), [new("A", 40_000, 4_000), new("B", 40_000, 5_200)]);
        Assert.Equal((ExperimentDecision.NoSignificantDifference, null), (sequential, none));
        Assert.Equal((ExperimentDecision.VariantWins, "B"), (later, winner));
    }

    [Fact]
    public void Reading_an_experiment_of_two_equal_variants_after_every_hundred_visitors_calls_a_false_winner_far_more_often_with_the_z_test()
    {
        // 400 experiments where both variants convert 10%, each read after every 100 visitors per variant up to 3,000: the share
        // in which some read calls a winner. The sequential test keeps it within 1 − confidence; the z-test, read that often, does not.
        var random = new Random(20261207);
        int zWins = 0, sequentialWins = 0;
        for (var experiment = 0; experiment < 400; experiment++)
        {
            long ca = 0, cb = 0;
            bool zCalled = false, sequentialCalled = false;
            for (var n = 1; n <= 3_000; n++)
            {
                ca += random.NextDouble() < 0.1 ? 1 : 0;
                cb += random.NextDouble() < 0.1 ? 1 : 0;
                if (n % 100 == 0)
                {
                    zCalled |= ExperimentStatistics.PValue(n, ca, n, cb) < 0.05;
                    sequentialCalled |= ExperimentStatistics.SequentialPValue(n, ca, n, cb, 0.02) < 0.05;
                }
            }
            zWins += zCalled ? 1 : 0;
            sequentialWins += sequentialCalled ? 1 : 0;
        }

        Assert.True(sequentialWins <= 20, $"{sequentialWins} of 400 sequential experiments called a false winner");
        Assert.True(zWins >= 60, $"{zWins} of 400 z-tests read after every 100 visitors called a false winner");
    }

    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_significance_that_fades_later_is_kept_by_the_running_minimum_from_the_minute_it_was_called()
    {
        // Minute by minute: 20 buyers exposed to each; 5 of each convert (the test looks: p = 1); 9 more of B (p = 0.036, under
        // 0.05); one more (0.0097, the lowest); then 20 more buyers each, of whom 7 of A and 4 of B convert: 40/12 against 40/19
        // reads 0.91 now, as a single look would show it.
        VariantHistory a = new("A", [new(T0, 20, 0), new(T0.AddMinutes(1), 0, 5), new(T0.AddMinutes(4), 20, 7)]);
        VariantHistory b = new("B", [new(T0, 20, 0), new(T0.AddMinutes(1), 0, 5), new(T0.AddMinutes(2), 0, 9), new(T0.AddMinutes(3), 0, 1),
            new(T0.AddMinutes(4), 20, 4)]);
        var terms = Terms(minVisitors: 10) with { Method = ExperimentMethod.Sequential, MinDetectableEffect = 0.3 };

        var test = ExperimentStatistics.Replay(a.Steps, b.Steps, 0.3, 0.05, 10);
        var (variants, decision, winner) = ExperimentStatistics.DecideFromHistory(terms, [a, b]);
        var (now, oneLook, none) = ExperimentStatistics.Decide(terms, [a.Counts, b.Counts]);

        Assert.Equal(0.0362289, ExperimentStatistics.SequentialPValue(20, 5, 20, 14, 0.3)!.Value, 6);
        Assert.Equal(0.0096740, test.PValue!.Value, 6);
        Assert.Equal(T0.AddMinutes(2), test.SignificantSince);
        Assert.Equal(0.911203, ExperimentStatistics.SequentialPValue(40, 12, 40, 19, 0.3)!.Value, 5);
        Assert.Equal((40L, 12L, 40L, 19L), (variants[0].Visitors, variants[0].Converted, variants[1].Visitors, variants[1].Converted));
        Assert.Equal((0.009674, true, T0.AddMinutes(2)), (variants[1].PValue, variants[1].Significant, variants[1].SignificantSince));
        Assert.Equal((ExperimentDecision.VariantWins, "B"), (decision, winner));
        // Minute 4 still in progress: counted, not looked at (the lowest so far, from minute 3, is the same).
        var (running, _, _) = ExperimentStatistics.DecideFromHistory(terms, [a, b], looksBefore: T0.AddMinutes(4));
        Assert.Equal((40L, 19L, 0.009674), (running[1].Visitors, running[1].Converted, running[1].PValue));
        var (early, _, _) = ExperimentStatistics.DecideFromHistory(terms, [a, b], looksBefore: T0.AddMinutes(2));
        Assert.Equal((1.0, false, null), (early[1].PValue, early[1].Significant, early[1].SignificantSince));
        // Read from the counts now alone, the same data shows no winner: the winner called at minute 2 would have been lost.
        Assert.Equal((0.911203, false, null), (now[1].PValue, now[1].Significant, now[1].SignificantSince));
        Assert.Equal((ExperimentDecision.NoSignificantDifference, null), (oneLook, none));
    }

    [Fact]
    public void The_sequential_test_looks_once_both_sides_have_their_visitors_and_five_conversions_and_non_conversions()
    {
        // 10 buyers each; 5 of B convert, none of A: 1/Λ would read 0.043, under 0.05, but A has no conversions yet (and B's rate
        // of a half on ten buyers is a poor normal approximation). When 5 of A convert (10/5 against 10/5) the test looks first.
        VariantHistory a = new("A", [new(T0, 10, 0), new(T0.AddMinutes(2), 0, 5)]);
        VariantHistory b = new("B", [new(T0, 10, 0), new(T0.AddMinutes(1), 0, 5)]);

        var early = ExperimentStatistics.Replay(a.Steps.Take(1).ToArray(), b.Steps, 0.3, 0.05, 10);
        var test = ExperimentStatistics.Replay(a.Steps, b.Steps, 0.3, 0.05, 10);
        var fewerVisitors = ExperimentStatistics.Replay(a.Steps, b.Steps, 0.3, 0.05, 11);

        Assert.Equal(0.043, ExperimentStatistics.SequentialPValue(10, 0, 10, 5, 0.3)!.Value, 3);
        Assert.Equal((null, null), (early.PValue, early.SignificantSince));
        Assert.Equal(1, test.PValue);
        Assert.Null(test.SignificantSince);
        Assert.Null(fewerVisitors.PValue);
        // The minute in progress (from minute 2 on) is not looked at yet: the test has not looked at all.
        Assert.Null(ExperimentStatistics.Replay(a.Steps, b.Steps, 0.3, 0.05, 10, looksBefore: T0.AddMinutes(2)).PValue);
        Assert.Throws<ArgumentException>(() => ExperimentStatistics.Replay(a.Steps.Reverse().ToArray(), b.Steps, 0.3, 0.05, 10));
    }

    [Fact]
    public void A_variant_called_better_stays_the_winner_even_if_it_falls_behind_the_control_later()
    {
        // B was called at minute 2 (20/5 against 20/15); later A's buyers convert more (60/25 against 60/23): B is now under A's
        // rate, but the always-valid test's call (reject once, in the direction then seen) stands, and the control does not win.
        VariantHistory a = new("A", [new(T0, 20, 5), new(T0.AddMinutes(3), 40, 20)]);
        VariantHistory b = new("B", [new(T0, 20, 5), new(T0.AddMinutes(2), 0, 10), new(T0.AddMinutes(3), 40, 8)]);
        var terms = Terms(minVisitors: 10) with { Method = ExperimentMethod.Sequential, MinDetectableEffect = 0.3 };

        var (variants, decision, winner) = ExperimentStatistics.DecideFromHistory(terms, [a, b]);

        Assert.True(variants[1].ConversionRate < variants[0].ConversionRate);
        Assert.Equal((true, T0.AddMinutes(2)), (variants[1].Significant, variants[1].SignificantSince));
        Assert.Equal((ExperimentDecision.VariantWins, "B"), (decision, winner));
    }

    [Theory]
    [InlineData(0.1, 0.02, 100, 3_000)]
    [InlineData(0.3, 0.3, 10, 300)]
    public void Replaying_equal_variants_event_by_event_calls_a_false_winner_at_most_about_one_time_in_twenty(double rate, double effect,
        int minVisitors, int visitorsPerVariant)
    {
        // 400 experiments of two variants converting alike, a buyer a second (a random variant, converting at once or not), the
        // running minimum taken over every second: the share ever called stays within α = 0.05 (plus sampling noise), also with a
        // large minDetectableEffect and the smallest minimum of visitors, where the normal approximation is at its weakest. (The
        // z-test's p-value replayed alike calls a third to two fifths of them.)
        var random = new Random(20261207);
        var called = 0;
        for (var experiment = 0; experiment < 400; experiment++)
        {
            List<VariantStep> a = [], b = [];
            for (var second = 0; second < 2 * visitorsPerVariant; second++)
            {
                (random.Next(2) == 0 ? a : b).Add(new VariantStep(T0.AddSeconds(second), 1, random.NextDouble() < rate ? 1 : 0));
            }
            called += ExperimentStatistics.Replay(a, b, effect, 0.05, minVisitors).SignificantSince is null ? 0 : 1;
        }

        Assert.True(called <= 24, $"{called} of 400 experiments of equal variants called a false winner");
    }
}
