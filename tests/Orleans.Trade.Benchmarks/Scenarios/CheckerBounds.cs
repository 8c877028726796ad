namespace Orleans.Trade.Benchmarks.Scenarios;

/// <summary>
/// The checker's arithmetic, apart from the reads that feed it (compiled into the tests too): what a count may be when some
/// requests ended without an answer, and what a SKU must hold after a bulk sync.
/// </summary>
public static class CheckerBounds
{
    /// <summary>
    /// A count the product made (units in orders, live orders) against what it acknowledged: equal when every request was
    /// answered; otherwise each unanswered request may have done its one unit's work or not, so at least the acknowledged and at
    /// most one more per unanswered request (<paramref name="perRequest"/> each). Anything above is work done for requests the
    /// product refused or never received: a unit or an order nobody was told about.
    /// </summary>
    public static bool Matches(long actual, long acknowledged, long unansweredRequests, long perRequest = 1) =>
        unansweredRequests == 0
            ? actual == acknowledged
            : actual >= acknowledged && actual <= acknowledged + unansweredRequests * perRequest;

    /// <summary>
    /// What is wrong with one SKU after a bulk sync, or null. Versions only grow, so the SKU holds at least its newest update
    /// answered applied, never less than a version answered stale (stale means an equal or newer one was stored), and never more
    /// than the newest sent. When every request was answered 200, the newest version sent cannot have been stale, so the SKU
    /// holds exactly that one. On hand is always what the stored version set (<paramref name="onHandOf"/>). The seeding counts as
    /// sent and applied: <paramref name="newestSent"/> is at least its version.
    /// </summary>
    public static string? BulkSyncWrong(long storedVersion, long storedOnHand, long newestApplied, long newestStale, long newestSent,
        bool everyRequestAnswered, Func<long, long> onHandOf)
    {
        if (storedOnHand != onHandOf(storedVersion))
        {
            return $"onHand {storedOnHand} is not what version {storedVersion} set ({onHandOf(storedVersion)})";
        }
        if (storedVersion < newestApplied)
        {
            return $"version {storedVersion}, below version {newestApplied} answered applied";
        }
        if (storedVersion < newestStale)
        {
            return $"version {storedVersion}, below version {newestStale} answered stale (stale means a newer one was stored)";
        }
        if (storedVersion > newestSent)
        {
            return $"version {storedVersion}, above the newest sent ({newestSent})";
        }
        if (everyRequestAnswered && storedVersion != newestSent)
        {
            return $"version {storedVersion}, not the newest sent ({newestSent}) although every request was answered";
        }
        return null;
    }
}
