using Orleans.Trade.Api.Analytics;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>The marketing reports' pure arithmetic (R-DAT-4): the days a window's spend covers, and category groups read as one.</summary>
public sealed class MarketingAnalyticsTests
{
    [Fact]
    public void A_window_counts_the_spend_of_the_days_whose_midnight_it_holds_up_to_the_calendars_last_day()
    {
        var first = new DateOnly(2026, 12, 1);
        Assert.Equal((first, new DateOnly(2026, 12, 3)),
            AdAttribution.Days(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero)));
        Assert.Equal((new DateOnly(2026, 12, 2), new DateOnly(2026, 12, 2)),
            AdAttribution.Days(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero)));
        // The last day has no next one: the window stops before it rather than failing.
        Assert.Equal((DateOnly.MaxValue, DateOnly.MaxValue),
            AdAttribution.Days(new DateTimeOffset(9999, 12, 30, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(9999, 12, 31, 12, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Lines_without_a_category_and_a_category_named_uncategorized_add_up_to_one_group()
    {
        var old = new CategoryMarginStats(null, "USD", 2, 3, 3_000, 240, 0, 0, 0, 0);
        var named = new CategoryMarginStats("uncategorized", "USD", 1, 1, 1_000, 80, 1, 1_000, 80, 400);
        Assert.Equal(new CategoryMarginStats("uncategorized", "USD", 3, 4, 4_000, 320, 1, 1_000, 80, 400),
            CategoryMarginStats.Sum("uncategorized", [old, named]));
        Assert.Same(named, CategoryMarginStats.Sum("uncategorized", [named]));
    }
}
