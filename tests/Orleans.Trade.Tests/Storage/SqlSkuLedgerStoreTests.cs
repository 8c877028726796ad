using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// The SKU ledger store on real PostgreSQL and on SQLite, with orders a SKU placed itself: the order's first state, its list row
/// and its checkout key commit with the reservation, and a checkout key stored before keeps all of its SKU's write out.
/// </summary>
public sealed class SqlSkuLedgerStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly SkuCatalog Catalog = new("seller-1", "Lamp", "home", new Money(2_500, "USD"), 500, "940510", "CN", null);

    public static TheoryData<string> Providers => StorageTestDatabase.Providers;

    private sealed record Stores(SqlSkuLedgerStore Skus, BatchedGrainStorage Grains, SqlOrderStore Orders, TradeDatabase Database) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Database.DisposeAsync();
    }

    private static async Task<Stores> Open(string provider, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var (database, configuration) = await StorageTestDatabase.OpenAsync(provider, "skuledger", settings);
        var orders = new SqlOrderStore(database);
        var cluster = Options.Create(new ClusterOptions { ServiceId = "svc", ClusterId = "c" });
        return new Stores(new SqlSkuLedgerStore(database, configuration, StorageTestDatabase.Serializer, cluster, [orders]),
            new BatchedGrainStorage(database, StorageTestDatabase.Serializer, cluster, configuration, [orders], new NewGrainIds()), orders, database);
    }

    /// <summary>A SKU at its first write holding one unit for <paramref name="orderId"/>, which it placed for <paramref name="checkoutKey"/>.</summary>
    private static SkuLedgerWrite PlacingWrite(string skuId, string orderId, string checkoutKey)
    {
        var reservation = new StockReservation(ReservationIds.For(orderId, 0), [new StockAllocationPart("wh-de", 1, null)], Now);
        var state = new SkuState
        {
            Catalog = Catalog,
            Warehouses = { ["wh-de"] = new WarehouseStock("wh-de", 10, 1, 1, Now) },
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        var command = new CheckoutCommand("buyer-1", "EUR", new ShippingAddress("Anna", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49301234567"),
            [new CartLine(skuId, 1)], null, "hash-" + checkoutKey, "buyer:buyer-1");
        var built = SkuPlacedOrders.Build(new SkuCheckout(checkoutKey, command),
            new StockReservationResult(ReservationStatus.Reserved, reservation.Parts, 9, Catalog), orderId, "checkout-" + orderId,
            GrainId.Create("order", orderId).ToString(), GrainId.Create("checkout", checkoutKey).ToString(), Now,
            new ConfiguredFxRates(ConfiguredFxRates.Defaults, Now), new OrderOptions(), new Orleans.Trade.Payments.PaymentOptions());
        Assert.NotNull(built);
        return new SkuLedgerWrite(skuId, 0, state, [reservation], [], [built.Value.Rows]);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_order_placed_by_a_sku_commits_with_its_reservation_and_reads_back_as_the_order_grains_state(string provider)
    {
        await using var stores = await Open(provider);
        var write = PlacingWrite("sku-a", "order-a", "buyer:buyer-1/key-a");

        Assert.Equal(1, await stores.Skus.WriteAsync(write, CancellationToken.None));
        Assert.Equal(0, stores.Skus.RedoneWrites); // one round trip

        var ledger = await stores.Skus.LoadAsync("sku-a", CancellationToken.None);
        Assert.NotNull(ledger);
        var reservation = Assert.Single(ledger.Reservations);
        Assert.Equal("order-a:0", reservation.ReservationId);
        Assert.Null(reservation.HoldUntil); // firm: its order committed with it

        var order = new HeldState<OrderState>(new OrderState());
        await stores.Grains.ReadStateAsync("order", GrainId.Create("order", "order-a"), order);
        Assert.True(order.RecordExists);
        Assert.Equal("1", order.ETag);
        Assert.Equal(OrderPhase.Live, order.State.Phase);
        Assert.Equal(OrderStatus.AwaitingPayment, order.State.Status);
        Assert.Equal(1, order.State.Version);
        var line = Assert.Single(order.State.Lines);
        Assert.Equal(new Money(2_500, "USD"), line.LineTotal);
        Assert.Equal("EUR", order.State.Totals!.Buyer.Currency);
        Assert.Equal("Placed", Assert.Single(order.State.Timeline).Event);
        Assert.Empty(order.State.PendingNotifications); // carried by the write, not left in the state
        Assert.False(order.State.ProjectionPending);

        var checkout = new HeldState<CheckoutState>(new CheckoutState());
        await stores.Grains.ReadStateAsync("checkout", GrainId.Create("checkout", "buyer:buyer-1/key-a"), checkout);
        Assert.Equal("1", checkout.ETag);
        Assert.Equal("hash-buyer:buyer-1/key-a", checkout.State.RequestHash);
        Assert.Equal("order-a", checkout.State.OrderIdsBySeller["seller-1"]);
        Assert.Null(checkout.State.Answer);

        // The order list row and the payment deadline in the wake index committed too.
        Assert.Contains("order-a", await stores.Orders.WhichArePlacedAsync(["order-a", "order-b"], CancellationToken.None));
        var due = await stores.Grains.DueAsync(Now + new OrderOptions().PaymentWindow, 10, CancellationToken.None);
        Assert.Contains(due, d => d.StateName == "order" && d.GrainId == GrainId.Create("order", "order-a").ToString());
        Assert.Empty(await stores.Grains.DueAsync(Now + new OrderOptions().PaymentWindow - TimeSpan.FromSeconds(1), 10, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_placed_order_encoded_when_placed_is_stored_as_encoded_then(string provider)
    {
        await using var stores = await Open(provider);
        var write = PlacingWrite("sku-e", "order-e", "buyer:buyer-1/key-e");
        var placed = Assert.Single(write.Placed!);
        var encoded = stores.Skus.Encode(placed);
        Assert.NotNull(encoded.Payloads);
        Assert.Same(encoded, stores.Skus.Encode(encoded)); // encoded once

        // The write stores the encoding made at placement, not the states as they are at write time (they must not change
        // meanwhile; changing them here shows which of the two was stored).
        placed.Order.Status = OrderStatus.Cancelled;
        placed.Checkout.RequestHash = "changed after encoding";
        Assert.Equal(1, await stores.Skus.WriteAsync(write with { Placed = [encoded] }, CancellationToken.None));

        var order = new HeldState<OrderState>(new OrderState());
        await stores.Grains.ReadStateAsync("order", GrainId.Create("order", "order-e"), order);
        Assert.Equal(("1", OrderStatus.AwaitingPayment), (order.ETag, order.State.Status));
        var checkout = new HeldState<CheckoutState>(new CheckoutState());
        await stores.Grains.ReadStateAsync("checkout", GrainId.Create("checkout", "buyer:buyer-1/key-e"), checkout);
        Assert.Equal("hash-buyer:buyer-1/key-e", checkout.State.RequestHash);
        Assert.Contains("order-e", await stores.Orders.WhichArePlacedAsync(["order-e"], CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_checkout_key_stored_before_keeps_out_all_of_its_skus_write_and_none_of_the_others(string provider)
    {
        await using var stores = await Open(provider);
        var usedKey = GrainId.Create("checkout", "buyer:buyer-1/used");
        var earlier = new HeldState<CheckoutState>(new CheckoutState { RequestHash = "another body", CheckoutId = "earlier" });
        await stores.Grains.WriteStateAsync("checkout", usedKey, earlier);

        var writes = await Task.WhenAll(
            Attempt(stores.Skus.WriteAsync(PlacingWrite("sku-used", "order-used", "buyer:buyer-1/used"), CancellationToken.None)),
            Attempt(stores.Skus.WriteAsync(PlacingWrite("sku-new", "order-new", "buyer:buyer-1/new"), CancellationToken.None)));

        var taken = Assert.IsType<CheckoutKeysTakenException>(writes[0].Error);
        Assert.Equal([usedKey.ToString()], taken.CheckoutGrainIds);
        Assert.Null(await stores.Skus.LoadAsync("sku-used", CancellationToken.None));
        var lostOrder = new HeldState<OrderState>(new OrderState());
        await stores.Grains.ReadStateAsync("order", GrainId.Create("order", "order-used"), lostOrder);
        Assert.False(lostOrder.RecordExists);
        Assert.Empty(await stores.Orders.WhichArePlacedAsync(["order-used"], CancellationToken.None));
        var stillEarlier = new HeldState<CheckoutState>(new CheckoutState());
        await stores.Grains.ReadStateAsync("checkout", usedKey, stillEarlier);
        Assert.Equal(("1", "another body"), (stillEarlier.ETag, stillEarlier.State.RequestHash));

        Assert.Null(writes[1].Error);
        Assert.Equal(1, writes[1].Version);
        Assert.Single((await stores.Skus.LoadAsync("sku-new", CancellationToken.None))!.Reservations);
        Assert.Contains("order-new", await stores.Orders.WhichArePlacedAsync(["order-new"], CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task One_checkout_key_placed_by_two_skus_in_one_batch_places_one_order(string provider)
    {
        // One Idempotency-Key sent with two different one-line carts at once: two SKUs each place an order for it, and with one
        // round trip in flight their writes queue up behind the first write and go in one batch. Only the first order may
        // commit; the other SKU is told the key is taken (its caller then meets the stored key in the saga: another body, 422).
        await using var stores = await Open(provider, new Dictionary<string, string?> { ["Storage:RoundTripsInFlight"] = "1" });
        var second = PlacingWrite("sku-y", "order-y", "buyer:buyer-1/same");
        second.Placed![0].Checkout.RequestHash = "hash of another body";

        var writes = await Task.WhenAll(
            Attempt(stores.Skus.WriteAsync(PlacingWrite("sku-w", "order-w", "buyer:buyer-1/first"), CancellationToken.None)),
            Attempt(stores.Skus.WriteAsync(PlacingWrite("sku-x", "order-x", "buyer:buyer-1/same"), CancellationToken.None)),
            Attempt(stores.Skus.WriteAsync(second, CancellationToken.None)));

        Assert.Null(writes[0].Error);
        Assert.Null(writes[1].Error);
        var taken = Assert.IsType<CheckoutKeysTakenException>(writes[2].Error);
        Assert.Equal([GrainId.Create("checkout", "buyer:buyer-1/same").ToString()], taken.CheckoutGrainIds);
        Assert.Equal(["order-w", "order-x"], (await stores.Orders.WhichArePlacedAsync(["order-w", "order-x", "order-y"], CancellationToken.None)).Order());
        Assert.Null(await stores.Skus.LoadAsync("sku-y", CancellationToken.None));
        var stored = new HeldState<CheckoutState>(new CheckoutState());
        await stores.Grains.ReadStateAsync("checkout", GrainId.Create("checkout", "buyer:buyer-1/same"), stored);
        Assert.Equal("hash-buyer:buyer-1/same", stored.State.RequestHash);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_list_row_and_notification_stored_before_do_not_keep_a_placing_write_out(string provider)
    {
        // On PostgreSQL the write first goes out as one batch that inserts the order's list row and notification without merging
        // them; rows stored before (an earlier attempt's projection) fail that batch, and the write is done again, merging.
        await using var stores = await Open(provider);
        var write = PlacingWrite("sku-r", "order-r", "buyer:buyer-1/key-r");
        var notification = Assert.Single(Assert.Single(write.Placed!).Outbox.Notifications);
        await using (var connection = await stores.Database.OpenAsync(CancellationToken.None))
        {
            await connection.Command("""
                    INSERT INTO orders (order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor,
                                        buyer_currency, line_count, source, late, created_at, updated_at, version)
                    VALUES ('order-r', 'buyer-1', 'seller-1', 'Cancelled', 1, 'USD', 1, 'EUR', 1, 'Checkout', 0 = 1, @at, @at, 1)
                    """).With("at", stores.Database.ToDb(Now)).ExecuteNonQueryAsync();
            await connection.Command("""
                    INSERT INTO order_notifications (notification_id, order_id, recipient, channels, event, status, created_at, next_attempt_at)
                    VALUES (@id, 'order-r', 'buyer-1', 'email', 'Placed', 'AwaitingPayment', @at, @at)
                    """).With("id", notification.NotificationId).With("at", stores.Database.ToDb(Now)).ExecuteNonQueryAsync();
        }

        Assert.Equal(1, await stores.Skus.WriteAsync(write, CancellationToken.None));
        Assert.Equal(provider == "postgres" ? 1 : 0, stores.Skus.RedoneWrites); // the batch was refused and the write redone

        var order = new HeldState<OrderState>(new OrderState());
        await stores.Grains.ReadStateAsync("order", GrainId.Create("order", "order-r"), order);
        Assert.Equal(("1", OrderStatus.AwaitingPayment), (order.ETag, order.State.Status));
        Assert.Single((await stores.Skus.LoadAsync("sku-r", CancellationToken.None))!.Reservations);
        await using (var connection = await stores.Database.OpenAsync(CancellationToken.None))
        {
            // The list row took the placed order's state (same version), and the notification is there once.
            Assert.Equal("AwaitingPayment", (string)(await connection.Command("SELECT status FROM orders WHERE order_id = 'order-r'").ExecuteScalarAsync())!);
            Assert.Equal(1L, Convert.ToInt64(await connection.Command("SELECT count(*) FROM order_notifications WHERE order_id = 'order-r'").ExecuteScalarAsync()));
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_placing_write_that_lost_its_version_check_leaves_no_order_behind(string provider)
    {
        await using var stores = await Open(provider);
        Assert.Equal(1, await stores.Skus.WriteAsync(PlacingWrite("sku-a", "order-1", "buyer:buyer-1/k1"), CancellationToken.None));

        // A second activation still at version 0 places another order: its version check fails, and its order must not stay.
        var stale = PlacingWrite("sku-a", "order-2", "buyer:buyer-1/k2");
        await Assert.ThrowsAsync<SkuLedgerConflictException>(() => stores.Skus.WriteAsync(stale, CancellationToken.None));
        Assert.Equal(provider == "postgres" ? 1 : 0, stores.Skus.RedoneWrites);

        var order = new HeldState<OrderState>(new OrderState());
        await stores.Grains.ReadStateAsync("order", GrainId.Create("order", "order-2"), order);
        Assert.False(order.RecordExists);
        var checkout = new HeldState<CheckoutState>(new CheckoutState());
        await stores.Grains.ReadStateAsync("checkout", GrainId.Create("checkout", "buyer:buyer-1/k2"), checkout);
        Assert.False(checkout.RecordExists);
        Assert.Empty(await stores.Orders.WhichArePlacedAsync(["order-2"], CancellationToken.None));
        Assert.Equal(["order-1:0"], (await stores.Skus.LoadAsync("sku-a", CancellationToken.None))!.Reservations.Select(r => r.ReservationId));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Reservations_change_only_with_their_skus_applied_write(string provider)
    {
        await using var stores = await Open(provider);
        StockReservation Held(string id) => new(id, [new StockAllocationPart("wh-de", 1, null)], Now);
        SkuState State() => new()
        {
            Catalog = Catalog,
            Warehouses = { ["wh-de"] = new WarehouseStock("wh-de", 10, 2, 2, Now) },
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        Assert.Equal(1, await stores.Skus.WriteAsync(new SkuLedgerWrite("sku-a", 0, State(), [Held("a1"), Held("a2")], []), CancellationToken.None));
        Assert.Equal(1, await stores.Skus.WriteAsync(new SkuLedgerWrite("sku-b", 0, State(), [Held("b1"), Held("b2")], []), CancellationToken.None));

        // Together (one batch when they meet): sku-a's write is at its version and closes a1 and opens a3; sku-b's comes from an
        // activation still at version 0, so neither its close of b1 nor its new b3 may land.
        var applied = stores.Skus.WriteAsync(new SkuLedgerWrite("sku-a", 1, State(), [Held("a3")], ["a1"]), CancellationToken.None);
        var stale = Attempt(stores.Skus.WriteAsync(new SkuLedgerWrite("sku-b", 0, State(), [Held("b3")], ["b1"]), CancellationToken.None));
        Assert.Equal(2, await applied);
        Assert.IsType<SkuLedgerConflictException>((await stale).Error);

        var a = await stores.Skus.LoadAsync("sku-a", CancellationToken.None);
        Assert.Equal(2, a!.Version);
        Assert.Equal(["a2", "a3"], a.Reservations.Select(r => r.ReservationId).Order(StringComparer.Ordinal));
        var b = await stores.Skus.LoadAsync("sku-b", CancellationToken.None);
        Assert.Equal(1, b!.Version);
        Assert.Equal(["b1", "b2"], b.Reservations.Select(r => r.ReservationId).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_reservation_opened_again_before_its_release_was_written_is_stored_as_opened_again(string provider)
    {
        // Opened reservations go out as plain inserts (their rows are new); one released and opened again within one write finds
        // its old row still there. On PostgreSQL that refuses the one-round-trip batch and the write is redone, merging: the
        // row then holds the new reservation whole (its warehouse, time and hold), not the old one with a new hold.
        await using var stores = await Open(provider);
        SkuState State() => new()
        {
            Catalog = Catalog,
            Warehouses = { ["wh-de"] = new WarehouseStock("wh-de", 10, 1, 1, Now), ["wh-pl"] = new WarehouseStock("wh-pl", 10, 0, 0, Now) },
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        var first = new StockReservation("r1", [new StockAllocationPart("wh-de", 1, null)], Now, Now.AddMinutes(15));
        Assert.Equal(1, await stores.Skus.WriteAsync(new SkuLedgerWrite("sku-a", 0, State(), [first], []), CancellationToken.None));
        Assert.Equal(0, stores.Skus.RedoneWrites);

        var again = new StockReservation("r1", [new StockAllocationPart("wh-pl", 2, null)], Now.AddMinutes(1));
        Assert.Equal(2, await stores.Skus.WriteAsync(new SkuLedgerWrite("sku-a", 1, State(), [again], []), CancellationToken.None));
        Assert.Equal(provider == "postgres" ? 1 : 0, stores.Skus.RedoneWrites);

        var stored = Assert.Single((await stores.Skus.LoadAsync("sku-a", CancellationToken.None))!.Reservations);
        Assert.Equal(("r1", Now.AddMinutes(1), (DateTimeOffset?)null), (stored.ReservationId, stored.ReservedAt, stored.HoldUntil));
        Assert.Equal([new StockAllocationPart("wh-pl", 2, null)], stored.Parts);
    }

    private static async Task<(long? Version, Exception? Error)> Attempt(Task<long> write)
    {
        try
        {
            return (await write, null);
        }
        catch (Exception ex)
        {
            return (null, ex);
        }
    }
}
