using Orleans.Trade.Api.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>The ticket list's query on both databases (the embedded default is SQLite): keyset pages, filters, the history.</summary>
public sealed class TicketQueriesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task Open_tickets_page_earliest_due_first_and_closed_ones_newest_first_by_keyset(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "tickets");
        await using var _ = database;
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            // t1..t5 opened in that order; t2 and t4 due at the same time (the id breaks the tie); t5 closed by hand, t3 by its order.
            foreach (var (id, seller, kind, due, closedBy) in new[]
            {
                ("t1", "s-a", "LateShipment", 30, (string?)null), ("t2", "s-a", "DisputeArbitration", 10, null), ("t3", "s-a", "LateShipment", 5, "system"),
                ("t4", "s-b", "LateShipment", 10, null), ("t5", "s-a", "RefundFailed", 1, "analyst:an-1"),
            })
            {
                await connection.Command("""
                    INSERT INTO service_tickets (ticket_id, order_id, seller_id, kind, description, opened_at, due_at, status, closed_by, closed_at, closed_note)
                    VALUES (@id, @order, @seller, @kind, 'd', @opened, @due, @status, @by, @closedAt, @note)
                    """).With("id", id).With("order", "o-" + id).With("seller", seller).With("kind", kind).With("opened", database.ToDb(T0))
                    .With("due", database.ToDb(T0.AddHours(due))).With("status", closedBy is null ? "Open" : "Closed").With("by", closedBy)
                    .With("closedAt", database.ToDb(closedBy is null ? null : T0.AddHours(2))).With("note", closedBy is null ? null : "done")
                    .ExecuteNonQueryAsync();
            }
        }
        var store = new SqlOrderStore(database);
        async Task<string[]> Ids(TicketQuery query) => (await store.TicketsAsync(query, CancellationToken.None)).Select(r => r.Ticket.TicketId).ToArray();

        Assert.Equal(["t2", "t4"], await Ids(new TicketQuery(false, null, null, null, null, 2)));
        Assert.Equal(["t1"], await Ids(new TicketQuery(false, null, null, null, "t4", 2)));
        Assert.Empty(await Ids(new TicketQuery(false, null, null, null, "t1", 2)));
        Assert.Equal(["t2", "t1"], await Ids(new TicketQuery(false, "s-a", null, null, null, 10)));
        Assert.Equal(["t4", "t1"], await Ids(new TicketQuery(false, null, "LateShipment", null, null, 10)));
        Assert.Equal(["t4"], await Ids(new TicketQuery(false, null, null, "o-t4", null, 10)));
        // A page's last ticket closed before the next page is asked for still marks where it ended: the open tickets due after
        // it follow (it used to end the list, so customer service closing what it handled saw an empty queue).
        Assert.Equal(["t2", "t4", "t1"], await Ids(new TicketQuery(false, null, null, null, "t5", 10)));
        Assert.Equal(["t4", "t1"], await Ids(new TicketQuery(false, null, null, null, "t2", 10)));
        // A cursor naming no ticket at all ends the list rather than starting it again.
        Assert.Empty(await Ids(new TicketQuery(false, null, null, null, "t9", 10)));

        Assert.Equal(["t5", "t3"], await Ids(new TicketQuery(true, null, null, null, null, 10)));
        Assert.Equal(["t3"], await Ids(new TicketQuery(true, "s-a", null, null, "t5", 10)));
        var closed = (await store.TicketsAsync(new TicketQuery(true, null, "RefundFailed", null, null, 10), CancellationToken.None)).Single();
        Assert.True(closed.Closed);
        Assert.Equal("analyst:an-1", closed.ClosedBy);
        Assert.Equal(T0.AddHours(2), closed.ClosedAt);
        Assert.Equal("done", closed.ClosedNote);
        Assert.Equal(T0.AddHours(1), closed.Ticket.DueAt);
    }
}
