using Orleans.Trade.Inventory;

namespace Orleans.Trade.Tests.Inventory;

public sealed class RecentKeysTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Keys_are_kept_for_the_window_and_the_oldest_go_first_beyond_the_count()
    {
        var keys = new RecentKeys(TimeSpan.FromMinutes(2), max: 3);
        keys.Add("a", T0);
        keys.Add("b", T0.AddSeconds(10));
        keys.Add("c", T0.AddSeconds(20));

        Assert.True(keys.Contains("a", T0.AddSeconds(30)));
        keys.Add("d", T0.AddSeconds(40)); // a fourth: the oldest goes
        Assert.False(keys.Contains("a", T0.AddSeconds(40)));
        Assert.True(keys.Contains("b", T0.AddSeconds(40)));
        Assert.Equal(3, keys.Count);

        // Two minutes after each was added, it is forgotten.
        Assert.False(keys.Contains("b", T0.AddSeconds(131)));
        Assert.True(keys.Contains("c", T0.AddSeconds(131)));
        Assert.False(keys.Contains("d", T0.AddSeconds(161)));
        Assert.Equal(0, keys.Count);
    }

    [Fact]
    public void A_key_added_again_is_kept_from_its_latest_addition()
    {
        var keys = new RecentKeys(TimeSpan.FromMinutes(2), max: 10);
        keys.Add("a", T0);
        keys.Add("a", T0.AddSeconds(100));

        Assert.True(keys.Contains("a", T0.AddSeconds(150))); // the first addition's entry expired, not the key
        Assert.False(keys.Contains("a", T0.AddSeconds(221)));
    }
}
