namespace Orleans.Trade.Wallets;

/// <summary>How escrow is split at release (configuration section <c>Settlement</c>).</summary>
public sealed class SettlementOptions
{
    /// <summary>Platform commission in basis points of the goods value, unless the category has its own rate.</summary>
    public int DefaultCommissionRateBps { get; set; } = 800;

    /// <summary>Commission per SKU category, in basis points.</summary>
    public Dictionary<string, int> CategoryCommissionRateBps { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Logistics fee in basis points of the goods value, kept by the platform for the carrier.</summary>
    public int LogisticsFeeBps { get; set; }

    /// <summary>T+N: days after release that a seller's pending money becomes available, unless the seller chose otherwise.</summary>
    public int DefaultCycleDays { get; set; } = 7;

    /// <summary>How often a seller ledger looks for pending money that has become due.</summary>
    public TimeSpan MaturityCheckPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A seller ledger stores a snapshot of its books after this many new transfers, so activation replays fewer; books holding
    /// more than four times as many items (accounts, orders) wait for a quarter as many transfers as they hold
    /// (<see cref="SellerBooks.SnapshotDue"/>).
    /// </summary>
    public int LedgerSnapshotEveryTransfers { get; set; } = 1_000;

    /// <summary>
    /// A seller ledger archives an order this long after its creation once its money is settled (released and matured, or voided,
    /// or refunded in full before release): the order leaves the books in memory and their snapshots, and is taken back from its
    /// stored transfers if anything happens to it later (a late refund), so this sets what a ledger keeps at hand, not what it
    /// allows.
    /// </summary>
    public TimeSpan LedgerArchiveOrdersAfter { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// Whether seller ledgers archive settled orders at all. Off while a cluster is updated from a release without archiving,
    /// until every silo runs this one: a silo of the previous release cannot take an archived order back (it would refuse a
    /// late refund of one as exceeding what was paid, or fail to activate a ledger whose later transfers touch one).
    /// </summary>
    public bool LedgerArchiveEnabled { get; set; } = true;

    /// <summary>
    /// Whether seller ledgers store their snapshots in binary form (<see cref="SellerBooksBinary"/>: less than half the size of
    /// the JSON form, and faster both ways). Off while a cluster is updated from a release that reads JSON snapshots only,
    /// until every silo runs this one; snapshots of either form restore.
    /// </summary>
    public bool LedgerBinarySnapshots { get; set; } = true;

    /// <summary>How often, in business time, a seller ledger looks for orders to archive (at activation, then on its maturity checks).</summary>
    public TimeSpan LedgerArchivePassEvery { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// What makes these settings unusable, or null: a commission or logistics rate outside 0 to 10,000 basis points, a commission
    /// and logistics fee together above the goods value, or a default cycle outside T+1 to T+30. With such a split every escrow
    /// release of the orders it applies to is refused and retried for ever (the seller is never paid), so the silo does not start.
    /// </summary>
    public string? Problem()
    {
        if (LogisticsFeeBps is < 0 or > SettlementSplit.MaxRateBps)
        {
            return $"Settlement:LogisticsFeeBps must be 0 to {SettlementSplit.MaxRateBps} basis points; got {LogisticsFeeBps}.";
        }
        foreach (var (key, rate) in CategoryCommissionRateBps.Select(c => ($"CategoryCommissionRateBps:{c.Key}", c.Value))
            .Prepend(("DefaultCommissionRateBps", DefaultCommissionRateBps)))
        {
            if (rate is < 0 or > SettlementSplit.MaxRateBps)
            {
                return $"Settlement:{key} must be 0 to {SettlementSplit.MaxRateBps} basis points; got {rate}.";
            }
            if (rate + LogisticsFeeBps > SettlementSplit.MaxRateBps)
            {
                return $"Settlement:{key} ({rate}) and Settlement:LogisticsFeeBps ({LogisticsFeeBps}) together take more than the goods value "
                    + $"({SettlementSplit.MaxRateBps} basis points): no release could pay the seller.";
            }
        }
        if (DefaultCycleDays is < SettlementCycle.MinDays or > SettlementCycle.MaxDays)
        {
            return $"Settlement:DefaultCycleDays must be {SettlementCycle.MinDays} to {SettlementCycle.MaxDays} (T+1 to T+30); got {DefaultCycleDays}.";
        }
        return MaturityCheckPeriod > TimeSpan.Zero ? null : $"Settlement:MaturityCheckPeriod must be positive; got {MaturityCheckPeriod}.";
    }

    public int RateFor(string? category) =>
        category is not null && CategoryCommissionRateBps.TryGetValue(category, out var rate) ? rate : DefaultCommissionRateBps;
}
