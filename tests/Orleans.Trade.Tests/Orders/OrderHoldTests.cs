using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Orleans.Trade.Orders;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Preparing an order writes nothing: its reservations are tentative holds that the SKU settles. Against a silo on PostgreSQL
/// whose business clock the test runs ahead, with an Orleans client of its cluster standing in for a checkout that dies between
/// preparing and confirming.
/// </summary>
public sealed class OrderHoldTests
{
    [Fact]
    public async Task A_hold_whose_order_is_never_placed_is_given_back_and_placed_orders_keep_theirs_across_a_restart()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("holds");
        await HoldsAreSettled(SiloStorage.Postgres(connectionString));
    }

    [Fact]
    public async Task Holds_are_settled_the_same_way_on_sqlite()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await HoldsAreSettled(SiloStorage.Sqlite(path));
    }

    [Fact]
    public async Task Placing_in_one_call_is_idempotent_and_an_order_that_falls_short_aborts_holding_nothing()
    {
        var storage = SiloStorage.Postgres(await PostgresServer.CreateDatabaseAsync("place"));
        await using var silo = await SiloProcess.StartAsync(storage, "place-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>());
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("seller");
        var sku = await shop.SkuAsync(sellerId, stock: [("wh-de", 5)]);
        using var client = await SiloClients.ConnectAsync(silo);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var address = new ShippingAddress("Anna Schmidt", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567");
        OrderPlacement Placement(string orderId, long quantity) => new(orderId, "chk-" + orderId, "buyer-1", sellerId, "EUR", address,
            [new CartLine(sku, quantity)], OrderSource.Checkout, null, "buyer-1", null);

        var placedId = OrderTestShop.NewId("o");
        var first = await grains.GetGrain<IOrderGrain>(placedId).Place(Placement(placedId, 3), null);
        var again = await grains.GetGrain<IOrderGrain>(placedId).Place(Placement(placedId, 3), null);
        Assert.Equal(PrepareStatus.Prepared, first.Prepared.Status);
        Assert.Equal(OrderStatus.AwaitingPayment, first.Order!.Status);
        Assert.Equal(first.Order.Version, again.Order!.Version);
        Assert.Equal(3, await shop.ReservedAsync(sku));
        Assert.Equal(1L, Convert.ToInt64(await StoredOrderVersion(storage, placedId)));

        var shortId = OrderTestShop.NewId("o");
        var fellShort = await grains.GetGrain<IOrderGrain>(shortId).Place(Placement(shortId, 3), null);
        Assert.Equal(PrepareStatus.Short, fellShort.Prepared.Status);
        Assert.Null(fellShort.Order);
        Assert.Equal(2, Assert.Single(fellShort.Prepared.ShortLines).Available);
        Assert.Equal(3, await shop.ReservedAsync(sku));
        Assert.Null(await StoredOrderVersion(storage, shortId));
        // Aborted: placing it again, even for what is there, is refused (a new checkout makes a new order) and holds nothing.
        var retried = await grains.GetGrain<IOrderGrain>(shortId).Place(Placement(shortId, 1), null);
        Assert.Equal(PrepareStatus.Expired, retried.Prepared.Status);
        Assert.Null(retried.Order);
        Assert.Equal(3, await shop.ReservedAsync(sku));
    }

    [Fact]
    public async Task A_hold_asked_for_again_while_the_sku_settles_expired_holds_stays_with_its_order()
    {
        // R-INV-1. The SKU asks the orders behind its expired holds whether they keep them and releases those answered no once
        // every answer is in. An order that left memory answers no at once; its retried checkout may prepare it anew and place
        // it on the same hold before the slowest answer, and the SKU then released the hold of a live order.
        var connectionString = await PostgresServer.CreateDatabaseAsync("rehold");
        var storage = SiloStorage.Postgres(connectionString);
        await using var silo = await SiloProcess.StartAsync(storage, "rehold-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Inventory__HoldCheckPeriod"] = "00:00:01",
                // Each SKU's write in a round trip of its own, so the gated SKU's write holds up no other SKU's.
                ["Storage__MaxBatch"] = "1",
                ["Storage__RoundTripsInFlight"] = "4",
            });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("seller");
        var hot = await shop.SkuAsync(sellerId, stock: [("wh-de", 10)]);
        var slow = await shop.SkuAsync(sellerId, stock: [("wh-de", 10)]);
        using var client = await SiloClients.ConnectAsync(silo);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var address = new ShippingAddress("Anna Schmidt", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567");
        OrderPlacement Placement(string orderId, params CartLine[] lines) => new(orderId, "chk-" + orderId, "buyer-1", sellerId, "EUR", address,
            lines, OrderSource.Checkout, null, "buyer-1", null);

        // The retried order: prepared, then gone from memory with nothing stored (its checkout died).
        var retried = OrderTestShop.NewId("o");
        Assert.Equal(PrepareStatus.Prepared, (await grains.GetGrain<IOrderGrain>(retried).Prepare(Placement(retried, new CartLine(hot, 2)))).Status);
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        // The slow answer: an order still preparing, whose giving up waits on the other SKU's write.
        var slowOrder = OrderTestShop.NewId("o");
        Assert.Equal(PrepareStatus.Prepared, (await grains.GetGrain<IOrderGrain>(slowOrder)
            .Prepare(Placement(slowOrder, new CartLine(hot, 1), new CartLine(slow, 1)))).Status);
        Assert.Equal(3, await shop.ReservedAsync(hot));

        await using var gate = new NpgsqlConnection(connectionString);
        await gate.OpenAsync();
        await Execute(gate, $"""
            CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.sku_id = '{slow}' THEN PERFORM pg_advisory_xact_lock(4242); END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_gate BEFORE UPDATE ON sku_ledger FOR EACH ROW EXECUTE FUNCTION test_gate();
            SELECT pg_advisory_lock(4242);
            """);
        var (advanced, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 6 * 60 });
        Assert.True(advanced == HttpStatusCode.OK, $"{advanced} {body}");
        // The hold check has asked both orders once the slow SKU's write waits on the gate.
        await Until(async () => Convert.ToInt64(await Scalar(gate, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) > 0,
            TimeSpan.FromSeconds(30), "the slow order's release waits on the gate");

        // Meanwhile the retried checkout prepares the order anew, on the same hold, and places it.
        Assert.Equal(PrepareStatus.Prepared, (await grains.GetGrain<IOrderGrain>(retried).Prepare(Placement(retried, new CartLine(hot, 2)))).Status);
        Assert.Equal(OrderStatus.AwaitingPayment, (await grains.GetGrain<IOrderGrain>(retried).Confirm())!.Status);
        await Execute(gate, "SELECT pg_advisory_unlock(4242)");

        await Until(async () => (await Holds(storage, slow)).Count == 0, TimeSpan.FromSeconds(30), "the slow order gives its holds back");
        await Task.Delay(TimeSpan.FromSeconds(3)); // a few more hold checks
        Assert.Equal(2, await shop.ReservedAsync(hot));
        Assert.Equal([$"{retried}:0"], (await Holds(storage, hot)).Keys);
        Assert.Equal(OrderStatus.AwaitingPayment, (await grains.GetGrain<IOrderGrain>(retried).Get())!.Status);
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task HoldsAreSettled(SiloStorage storage)
    {
        await using var silo = await SiloProcess.StartAsync(storage, "holds-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Inventory__HoldCheckPeriod"] = "00:00:01",
            });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("seller");
        var sku = await shop.SkuAsync(sellerId, stock: [("wh-de", 10)]);

        using var client = await SiloClients.ConnectAsync(silo);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var address = new ShippingAddress("Anna Schmidt", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49 30 1234567");
        OrderPlacement Placement(string orderId, long quantity) => new(orderId, "chk-" + orderId, "buyer-1", sellerId, "EUR", address,
            [new CartLine(sku, quantity)], OrderSource.Checkout, null, "buyer-1", null);

        // A checkout that dies after preparing: 3 units held, nothing stored for the order.
        var abandoned = OrderTestShop.NewId("o");
        Assert.Equal(PrepareStatus.Prepared, (await grains.GetGrain<IOrderGrain>(abandoned).Prepare(Placement(abandoned, 3))).Status);
        // One placed through the grains and one through the API: 2 + 1 units.
        var placed = OrderTestShop.NewId("o");
        Assert.Equal(PrepareStatus.Prepared, (await grains.GetGrain<IOrderGrain>(placed).Prepare(Placement(placed, 2))).Status);
        Assert.NotNull(await grains.GetGrain<IOrderGrain>(placed).Confirm());
        var buyer = await shop.KeyAsync("buyer", "buyer-2");
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, "buyer-2", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.Equal(HttpStatusCode.Created, status);
        var viaApi = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        Assert.Equal(6, await shop.ReservedAsync(sku));
        Assert.Null(await StoredOrderVersion(storage, abandoned));

        // The holds of orders prepared through the order grain are stored tentative: the SKU firms the placed order's hold in
        // memory (from the order projection) and rewrites no row for it. The one-line checkout's order was placed by the SKU in
        // the write that stored its reservation, so that one is firm from the start.
        var stored = await Holds(storage, sku);
        var expected = new Dictionary<string, bool> { [$"{abandoned}:0"] = true, [$"{placed}:0"] = true, [$"{viaApi}:0"] = false };
        Assert.Equal(expected.OrderBy(h => h.Key, StringComparer.Ordinal), stored.OrderBy(h => h.Key, StringComparer.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(6, await shop.ReservedAsync(sku));
        Assert.Equal(expected.OrderBy(h => h.Key, StringComparer.Ordinal), (await Holds(storage, sku)).OrderBy(h => h.Key, StringComparer.Ordinal));

        // Past the placement time-out (5 minutes): the abandoned order's 3 units come back, the others stay held.
        var (advanced, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 6 * 60 });
        Assert.True(advanced == HttpStatusCode.OK, $"{advanced} {body}");
        await Until(async () => await shop.ReservedAsync(sku) == 3, TimeSpan.FromSeconds(20), "the abandoned hold is released");
        var stock = await shop.StockAsync(sku);
        Assert.Equal(7, stock["totalAvailable"]!.GetValue<long>());
        // The abandoned order can no longer be confirmed: its units are gone.
        Assert.Null(await grains.GetGrain<IOrderGrain>(abandoned).Confirm());
        Assert.Equal(["Placed"], await shop.TimelineEventsAsync(placed));

        // Durable: after a crash the SKU comes back with the placed orders' two reservations (still marked tentative in storage)
        // and settles them again from the order projection: past their time-out once more, they stay held.
        silo.Kill();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);
        Assert.Equal(3, await shop.ReservedAsync(sku));
        var after = await Holds(storage, sku);
        Assert.Equal(new[] { $"{placed}:0", $"{viaApi}:0" }.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        (advanced, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 6 * 60 });
        Assert.True(advanced == HttpStatusCode.OK, $"{advanced} {body}");
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(3, await shop.ReservedAsync(sku));
        Assert.Equal(2, (await Holds(storage, sku)).Count);
        Assert.Equal(["Placed"], await shop.TimelineEventsAsync(placed));
    }

    private static async Task Until(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(250);
        }
    }

    /// <summary>Reservation id → whether its hold is still tentative, for the SKU's stored reservations.</summary>
    private static async Task<Dictionary<string, bool>> Holds(SiloStorage storage, string sku)
    {
        await using var connection = await storage.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT reservation_id, hold_until IS NOT NULL FROM sku_reservations WHERE sku_id = @sku";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "sku";
        parameter.Value = sku;
        command.Parameters.Add(parameter);
        await using var reader = await command.ExecuteReaderAsync();
        var holds = new Dictionary<string, bool>();
        while (await reader.ReadAsync())
        {
            holds[reader.GetString(0)] = Convert.ToBoolean(reader.GetValue(1));
        }
        return holds;
    }

    private static Task<object?> StoredOrderVersion(SiloStorage storage, string orderId) =>
        storage.ScalarAsync("SELECT version FROM grain_state WHERE state_name = 'order' AND grain_id = @id", "id", "order/" + orderId);
}
