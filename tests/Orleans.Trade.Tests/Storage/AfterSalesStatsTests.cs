using Npgsql;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// The after-sales columns of the order rows and the counts read from them (R-DAT-4), on both databases: written with the order's
/// own row only when it has an after-sales fact, kept by later writes of other orders and never moved back by an older write; paid
/// orders of the window counted, unpaid and cancelled ones not; buyers who ordered before the window found.
/// </summary>
public sealed class AfterSalesStatsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static OrderOutbox Row(string orderId, long version, OrderStatus status, string sellerId = "s-1", string buyerId = "b-1",
        DateTimeOffset? created = null, bool late = false, long? refunded = null, DateTimeOffset? disputeOpened = null,
        DateTimeOffset? disputeResolved = null, string? outcome = null, bool? returned = null) =>
        new(new OrderSummary(orderId, buyerId, sellerId, status, new Money(100, "USD"), new Money(100, "USD"), 1, OrderSource.Checkout, late,
            created ?? T0.AddHours(1), T0.AddMinutes(version), version, RefundedMinor: refunded, DisputeOpenedAt: disputeOpened,
            DisputeResolvedAt: disputeResolved, DisputeOutcome: outcome, Returned: returned), [], []);

    private static async Task WriteAsync(TradeDatabase database, params OrderOutbox[] outboxes)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await new SqlOrderStore(database).WriteAsync(connection, transaction, outboxes, CancellationToken.None);
        await transaction.CommitAsync();
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task A_windows_paid_orders_are_counted_per_seller_with_their_after_sales_facts_and_buyers(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "aftersales");
        await using var _ = database;
        var store = new SqlOrderStore(database);

        // Before the window, b-1's order of s-1; in it, paid orders of s-1 and s-2, an unpaid one and a cancelled one.
        await WriteAsync(database, Row("o-0", 1, OrderStatus.Completed, created: T0.AddDays(-1)), Row("o-1", 1, OrderStatus.AwaitingShipment),
            Row("o-2", 1, OrderStatus.AwaitingShipment, buyerId: "b-2"), Row("o-3", 1, OrderStatus.AwaitingPayment, buyerId: "b-3"),
            Row("o-4", 1, OrderStatus.Cancelled), Row("o-5", 1, OrderStatus.Paid, sellerId: "s-2"), Row("o-6", 1, OrderStatus.Paid, sellerId: "s-2"));
        // o-1 is refunded, disputed and lost 12 hours later, and returned, in a batch with another order's plain change.
        await WriteAsync(database, Row("o-1", 2, OrderStatus.Completed, refunded: 300, disputeOpened: T0.AddHours(2), disputeResolved: T0.AddHours(14),
            outcome: "partialRefund", returned: true), Row("o-2", 2, OrderStatus.Shipped, buyerId: "b-2", late: true));
        // An older write of o-1 (a late batch) and later writes without after-sales rows change none of o-1's figures.
        await WriteAsync(database, Row("o-1", 1, OrderStatus.AwaitingShipment));
        await WriteAsync(database, Row("o-2", 3, OrderStatus.Delivered, buyerId: "b-2", late: true));
        // s-2's order has an open dispute, and one withdrawn is neither resolved nor open.
        await WriteAsync(database, Row("o-5", 2, OrderStatus.Shipped, sellerId: "s-2", refunded: 0, disputeOpened: T0.AddHours(3), returned: false),
            Row("o-6", 2, OrderStatus.Shipped, sellerId: "s-2", refunded: 0, disputeOpened: T0.AddHours(3), disputeResolved: T0.AddHours(4),
                outcome: DisputeOutcomes.Withdrawn, returned: false));

        var stats = (await store.ServiceStatsAsync(T0, T0.AddDays(1), null, CancellationToken.None)).ToDictionary(s => s.SellerId);
        var s1 = stats["s-1"];
        Assert.Equal(2, s1.Orders);
        Assert.Equal(1, s1.Refunded);
        Assert.Equal((200L, 300L), s1.Amounts["USD"]);
        Assert.Equal(1, s1.Disputes);
        Assert.Equal(1, s1.DisputesLost);
        Assert.Equal(1, s1.Returns);
        Assert.Equal(1, s1.Late);
        Assert.Equal((T0.AddHours(2), T0.AddHours(14)), Assert.Single(s1.Resolved));
        Assert.Empty(s1.Open);
        var s2 = stats["s-2"];
        Assert.Equal((2L, 0L, 2L, 0L), (s2.Orders, s2.Refunded, s2.Disputes, s2.DisputesLost));
        Assert.Empty(s2.Resolved);
        Assert.Equal(T0.AddHours(3), Assert.Single(s2.Open));
        Assert.Equal(["s-2"], (await store.ServiceStatsAsync(T0, T0.AddDays(1), "s-2", CancellationToken.None)).Select(s => s.SellerId));
        Assert.Empty(await store.ServiceStatsAsync(T0.AddDays(1), T0.AddDays(2), null, CancellationToken.None));

        var retention = await store.RetentionAsync(T0, T0.AddDays(1), null, CancellationToken.None);
        Assert.Equal((4L, 2L, 1L, 1L), (retention.Totals.Orders, retention.Totals.Buyers, retention.Totals.RepeatBuyers, retention.Totals.ReturningBuyers));
        var (seller, counts) = retention.Sellers[0];
        Assert.Equal("s-1", seller);
        Assert.Equal((2L, 2L, 0L, 1L), (counts.Orders, counts.Buyers, counts.RepeatBuyers, counts.ReturningBuyers));
        // b-1 bought from s-1 before, never from s-2: returning to the platform, new to s-2, and a repeat buyer there.
        var (_, s2Counts) = retention.Sellers[1];
        Assert.Equal((2L, 1L, 1L, 0L), (s2Counts.Orders, s2Counts.Buyers, s2Counts.RepeatBuyers, s2Counts.ReturningBuyers));
        var ofS2 = await store.RetentionAsync(T0, T0.AddDays(1), "s-2", CancellationToken.None);
        Assert.Equal((1L, 1L, 0L), (ofS2.Totals.Buyers, ofS2.Totals.RepeatBuyers, ofS2.Totals.ReturningBuyers));
    }

    [Fact]
    public void A_batch_without_after_sales_rows_writes_none_of_their_columns()
    {
        var store = new SqlOrderStore(null!);
        using var connection = new NpgsqlConnection();
        string Sql(params OrderOutbox[] rows) => store.PostgresStatements(connection, rows, rowsAreNew: true)[0].CommandText;

        Assert.DoesNotContain("refunded_minor", Sql(Row("o-1", 1, OrderStatus.Paid), Row("o-2", 1, OrderStatus.Paid)));
        Assert.Contains("refunded_minor", Sql(Row("o-1", 1, OrderStatus.Paid), Row("o-2", 2, OrderStatus.Completed, refunded: 0, returned: true)));
    }
}
