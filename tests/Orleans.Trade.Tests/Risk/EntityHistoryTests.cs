using Orleans.Trade.Risk;
using static Orleans.Trade.Tests.Risk.RiskTestData;

namespace Orleans.Trade.Tests.Risk;

public sealed class EntityHistoryTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void A_clone_takes_the_next_attempt_while_the_history_handed_out_stays_as_it_was()
    {
        var shared = new EntityHistory();
        shared.Record(Attempt(Noon - Hour / 2, card: "c-1", device: "d-1"));

        var next = shared.Clone();
        next.Record(Attempt(Noon, amountUsdMinor: 9_000, card: "c-2", device: "d-2"));

        Assert.Equal(1, shared.Attempts);
        Assert.Equal(1, shared.Window(Noon, Hour).Attempts);
        Assert.Equal(["d-1"], shared.KnownDevices);
        Assert.Equal(2, next.Attempts);
        Assert.Equal(2, next.Window(Noon, Hour).Attempts);
        Assert.Equal(2, next.DistinctCards(Noon, Hour, "c-1"));
        Assert.Equal(["d-2", "d-1"], next.KnownDevices);
        Assert.Equal(14_000, next.ApprovedAmountUsdMinor);
    }

    [Fact]
    public void An_attempt_exactly_one_hour_old_is_outside_the_one_hour_window()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - Hour));

        Assert.Equal(0, history.Window(Noon, Hour).Attempts);
        Assert.Equal(1, history.Window(Noon - TimeSpan.FromTicks(1), Hour).Attempts);
    }

    [Fact]
    public void An_attempt_a_tick_under_one_hour_old_is_inside()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - Hour + TimeSpan.FromTicks(1)));

        Assert.Equal(1, history.Window(Noon, Hour).Attempts);
    }

    [Fact]
    public void An_attempt_at_the_same_instant_is_inside_and_a_later_one_outside()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon));
        history.Record(Attempt(Noon + TimeSpan.FromSeconds(1)));

        Assert.Equal(1, history.Window(Noon, Hour).Attempts);
    }

    [Fact]
    public void The_24_hour_window_has_the_same_edges()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - TimeSpan.FromHours(24), amountUsdMinor: 100, outcome: RiskOutcome.Declined));
        history.Record(Attempt(Noon - TimeSpan.FromHours(24) + TimeSpan.FromTicks(1), amountUsdMinor: 250, outcome: RiskOutcome.Declined));
        history.Record(Attempt(Noon - TimeSpan.FromMinutes(30), amountUsdMinor: 1_000));

        var day = history.Window(Noon, TimeSpan.FromHours(24));

        Assert.Equal(new WindowSummary(Attempts: 2, AmountUsdMinor: 1_250, Declines: 1), day);
    }

    [Fact]
    public void Recording_drops_entries_that_no_later_window_can_hold()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - TimeSpan.FromHours(24)));
        history.Record(Attempt(Noon - TimeSpan.FromHours(23)));
        history.Record(Attempt(Noon));

        Assert.Equal([Noon - TimeSpan.FromHours(23), Noon], history.Recent.Select(e => e.At));
        Assert.Equal(3, history.Attempts); // all-time counts keep everything
        Assert.Equal(Noon - TimeSpan.FromHours(24), history.FirstSeen);
        Assert.Equal(Noon, history.LastSeen);
    }

    [Fact]
    public void Out_of_order_attempts_are_kept_in_time_order()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon));
        history.Record(Attempt(Noon - TimeSpan.FromMinutes(5)));

        Assert.Equal([Noon - TimeSpan.FromMinutes(5), Noon], history.Recent.Select(e => e.At));
        Assert.Equal(Noon - TimeSpan.FromMinutes(5), history.FirstSeen);
        Assert.Equal(Noon, history.LastSeen);
    }

    [Fact]
    public void The_number_of_recent_entries_is_bounded()
    {
        var history = new EntityHistory();
        for (var i = 0; i < EntityHistory.MaxRecentEntries + 10; i++)
        {
            history.Record(Attempt(Noon + TimeSpan.FromSeconds(i)));
        }

        Assert.Equal(EntityHistory.MaxRecentEntries, history.Recent.Count);
        Assert.Equal(Noon + TimeSpan.FromSeconds(10), history.Recent[0].At);
    }

    [Fact]
    public void A_full_history_and_its_copies_take_attempts_without_outgrowing_the_bound()
    {
        var history = new EntityHistory();
        for (var i = 0; i < EntityHistory.MaxRecentEntries; i++)
        {
            history.Record(Attempt(Noon + TimeSpan.FromSeconds(i)));
        }
        var copy = history.Clone();
        copy.Record(Attempt(Noon + TimeSpan.FromSeconds(1_000)));
        for (var i = 0; i < 100; i++)
        {
            history.Record(Attempt(Noon + TimeSpan.FromSeconds(2_000 + i)));
        }

        // The bound holds for the array too: no doubling to 1,024 entries on the attempt after a copy or in place.
        Assert.Equal(EntityHistory.MaxRecentEntries, copy.Recent.Capacity);
        Assert.Equal(EntityHistory.MaxRecentEntries, history.Recent.Capacity);
        Assert.Equal(EntityHistory.MaxRecentEntries, copy.Recent.Count);
        Assert.Equal(Noon + TimeSpan.FromSeconds(1), copy.Recent[0].At);
        Assert.Equal(Noon + TimeSpan.FromSeconds(1_000), copy.Recent[^1].At);
        Assert.Equal(Noon + TimeSpan.FromSeconds(2_099), history.Recent[^1].At);
        Assert.Equal(Noon + TimeSpan.FromSeconds(100), history.Recent[0].At);
    }

    [Fact]
    public void An_attempt_older_than_every_entry_of_a_full_history_is_counted_but_not_kept()
    {
        var history = new EntityHistory();
        for (var i = 0; i < EntityHistory.MaxRecentEntries; i++)
        {
            history.Record(Attempt(Noon + TimeSpan.FromSeconds(i), card: "c-new"));
        }
        var before = history.Recent.ToArray();

        history.Record(Attempt(Noon - TimeSpan.FromSeconds(1), card: "c-old"));
        Assert.Equal(before, history.Recent);
        Assert.Equal(EntityHistory.MaxRecentEntries + 1, history.Attempts);
        Assert.Equal(["c-old", "c-new"], history.KnownCards);

        // One between the oldest kept and the next goes in as the oldest, and the oldest goes.
        history.Record(Attempt(Noon + TimeSpan.FromSeconds(0.5), card: "c-mid"));
        Assert.Equal(EntityHistory.MaxRecentEntries, history.Recent.Count);
        Assert.Equal(Noon + TimeSpan.FromSeconds(0.5), history.Recent[0].At);
        Assert.Equal(Noon + TimeSpan.FromSeconds(1), history.Recent[1].At);
    }

    [Fact]
    public void The_mean_counts_approved_amounts_only()
    {
        var history = new EntityHistory();
        Assert.Null(history.MeanApprovedAmountUsdMinor);
        history.Record(Attempt(Noon, amountUsdMinor: 1_000));
        history.Record(Attempt(Noon, amountUsdMinor: 3_000));
        history.Record(Attempt(Noon, amountUsdMinor: 90_000, outcome: RiskOutcome.Declined));

        Assert.Equal(2_000, history.MeanApprovedAmountUsdMinor);
    }

    [Fact]
    public void Known_devices_keep_the_most_recent_ones_first_and_are_bounded()
    {
        var history = new EntityHistory();
        for (var i = 0; i < EntityHistory.MaxKnownKeys + 1; i++)
        {
            history.Record(Attempt(Noon, device: $"d-{i}"));
        }
        history.Record(Attempt(Noon, device: "d-5"));

        Assert.Equal(EntityHistory.MaxKnownKeys, history.KnownDevices.Count);
        Assert.Equal("d-5", history.KnownDevices[0]);
        Assert.DoesNotContain("d-0", history.KnownDevices);
    }

    [Fact]
    public void Distinct_cards_count_the_current_card_and_those_in_the_window()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - TimeSpan.FromHours(24), card: "c-old")); // exactly 24 h old: outside
        history.Record(Attempt(Noon - TimeSpan.FromHours(2), card: "c-1"));
        history.Record(Attempt(Noon - TimeSpan.FromHours(1), card: "c-1"));
        history.Record(Attempt(Noon - TimeSpan.FromMinutes(1), card: "c-2"));

        Assert.Equal(2, history.DistinctCards(Noon, TimeSpan.FromHours(24), "c-2"));
        Assert.Equal(3, history.DistinctCards(Noon, TimeSpan.FromHours(24), "c-3"));
    }
}
