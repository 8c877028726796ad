using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// The tracking-number lookup a carrier's feed reads (R-LOG-5), on both databases: written with the order's own row, moved by a
/// correction and never moved back by an older write, one carrier's numbers apart from another's, and bounded per number.
/// </summary>
public sealed class TrackedOrdersTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static OrderOutbox Row(string orderId, long version, OrderStatus status, string? carrier = null, string? tracking = null,
        string sellerId = "s-1", ServiceTicket? ticket = null) =>
        new(new OrderSummary(orderId, "b-1", sellerId, status, new Money(100, "USD"), new Money(100, "USD"), 1, OrderSource.Checkout, false,
            T0, T0.AddMinutes(version), version, carrier, tracking), [], ticket is null ? [] : [ticket]);

    private static async Task WriteAsync(TradeDatabase database, params OrderOutbox[] outboxes)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await new SqlOrderStore(database).WriteAsync(connection, transaction, outboxes, CancellationToken.None);
        await transaction.CommitAsync();
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task A_tracking_number_finds_the_orders_its_carrier_shipped_under_it_as_they_were_last_written(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "tracked");
        await using var _ = database;
        var store = new SqlOrderStore(database);
        async Task<string[]> Found(string carrier, int perKey, params string[] keys) =>
            (await store.TrackedOrdersAsync(carrier, keys, perKey, CancellationToken.None)).Select(t => $"{t.TrackingKey}:{t.OrderId}").Order().ToArray();

        // Placed (no shipment), shipped in one batch with another order's change, a combined parcel, another carrier's number.
        await WriteAsync(database, Row("o-1", 1, OrderStatus.AwaitingShipment), Row("o-2", 1, OrderStatus.AwaitingShipment));
        await WriteAsync(database, Row("o-1", 2, OrderStatus.Shipped, "dhl", "JD1"), Row("o-2", 2, OrderStatus.Paid),
            Row("o-3", 2, OrderStatus.Shipped, "dhl", "JD3"), Row("o-4", 2, OrderStatus.Shipped, "dhl", "JD3"), Row("o-5", 2, OrderStatus.Shipped, "fedex", "JD1"));

        Assert.Equal(["JD1:o-1", "JD3:o-3", "JD3:o-4"], await Found("dhl", 10, "JD1", "JD3", "JD9"));
        Assert.Equal(["JD1:o-5"], await Found("fedex", 10, "JD1", "JD3"));
        Assert.Equal(["JD3:o-3"], await Found("dhl", 1, "JD3")); // at most perKey a number
        Assert.Empty(await Found("dhl", 10));

        // Corrected: found under the new number only; a write of an older version (a late batch) moves nothing back.
        await WriteAsync(database, Row("o-1", 3, OrderStatus.Shipped, "dhl", "JD7"));
        await WriteAsync(database, Row("o-1", 2, OrderStatus.Shipped, "dhl", "JD1"));
        Assert.Empty(await Found("dhl", 10, "JD1"));
        Assert.Equal(["JD7:o-1"], await Found("dhl", 10, "JD7"));
        // A later change of the shipped order (delivered) keeps its keys.
        await WriteAsync(database, Row("o-1", 4, OrderStatus.Delivered, "dhl", "JD7"), Row("o-2", 3, OrderStatus.Cancelled));
        Assert.Equal(["JD7:o-1"], await Found("dhl", 10, "JD7"));
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task A_tickets_proposed_remedy_is_stored_and_listed_with_it(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "remedy");
        await using var _ = database;
        var stall = new ServiceTicket("t-1", "o-1", "s-1", ServiceTicketKinds.StalledShipment, "stalled", T0, T0.AddHours(48), "proofOfDispatch");
        var late = new ServiceTicket("t-2", "o-1", "s-1", ServiceTicketKinds.LateShipment, "late", T0, T0.AddHours(49));
        await WriteAsync(database, Row("o-1", 1, OrderStatus.Shipped, "dhl", "JD1", ticket: stall), Row("o-1", 1, OrderStatus.Shipped, "dhl", "JD1", ticket: late));

        var tickets = await new SqlOrderStore(database).TicketsAsync(new TicketQuery(false, null, null, "o-1", null, 10), CancellationToken.None);

        Assert.Equal(["proofOfDispatch", null], tickets.Select(t => t.Ticket.Remedy));
    }
}
