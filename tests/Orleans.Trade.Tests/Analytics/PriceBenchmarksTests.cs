using Orleans.Trade.Analytics;
using Orleans.Trade.Common;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>The pure rules of price benchmarks (R-DAT-3): which competitors' prices count, and where ours stands among them.</summary>
public sealed class PriceBenchmarksTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static CompetitorPrice Seen(string competitor, long minor, string currency = "USD", double daysAgo = 1) =>
        new(competitor, new Money(minor, currency), null, null, Now.AddDays(-daysAgo), "analyst:a", Now);

    /// <summary>EUR at 1.5 USD; no rate for anything else.</summary>
    private static Money? Rates(Money amount, string currency) =>
        amount.Currency == currency ? amount : amount.Currency == "EUR" && currency == "USD" ? new Money(amount.AmountMinor * 3 / 2, "USD") : null;

    private static PriceBenchmark Compare(long ours, params CompetitorPrice[] prices) =>
        PriceBenchmarks.Compare("sku-1", "s-1", new Money(ours, "USD"), prices, Now, TimeSpan.FromDays(30), Rates);

    [Theory]
    [InlineData(1_000, PricePosition.Cheapest, 0)]
    [InlineData(1_500, PricePosition.Cheapest, 0)]
    [InlineData(1_800, PricePosition.BelowMedian, 1)]
    [InlineData(2_000, PricePosition.BelowMedian, 1)]
    [InlineData(2_600, PricePosition.AboveMedian, 2)]
    [InlineData(3_000, PricePosition.AboveMedian, 2)]
    [InlineData(3_001, PricePosition.Dearest, 3)]
    public void Our_price_stands_against_the_lowest_median_and_highest_counted_prices(long ours, PricePosition position, int cheaper)
    {
        var benchmark = Compare(ours, Seen("a", 1_500), Seen("b", 2_000), Seen("c", 2_000, "EUR")); // 1,500, 2,000, 3,000 USD
        Assert.Equal(position, benchmark.Position);
        Assert.Equal(cheaper, benchmark.Cheaper);
        Assert.Equal(new Money(1_500, "USD"), benchmark.Lowest);
        Assert.Equal(new Money(2_000, "USD"), benchmark.Median);
        Assert.Equal(new Money(3_000, "USD"), benchmark.Highest);
        Assert.Equal(3, benchmark.Counted);
    }

    [Fact]
    public void The_median_of_an_even_count_is_the_mean_of_the_middle_two_and_the_gap_is_a_percentage_of_it()
    {
        var benchmark = Compare(2_000, Seen("a", 1_000), Seen("b", 1_501), Seen("c", 1_600), Seen("d", 9_000));
        Assert.Equal(new Money(1_551, "USD"), benchmark.Median); // (1,501 + 1,600) / 2 = 1,550.5, half away from zero
        Assert.Equal(28.9m, benchmark.PercentFromMedian); // (2,000 - 1,551) / 1,551
        Assert.Equal(PricePosition.AboveMedian, benchmark.Position);
    }

    [Fact]
    public void Prices_too_old_or_without_a_rate_are_shown_but_not_counted()
    {
        var benchmark = Compare(2_000, Seen("old", 100, daysAgo: 31), Seen("yen", 100, "JPY"), Seen("fresh", 2_500, daysAgo: 29.9));
        Assert.Equal(3, benchmark.Competitors.Count);
        Assert.Equal(["fresh"], benchmark.Competitors.Where(c => c.Counted).Select(c => c.Competitor));
        Assert.Null(benchmark.Competitors.Single(c => c.Competitor == "yen").PriceInSkuCurrency);
        Assert.Equal(PricePosition.Cheapest, benchmark.Position);
        Assert.Equal(Now.AddDays(-1), benchmark.LatestObservation);

        var none = Compare(2_000, Seen("old", 100, daysAgo: 40));
        Assert.Equal(PricePosition.Unbenchmarked, none.Position);
        Assert.Null(none.Median);
        Assert.Equal(PricePosition.Unbenchmarked, Compare(2_000).Position);
    }
}
