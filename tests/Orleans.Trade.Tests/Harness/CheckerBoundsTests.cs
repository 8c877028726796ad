using Orleans.Trade.Benchmarks.Scenarios;

namespace Orleans.Trade.Tests.Harness;

/// <summary>
/// The benchmark checker's arithmetic: it must fail a run that a broken product could otherwise pass, e.g. units sold to
/// requests it refused once one request went unanswered, or bulk updates wrongly answered stale.
/// </summary>
public sealed class CheckerBoundsTests
{
    [Theory]
    [InlineData(100, 100, 0, true)]
    [InlineData(101, 100, 0, false)]
    [InlineData(99, 100, 0, false)]
    [InlineData(100, 100, 3, true)]
    [InlineData(103, 100, 3, true)]
    [InlineData(104, 100, 3, false)] // more than one unit per unanswered request: work done for refused requests
    [InlineData(99, 100, 3, false)]  // an acknowledged order lost
    public void Units_and_orders_may_exceed_the_acknowledged_by_at_most_one_per_unanswered_request(long actual, long acked, long unanswered, bool matches) =>
        Assert.Equal(matches, CheckerBounds.Matches(actual, acked, unanswered));

    private static long OnHand(long version) => version <= 1 ? 1_000 : 1_000 + version;

    [Fact]
    public void A_sku_holds_the_newest_version_sent_when_every_request_was_answered()
    {
        Assert.Null(CheckerBounds.BulkSyncWrong(5, 1_005, 5, 4, 5, everyRequestAnswered: true, OnHand));
        // Every update of the SKU answered stale without being stored: the seeded version is still there.
        Assert.NotNull(CheckerBounds.BulkSyncWrong(1, 1_000, 0, 5, 5, everyRequestAnswered: true, OnHand));
        // The newest update sent was lost although its request was answered (its item not in the answer's counts).
        Assert.Contains("not the newest sent", CheckerBounds.BulkSyncWrong(4, 1_004, 4, 3, 5, everyRequestAnswered: true, OnHand));
    }

    [Fact]
    public void A_version_answered_stale_must_be_at_or_below_the_stored_one()
    {
        // Requests failed, so the newest sent need not be stored, but version 4 was answered stale while 3 is stored.
        Assert.Contains("answered stale", CheckerBounds.BulkSyncWrong(3, 1_003, 3, 4, 5, everyRequestAnswered: false, OnHand));
        Assert.Null(CheckerBounds.BulkSyncWrong(4, 1_004, 3, 4, 5, everyRequestAnswered: false, OnHand));
    }

    [Fact]
    public void A_sku_holds_at_least_its_newest_applied_and_the_on_hand_its_version_set()
    {
        Assert.Contains("answered applied", CheckerBounds.BulkSyncWrong(2, 1_002, 3, 0, 5, everyRequestAnswered: false, OnHand));
        Assert.Contains("onHand", CheckerBounds.BulkSyncWrong(5, 1_004, 5, 0, 5, everyRequestAnswered: true, OnHand));
        Assert.Contains("above the newest sent", CheckerBounds.BulkSyncWrong(6, 1_006, 5, 0, 5, everyRequestAnswered: false, OnHand));
        Assert.Null(CheckerBounds.BulkSyncWrong(1, 1_000, 0, 0, 1, everyRequestAnswered: true, OnHand));
    }
}
