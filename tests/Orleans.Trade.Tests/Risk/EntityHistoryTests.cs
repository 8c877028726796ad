using Orleans.Trade.Risk;
using static Orleans.Trade.Tests.Risk.RiskTestData;

namespace Orleans.Trade.Tests.Risk;

public sealed class EntityHistoryTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void Facts_count_what_a_plain_scan_of_the_windows_counts_on_random_histories()
    {
        var random = new Random(20261205);
        for (var round = 0; round < 200; round++)
        {
            var history = new EntityHistory();
            var recorded = random.Next(0, 700); // past the bound of 512 in some rounds
            for (var i = 0; i < recorded; i++)
            {
                // Spread over 30 hours, whole minutes (so entries fall exactly on window edges), some out of order.
                var at = Noon - TimeSpan.FromMinutes(random.Next(0, 30 * 60));
                history.Record(Attempt(at, amountUsdMinor: random.Next(100, 20_000),
                    outcome: random.Next(5) == 0 ? RiskOutcome.Declined : RiskOutcome.Approved,
                    card: $"c-{random.Next(4)}", device: $"d-{random.Next(20)}", address: $"a-{random.Next(20)}"));
            }
            // Seen at times inside, at the end of and before the recorded span (later entries count in no window).
            var seenAt = Noon - TimeSpan.FromMinutes(random.Next(-30, 10 * 60));
            var current = Attempt(seenAt, card: $"c-{random.Next(6)}", device: $"d-{random.Next(25)}", address: $"a-{random.Next(25)}");

            var facts = history.Facts(current, countDistinctCards: true);

            Assert.Equal(Window(history, seenAt, Hour), facts.LastHour);
            Assert.Equal(Window(history, seenAt, TimeSpan.FromHours(24)), facts.LastDay);
            Assert.Equal(DistinctCards(history, seenAt, TimeSpan.FromHours(24), current.CardFingerprint), facts.DistinctCardsLastDay);
            Assert.Equal(history.Attempts, facts.Attempts);
            Assert.Equal(history.MeanApprovedAmountUsdMinor, facts.MeanApprovedAmountUsdMinor);
            Assert.Equal(history.FirstSeen, facts.FirstSeen);
            Assert.Equal(history.LastSeen, facts.LastSeen);
            Assert.Equal(history.KnownCards.Contains(current.CardFingerprint), facts.KnowsCard);
            Assert.Equal(history.KnownDevices.Contains(current.DeviceFingerprint), facts.KnowsDevice);
            Assert.Equal(history.KnownAddresses.Contains(current.ShippingAddressKey), facts.KnowsAddress);
            Assert.Equal(0, history.Facts(current, countDistinctCards: false).DistinctCardsLastDay);
        }
    }

    [Fact]
    public void Facts_of_a_history_that_saw_only_the_attempts_card_count_one_card_and_know_it()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - Hour * 2, card: "c-1", device: "d-1", address: "a-1"));
        history.Record(Attempt(Noon - Hour / 2, amountUsdMinor: 9_000, outcome: RiskOutcome.Declined, card: "c-1", device: "d-2"));

        var facts = history.Facts(Attempt(Noon, card: "c-1", device: "d-3", address: "a-1"), countDistinctCards: true);

        Assert.Equal(new WindowSummary(1, 9_000, 1), facts.LastHour);
        Assert.Equal(new WindowSummary(2, 14_000, 1), facts.LastDay);
        Assert.Equal(1, facts.DistinctCardsLastDay);
        Assert.Equal(2, facts.Attempts);
        Assert.True(facts.KnowsCard);
        Assert.False(facts.KnowsDevice);
        Assert.True(facts.KnowsAddress);
        Assert.Equal(2, history.Facts(Attempt(Noon, card: "c-9"), countDistinctCards: true).DistinctCardsLastDay);
        Assert.False(history.Facts(Attempt(Noon, card: "c-9"), countDistinctCards: true).KnowsCard);
    }

    [Fact]
    public void An_attempt_exactly_one_hour_old_is_outside_the_one_hour_window()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - Hour));

        Assert.Equal(0, LastHourAt(history, Noon).Attempts);
        Assert.Equal(1, LastHourAt(history, Noon - TimeSpan.FromTicks(1)).Attempts);
    }

    [Fact]
    public void An_attempt_a_tick_under_one_hour_old_is_inside()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - Hour + TimeSpan.FromTicks(1)));

        Assert.Equal(1, LastHourAt(history, Noon).Attempts);
    }

    [Fact]
    public void An_attempt_at_the_same_instant_is_inside_and_a_later_one_outside()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon));
        history.Record(Attempt(Noon + TimeSpan.FromSeconds(1)));

        Assert.Equal(1, LastHourAt(history, Noon).Attempts);
    }

    [Fact]
    public void The_24_hour_window_has_the_same_edges()
    {
        var history = new EntityHistory();
        history.Record(Attempt(Noon - TimeSpan.FromHours(24), amountUsdMinor: 100, outcome: RiskOutcome.Declined));
        history.Record(Attempt(Noon - TimeSpan.FromHours(24) + TimeSpan.FromTicks(1), amountUsdMinor: 250, outcome: RiskOutcome.Declined));
        history.Record(Attempt(Noon - TimeSpan.FromMinutes(30), amountUsdMinor: 1_000));

        var day = history.Facts(Attempt(Noon), countDistinctCards: false).LastDay;

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
    public void A_full_history_takes_attempts_in_place_without_outgrowing_the_bound()
    {
        var history = new EntityHistory();
        for (var i = 0; i < EntityHistory.MaxRecentEntries + 100; i++)
        {
            history.Record(Attempt(Noon + TimeSpan.FromSeconds(i)));
        }
        var entries = history.Recent;

        history.Record(Attempt(Noon + TimeSpan.FromSeconds(2_000)));

        // The same list, and its array not doubled to 1,024 entries: a profile grain records every payment into it.
        Assert.Same(entries, history.Recent);
        Assert.Equal(EntityHistory.MaxRecentEntries, history.Recent.Capacity);
        Assert.Equal(EntityHistory.MaxRecentEntries, history.Recent.Count);
        Assert.Equal(Noon + TimeSpan.FromSeconds(101), history.Recent[0].At);
        Assert.Equal(Noon + TimeSpan.FromSeconds(2_000), history.Recent[^1].At);
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

        Assert.Equal(2, history.Facts(Attempt(Noon, card: "c-2"), countDistinctCards: true).DistinctCardsLastDay);
        Assert.Equal(3, history.Facts(Attempt(Noon, card: "c-3"), countDistinctCards: true).DistinctCardsLastDay);
    }

    private static WindowSummary LastHourAt(EntityHistory history, DateTimeOffset at) =>
        history.Facts(Attempt(at), countDistinctCards: false).LastHour;

    /// <summary>The reference the facts are checked against: every entry with <c>at − window &lt; entry ≤ at</c>, by a plain scan.</summary>
    private static WindowSummary Window(EntityHistory history, DateTimeOffset at, TimeSpan window)
    {
        var inside = history.Recent.Where(e => e.At > at - window && e.At <= at).ToList();
        return new WindowSummary(inside.Count, inside.Sum(e => e.AmountUsdMinor), inside.Count(e => e.Declined));
    }

    private static int DistinctCards(EntityHistory history, DateTimeOffset at, TimeSpan window, string currentCard) =>
        history.Recent.Where(e => e.At > at - window && e.At <= at).Select(e => e.CardFingerprint).Append(currentCard).Distinct().Count();
}
