using Orleans.Trade.Risk;

namespace Orleans.Trade.Tests.Risk;

public sealed class RiskMetricsTests
{
    [Fact]
    public void Auc_counts_pairs_ranked_right_and_ties_as_half()
    {
        // Fraud at 0.9 and 0.4; legitimate at 0.4, 0.2, 0.1. Pairs: (0.9 beats all 3) + (0.4 ties one, beats two) = 5.5 of 6.
        var metrics = RiskMetrics.Compute([(true, 0.9), (true, 0.4), (false, 0.4), (false, 0.2), (false, 0.1)], 60, 90);

        Assert.Equal(5.5 / 6, metrics.AucRoc, 12);
    }

    [Fact]
    public void Auprc_is_average_precision_over_distinct_probabilities()
    {
        // Descending: 0.9 fraud (P=1, R=1/2), 0.8 legit, 0.7 fraud (P=2/3, R=1): AP = 1/2·1 + 1/2·2/3.
        var metrics = RiskMetrics.Compute([(true, 0.9), (false, 0.8), (true, 0.7), (false, 0.1)], 60, 90);

        Assert.Equal(0.5 + 0.5 * 2 / 3.0, metrics.Auprc, 12);
    }

    [Fact]
    public void Thresholds_flag_scores_at_or_above_them_after_rounding()
    {
        // 0.6 scores 60 (at the review threshold), 0.594 scores 59, 0.9 scores 90 (at the block threshold).
        var metrics = RiskMetrics.Compute([(true, 0.9), (false, 0.6), (true, 0.594), (false, 0.1)], 60, 90);

        Assert.Equal(new ThresholdMetrics(60, Flagged: 2, TruePositives: 1, Precision: 0.5, Recall: 0.5), metrics.Review);
        Assert.Equal(new ThresholdMetrics(90, Flagged: 1, TruePositives: 1, Precision: 1, Recall: 0.5), metrics.Block);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.004999, 0)]
    [InlineData(0.0051, 1)]
    [InlineData(0.6049, 60)]
    [InlineData(1.0, 100)]
    public void The_score_is_the_probability_times_100_rounded(double probability, int score) =>
        Assert.Equal(score, RiskScoring.ScoreOf(probability));

    [Fact]
    public void Decisions_follow_the_thresholds_inclusively()
    {
        var thresholds = new RiskThresholds(60, 90);
        Assert.Equal(RiskDecision.Allow, thresholds.Decide(59));
        Assert.Equal(RiskDecision.Review, thresholds.Decide(60));
        Assert.Equal(RiskDecision.Review, thresholds.Decide(89));
        Assert.Equal(RiskDecision.Block, thresholds.Decide(90));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RiskThresholds(90, 60));
    }
}
