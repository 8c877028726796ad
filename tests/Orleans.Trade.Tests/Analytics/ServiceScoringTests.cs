using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Api.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>The service score's formula and its figures (R-DAT-4), as the README gives them.</summary>
public sealed class ServiceScoringTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_score_is_100_less_the_weighted_rates_between_0_and_100()
    {
        Assert.Equal(100.0, ServiceScoring.Score(0, 0, 0, 0, 0, 0));
        Assert.Equal(0.0, ServiceScoring.Score(1, 1, 1, 1, 1, 1));
        Assert.Equal(75.0, ServiceScoring.Score(1, 0, 0, 0, 0, 0));
        Assert.Equal(65.0, ServiceScoring.Score(0.75, 0.25, 0.25, 0, 0.25, 0.25));
        Assert.Equal(1.0, ServiceScoring.RefundWeight + ServiceScoring.DisputeWeight + ServiceScoring.DisputeLossWeight
            + ServiceScoring.SlowDisputeWeight + ServiceScoring.ReturnWeight + ServiceScoring.LateWeight, 10);
    }

    [Fact]
    public void Resolution_hours_are_nearest_rank_percentiles_and_a_dispute_past_72_hours_is_slow_resolved_or_open()
    {
        Assert.Null(ServiceScoring.Percentile([], 0.5));
        Assert.Equal(3.0, ServiceScoring.Percentile([1, 2, 3, 4, 10], 0.5));
        Assert.Equal(10.0, ServiceScoring.Percentile([1, 2, 3, 4, 10], 0.9));

        var stats = new SellerServiceStats("s-1") { Orders = 10, Disputes = 4 };
        stats.Resolved.Add((Now.AddDays(-10), Now.AddDays(-10).AddHours(5)));
        stats.Resolved.Add((Now.AddDays(-10), Now.AddDays(-10).AddHours(80)));
        stats.Open.Add(Now.AddHours(-73));
        stats.Open.Add(Now.AddHours(-1));
        stats.Amounts["USD"] = (10_000, 500);
        var row = ServiceScoring.Row("s-1", [stats], Now);

        Assert.Equal((2L, 2L, 2L), (row.DisputesResolved, row.DisputesOpen, row.SlowDisputes));
        Assert.Equal(5.0, row.ResolutionHoursP50);
        Assert.Equal(80.0, row.ResolutionHoursP90);
        Assert.Equal(0.05, Assert.Single(row.Amounts).RefundedShare);
        Assert.Equal(ServiceScoring.Score(0, 0.4, 0, 0.2, 0, 0), row.Score);
    }
}
