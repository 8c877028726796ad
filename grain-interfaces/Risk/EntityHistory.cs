namespace Orleans.Trade.Risk;

/// <summary>One past attempt as an entity's history keeps it: enough for 24-hour counts, sums, declines and distinct cards.</summary>
[GenerateSerializer, Immutable]
public readonly record struct HistoryEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] long AmountUsdMinor,
    [property: Id(2)] bool Declined,
    [property: Id(3)] string CardFingerprint);

/// <summary>
/// What the risk model remembers about one buyer, card, device, IP address or shipping address: the attempts of the last
/// 24 hours, first and last sight, a running mean of approved amounts, and the most recent devices, addresses and cards it
/// was used with. Pure and bounded: a grain keeps it in its state and records every attempt into it.
/// </summary>
/// <remarks>
/// Windows: an entry at time <c>a</c> is inside the window of length <c>w</c> seen at time <c>t</c> when <c>t − w &lt; a ≤ t</c>.
/// An attempt exactly one hour old is outside the one-hour window; one at the same instant is inside; one later than
/// <c>t</c> is outside. At most <see cref="MaxRecentEntries"/> entries are kept (the oldest go first), so window counts
/// saturate there.
/// </remarks>
[GenerateSerializer]
public sealed class EntityHistory
{
    /// <summary>The longest window any feature uses; older entries are dropped when an attempt is recorded.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>The two windows <see cref="Facts"/> counts (the features' hour and day).</summary>
    public static readonly TimeSpan OneHour = TimeSpan.FromHours(1);
    public static readonly TimeSpan OneDay = TimeSpan.FromHours(24);

    /// <summary>Entries kept within <see cref="Retention"/>: a card-testing burst fits many times over.</summary>
    public const int MaxRecentEntries = 512;

    /// <summary>Distinct devices, addresses and cards remembered per entity (most recently used first).</summary>
    public const int MaxKnownKeys = 16;

    /// <summary>Attempts within <see cref="Retention"/> of the latest one, oldest first.</summary>
    [Id(0)] public List<HistoryEntry> Recent { get; set; } = [];
    [Id(1)] public DateTimeOffset? FirstSeen { get; set; }
    [Id(2)] public DateTimeOffset? LastSeen { get; set; }
    /// <summary>Every attempt ever recorded, approved or declined.</summary>
    [Id(3)] public long Attempts { get; set; }
    [Id(4)] public long ApprovedCount { get; set; }
    [Id(5)] public long ApprovedAmountUsdMinor { get; set; }
    [Id(6)] public List<string> KnownDevices { get; set; } = [];
    [Id(7)] public List<string> KnownAddresses { get; set; } = [];
    [Id(8)] public List<string> KnownCards { get; set; } = [];

    /// <summary>Mean of approved amounts in US cents, or null before the first approved attempt.</summary>
    public double? MeanApprovedAmountUsdMinor => ApprovedCount == 0 ? null : (double)ApprovedAmountUsdMinor / ApprovedCount;

    /// <summary>Adds an attempt. Call it after the attempt was scored: features read the history as it was before.</summary>
    public void Record(RiskEvent attempt)
    {
        var at = attempt.OccurredAt;
        var cutoff = at - Retention;
        // Entries at or before the cutoff can never fall inside a window seen at or after this attempt. The list is sorted
        // oldest first, so they are a prefix: no scan of the whole list (up to 512 entries) on every attempt.
        var stale = 0;
        while (stale < Recent.Count && Recent[stale].At <= cutoff)
        {
            stale++;
        }
        if (stale > 0)
        {
            Recent.RemoveRange(0, stale);
        }
        var entry = new HistoryEntry(at, attempt.AmountUsdMinor, attempt.Outcome == RiskOutcome.Declined, attempt.CardFingerprint);
        var index = Recent.Count;
        while (index > 0 && Recent[index - 1].At > at)
        {
            index--; // attempts may arrive slightly out of order; keep the list sorted by time
        }
        // A full list drops its oldest entries before the new one comes in, so it never outgrows its bound: inserting first
        // would double its array (about 20 KB at 512 entries) on every attempt recorded into a fresh copy. An attempt older than
        // all it would keep is counted below but not kept, as if inserted and dropped.
        var keep = true;
        var overflow = Recent.Count + 1 - MaxRecentEntries;
        if (overflow > 0)
        {
            keep = index >= overflow;
            var dropped = keep ? overflow : overflow - 1;
            Recent.RemoveRange(0, dropped);
            index -= dropped;
        }
        if (keep)
        {
            Recent.Insert(index, entry);
        }
        FirstSeen = FirstSeen is { } first && first <= at ? first : at;
        LastSeen = LastSeen is { } last && last >= at ? last : at;
        Attempts++;
        if (attempt.Outcome == RiskOutcome.Approved)
        {
            ApprovedCount++;
            ApprovedAmountUsdMinor += attempt.AmountUsdMinor;
        }
        Remember(KnownDevices, attempt.DeviceFingerprint);
        Remember(KnownAddresses, attempt.ShippingAddressKey);
        Remember(KnownCards, attempt.CardFingerprint);
    }

    /// <summary>
    /// What <paramref name="current"/>'s features read from this history as it is before the attempt: the last hour's and the
    /// last 24 hours' attempts, amounts and declines in one pass (windows as in the remarks above), the distinct cards of the
    /// last 24 hours counting the attempt's own, only when asked (0 otherwise), and whether the attempt's card, device and
    /// address are known. A few dozen bytes, so a profile grain answers with these instead of handing out (or copying) up to
    /// <see cref="MaxRecentEntries"/> entries for each payment.
    /// </summary>
    public EntityFacts Facts(RiskEvent current, bool countDistinctCards) => Facts(current, countDistinctCards, []);

    /// <summary>
    /// <see cref="Facts(RiskEvent, bool)"/>, counting also <paramref name="pending"/>: attempts scored but whose outcome is not
    /// known yet (a provider's answer, a 3-D Secure challenge, an analyst's decision), as attempts and amounts of their windows
    /// (not declines, not yet) and among the distinct cards and all attempts. Without them, payments sent at once all read the
    /// history before any of them was recorded, and got past a velocity cap together.
    /// </summary>
    public EntityFacts Facts(RiskEvent current, bool countDistinctCards, IReadOnlyCollection<HistoryEntry> pending)
    {
        var at = current.OccurredAt;
        var hourFrom = at - OneHour;
        var dayFrom = at - OneDay;
        int hourAttempts = 0, hourDeclines = 0, dayAttempts = 0, dayDeclines = 0;
        long hourAmount = 0, dayAmount = 0;
        // Distinct cards without a set while every entry has the attempt's own card (the usual case).
        HashSet<string>? cards = null;
        // Newest first: the list is sorted by time, so the first entry at or before the day's start ends the walk.
        for (var i = Recent.Count - 1; i >= 0; i--)
        {
            var e = Recent[i];
            if (e.At <= dayFrom)
            {
                break;
            }
            if (e.At <= at)
            {
                Count(e);
            }
        }
        foreach (var e in pending)
        {
            // Reserved before this attempt, so counted even when its clock read a moment later (payments scored at once); not
            // decided yet, so never a decline.
            if (e.At > dayFrom)
            {
                Count(e);
            }
        }
        return new EntityFacts(
            new WindowSummary(hourAttempts, hourAmount, hourDeclines),
            new WindowSummary(dayAttempts, dayAmount, dayDeclines),
            countDistinctCards ? cards?.Count ?? 1 : 0,
            Attempts + pending.Count,
            MeanApprovedAmountUsdMinor,
            FirstSeen,
            LastSeen,
            KnownCards.Contains(current.CardFingerprint),
            KnownDevices.Contains(current.DeviceFingerprint),
            KnownAddresses.Contains(current.ShippingAddressKey));

        // One attempt inside the day's window: its hour's and day's counts, amounts and declines, and its card.
        void Count(HistoryEntry e)
        {
            dayAttempts++;
            dayAmount += e.AmountUsdMinor;
            dayDeclines += e.Declined ? 1 : 0;
            if (e.At > hourFrom)
            {
                hourAttempts++;
                hourAmount += e.AmountUsdMinor;
                hourDeclines += e.Declined ? 1 : 0;
            }
            if (countDistinctCards && (cards is not null || !string.Equals(e.CardFingerprint, current.CardFingerprint, StringComparison.Ordinal)))
            {
                (cards ??= new HashSet<string>(StringComparer.Ordinal) { current.CardFingerprint }).Add(e.CardFingerprint);
            }
        }
    }

    private static void Remember(List<string> known, string key)
    {
        known.Remove(key);
        known.Insert(0, key);
        if (known.Count > MaxKnownKeys)
        {
            known.RemoveAt(known.Count - 1);
        }
    }
}

/// <summary>Counts and sums of one history over one window.</summary>
[GenerateSerializer, Immutable]
public readonly record struct WindowSummary([property: Id(0)] int Attempts, [property: Id(1)] long AmountUsdMinor, [property: Id(2)] int Declines);

/// <summary>What one attempt's features read from one entity's history (<see cref="EntityHistory.Facts"/>), as it was before the attempt.</summary>
[GenerateSerializer, Immutable]
public readonly record struct EntityFacts(
    [property: Id(0)] WindowSummary LastHour,
    [property: Id(1)] WindowSummary LastDay,
    // Distinct cards of the last 24 hours, the attempt's own counted; 0 when not asked for.
    [property: Id(2)] int DistinctCardsLastDay,
    [property: Id(3)] long Attempts,
    [property: Id(4)] double? MeanApprovedAmountUsdMinor,
    [property: Id(5)] DateTimeOffset? FirstSeen,
    [property: Id(6)] DateTimeOffset? LastSeen,
    [property: Id(7)] bool KnowsCard,
    [property: Id(8)] bool KnowsDevice,
    [property: Id(9)] bool KnowsAddress);
