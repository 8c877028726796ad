using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// Storefront events and the funnel counted from them and the order rows (R-DAT-2), on both databases: an event id stored once,
/// a batch's duplicates answered as not stored now; visitors' steps per window, seller, SKU and UTC day; imports left out; old
/// events deleted in bounded batches.
/// </summary>
public sealed class StorefrontEventStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static StorefrontEventRow Event(string id, StorefrontEventKind kind, string visitor, DateTimeOffset? at = null, string sku = "sku-1",
        string seller = "s-1") => new(id, kind, visitor, sku, seller, at ?? T0.AddHours(1));

    private static OrderOutbox Order(string orderId, string buyerId, OrderStatus status, string sellerId = "s-1", DateTimeOffset? created = null,
        OrderSource source = OrderSource.Checkout) =>
        new(new OrderSummary(orderId, buyerId, sellerId, status, new Money(100, "USD"), new Money(100, "USD"), 1, source, false,
            created ?? T0.AddHours(2), T0.AddHours(2), 1), [], []);

    private static async Task WriteOrdersAsync(TradeDatabase database, params OrderOutbox[] outboxes)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await new SqlOrderStore(database).WriteAsync(connection, transaction, outboxes, CancellationToken.None);
        await transaction.CommitAsync();
    }

    private static FunnelFigures Figures(IReadOnlyList<FunnelMaskCount> counts, bool skuOnly = false) =>
        Funnel.Figures(counts.GroupBy(c => c.Mask).Select(g => (g.Key, g.Sum(c => c.Visitors))), skuOnly);

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task Events_are_stored_once_and_the_funnel_counts_visitors_steps_with_their_orders(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "funnel");
        await using var _ = database;
        var store = new SqlStorefrontEventStore(database);
        const StorefrontEventKind View = StorefrontEventKind.View, Cart = StorefrontEventKind.Cart, Checkout = StorefrontEventKind.Checkout;

        var first = await store.RecordAsync([Event("e-1", View, "b-1"), Event("e-2", Cart, "b-1"), Event("e-3", Checkout, "b-1")], CancellationToken.None);
        Assert.Equal(["e-1", "e-2", "e-3"], first.Order(StringComparer.Ordinal));
        // Sent again with a new one: only the new one is stored now.
        var again = await store.RecordAsync([Event("e-1", View, "b-1"), Event("e-3", Checkout, "b-1"), Event("e-4", View, "b-2")], CancellationToken.None);
        Assert.Equal(["e-4"], again);
        await store.RecordAsync(
        [
            Event("e-5", View, "b-2"), // b-2 viewed twice: one visitor
            Event("e-6", View, "b-3"), Event("e-7", Cart, "b-3"), Event("e-8", Checkout, "b-3"),
            Event("e-9", View, "~sess-1"), Event("e-10", Cart, "~sess-1"),
            Event("e-11", View, "b-4", sku: "sku-2"), Event("e-12", Cart, "b-4", sku: "sku-2"), Event("e-13", Checkout, "b-4", sku: "sku-2"),
            Event("e-14", View, "b-5", sku: "sku-9", seller: "s-2"),
            Event("e-15", View, "b-6", at: T0.AddDays(1).AddHours(1)), // the next day
        ], CancellationToken.None);
        // b-1 placed and paid; b-3 placed, unpaid; b-4 paid (for sku-2); b-7 bought with no event; b-1's import and an order of s-2 are not s-1's funnel.
        await WriteOrdersAsync(database, Order("o-1", "b-1", OrderStatus.AwaitingShipment), Order("o-2", "b-3", OrderStatus.AwaitingPayment),
            Order("o-3", "b-4", OrderStatus.Paid), Order("o-4", "b-7", OrderStatus.Delivered), Order("o-5", "amazon:b-8", OrderStatus.Completed, source: OrderSource.Import),
            Order("o-6", "b-5", OrderStatus.Cancelled, sellerId: "s-2"));

        var day = await store.FunnelAsync(new FunnelQuery(T0, T0.AddDays(1), "s-1", null, false), CancellationToken.None);
        var s1 = Figures(day);
        // Viewed: b-1, b-2, b-3, sess-1, b-4; carted: b-1, b-3, sess-1, b-4; checked out: b-1, b-3, b-4; placed: b-1, b-3, b-4; paid: b-1, b-4.
        Assert.Equal([5L, 4L, 3L, 3L, 2L], s1.Steps.Select(s => s.Buyers));
        Assert.Equal([5L, 4L, 3L, 4L, 3L], s1.Steps.Select(s => s.Reached)); // b-7 placed and paid without events
        Assert.All(day, c => Assert.Equal(0, c.Day));

        var sku1 = Figures(await store.FunnelAsync(new FunnelQuery(T0, T0.AddDays(1), "s-1", "sku-1", false), CancellationToken.None), skuOnly: true);
        Assert.Equal([4L, 3L, 2L, 2L, 1L], sku1.Steps.Select(s => s.Buyers)); // b-4's checkout and order were of sku-2
        Assert.Equal([4L, 3L, 2L, 2L, 1L], sku1.Steps.Select(s => s.Reached));

        // All sellers: b-5 viewed s-2's SKU and its cancelled order is placed, not paid.
        var all = Figures(await store.FunnelAsync(new FunnelQuery(T0, T0.AddDays(1), null, null, false), CancellationToken.None));
        Assert.Equal([6L, 4L, 3L, 3L, 2L], all.Steps.Select(s => s.Buyers));
        Assert.Equal([6L, 4L, 3L, 5L, 3L], all.Steps.Select(s => s.Reached));

        // By UTC day over two days: the second day holds b-6's view alone.
        var days = await store.FunnelAsync(new FunnelQuery(T0, T0.AddDays(2), "s-1", null, true), CancellationToken.None);
        var firstDay = FunnelApi.DayNumber(T0);
        Assert.Equal([firstDay, firstDay + 1], days.Select(c => c.Day).Distinct().Order());
        Assert.Equal(new FunnelMaskCount(firstDay + 1, 1, 1), Assert.Single(days, c => c.Day == firstDay + 1));
        Assert.Equal([5L, 4L, 3L, 3L, 2L], Figures(days.Where(c => c.Day == firstDay).ToArray()).Steps.Select(s => s.Buyers));

        // Deleted a bounded batch at a time, oldest first: three of the day's events, then the rest of them, then none.
        Assert.Equal(3, await store.PruneAsync(T0.AddDays(1), 3, CancellationToken.None));
        Assert.Equal(11, await store.PruneAsync(T0.AddDays(1), 100, CancellationToken.None));
        Assert.Equal(0, await store.PruneAsync(T0.AddDays(1), 100, CancellationToken.None));
        var left = Figures(await store.FunnelAsync(new FunnelQuery(T0, T0.AddDays(2), null, null, false), CancellationToken.None));
        Assert.Equal(1, left.Steps[0].Buyers); // b-6's view of the next day is kept
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task An_api_key_may_have_the_storefront_role_and_no_unknown_one(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "storefrontkey");
        await using var _ = database;
        await using var connection = await database.OpenAsync(CancellationToken.None);
        Task<int> InsertAsync(string id, string role) => connection.Command(
                "INSERT INTO api_keys (key_id, key_hash, role, subject, name, created_at) VALUES (@id, 'hash', @role, NULL, NULL, @at)")
            .With("id", id).With("role", role).With("at", database.ToDb(T0)).ExecuteNonQueryAsync();
        Assert.Equal(1, await InsertAsync("k-1", "storefront"));
        Assert.Equal(1, await InsertAsync("k-2", "carrier"));
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => InsertAsync("k-3", "shopper"));
    }

    [Theory]
    [MemberData(nameof(StorageTestDatabase.Providers), MemberType = typeof(StorageTestDatabase))]
    public async Task A_batchs_skus_are_looked_up_in_one_read_of_the_sku_ledgers_and_an_unknown_one_has_no_seller(string provider)
    {
        var (database, configuration) = await StorageTestDatabase.OpenAsync(provider, "storefrontskus");
        await using var _ = database;
        var skus = new SqlSkuLedgerStore(database, configuration, StorageTestDatabase.Serializer,
            Microsoft.Extensions.Options.Options.Create(new Orleans.Configuration.ClusterOptions { ServiceId = "svc", ClusterId = "c" }), [new SqlOrderStore(database)]);
        Orleans.Trade.Inventory.SkuState State(string? sellerId) => new()
        {
            Catalog = sellerId is null ? null : new Orleans.Trade.Inventory.SkuCatalog(sellerId, "Lamp", "home", new Money(2_500, "USD"), 500, "940510", "CN", null),
            CreatedAt = T0,
            UpdatedAt = T0,
        };
        await skus.WriteAsync(new Orleans.Trade.Inventory.SkuLedgerWrite("sku-lamp", 0, State("seller-1"), [], []), CancellationToken.None);
        await skus.WriteAsync(new Orleans.Trade.Inventory.SkuLedgerWrite("sku-vase", 0, State("seller-2"), [], []), CancellationToken.None);
        await skus.WriteAsync(new Orleans.Trade.Inventory.SkuLedgerWrite("sku-stock-only", 0, State(null), [], []), CancellationToken.None);

        var sellers = await new SqlStorefrontEventStore(database).SellersOfAsync(["sku-lamp", "sku-vase", "sku-stock-only", "sku-none"], CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["sku-lamp"] = "seller-1", ["sku-vase"] = "seller-2" }, sellers);
    }
}
