using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// The deadline index on PostgreSQL: follow-up calls done in memory after a write move the row's wake time without the sweeper
/// or a second write, and a sweep that finds more due than it may wake goes on at once instead of waiting a period per batch.
/// </summary>
public sealed class DeadlineIndexTests
{
    private static async Task<(SiloProcess Silo, OrderTestShop Shop, string Connection)> StartAsync(Dictionary<string, string> settings)
    {
        var connection = await PostgresServer.CreateDatabaseAsync("deadline_index");
        settings["Clock__AllowTestControl"] = "true";
        var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connection), "deadline-index-" + Guid.NewGuid().ToString("N")[..8], settings);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        return (silo, shop, connection);
    }

    private static async Task<DateTimeOffset?> WakeAtAsync(string connection, string stateName, string grainIdSuffix)
    {
        await using var db = new Npgsql.NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT wake_at FROM grain_state WHERE state_name = @name AND grain_id LIKE '%' || @id", db);
        command.Parameters.AddWithValue("name", stateName);
        command.Parameters.AddWithValue("id", grainIdSuffix);
        var wake = await command.ExecuteScalarAsync();
        Assert.True(wake is not null, $"no {stateName} row for {grainIdSuffix}");
        return wake is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }

    [Fact]
    public async Task A_paid_orders_escrow_hold_and_the_providers_webhook_move_their_wake_times_on_without_the_sweeper()
    {
        // The sweeper sweeps once at start and then not for an hour: only the moves can change the rows.
        var (silo, shop, connection) = await StartAsync(new() { ["Deadlines__Period"] = "01:00:00" });
        await using var _ = silo;
        var policy = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 });
        Assert.True(policy.Status == HttpStatusCode.OK, $"{policy.Status} {policy.Body}");
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1_500, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (cardStatus, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4242 4242 4242 4242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(cardStatus == HttpStatusCode.Created, $"{cardStatus} {card}");

        var (status, created) = await buyer.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), new
        {
            buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 1 } },
            payment = new { method = "card", cardToken = card!["token"]!.GetValue<string>() },
        });
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var paymentId = created["payments"]![0]!["paymentId"]!.GetValue<string>();
        var paid = await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment",
            $"order {orderId} to be paid");

        // The paid write indexed the order to wake within a minute (its escrow hold was still to do); once the hold is done the
        // row wakes at the ship-by deadline, days away. The provider's payment wakes for nothing once its webhook is out.
        var shipBy = paid["deadlines"]!["shipBy"]!.GetValue<DateTimeOffset>();
        var orderWake = await Eventually.UntilAsync(() => WakeAtAsync(connection, "order", orderId), w => w is { } at && at > DateTimeOffset.UtcNow.AddDays(1),
            $"order {orderId} to wake at its ship-by deadline", TimeSpan.FromSeconds(20));
        Assert.Equal(shipBy.UtcTicks / TimeSpan.TicksPerMillisecond, orderWake!.Value.UtcTicks / TimeSpan.TicksPerMillisecond);
        await Eventually.UntilAsync(() => WakeAtAsync(connection, "sandboxPspPayment", paymentId),
            w => w is null, $"the provider's payment {paymentId} to wake for nothing", TimeSpan.FromSeconds(20));
        var timeline = await shop.TimelineEventsAsync(orderId);
        Assert.Single(timeline, e => e == "Paid");
        // Operators see the moves on /metrics: at least the order's and the provider's payment's, none lost.
        Assert.True(await SiloInspection.MetricAsync(shop.Admin, "trade_deadlines_wake_moves_total") >= 2);
        Assert.Equal(0, await SiloInspection.MetricAsync(shop.Admin, "trade_deadlines_wake_moves_lost_total"));
    }

    [Fact]
    public async Task A_full_sweep_sweeps_again_at_once_so_a_backlog_of_deadlines_clears_within_one_period()
    {
        // At most 3 grains a sweep, a sweep every 20 s: 8 due orders take three sweeps, back to back.
        var (silo, shop, _) = await StartAsync(new() { ["Deadlines__Period"] = "00:00:20", ["Deadlines__MaxPerSweep"] = "3" });
        await using var __ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 8)]);
        var orders = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var buyerId = OrderTestShop.NewId("b");
            var buyer = await shop.KeyAsync("buyer", buyerId);
            var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
            Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
            orders.Add(created!["orders"]![0]!["orderId"]!.GetValue<string>());
        }

        // All eight pass their payment deadline at once.
        var (advanced, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromMinutes(31).TotalSeconds });
        Assert.True(advanced == HttpStatusCode.OK, $"{advanced} {body}");

        // The next sweep comes within 20 s and wakes 3; sweeping again only every period, the last two would wait 40 s more.
        var started = DateTime.UtcNow;
        foreach (var orderId in orders)
        {
            await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "cancelled",
                $"order {orderId} to be cancelled", started.AddSeconds(32) - DateTime.UtcNow);
        }
        Assert.Equal(8, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());
    }

    [Fact]
    public async Task Grains_that_cannot_be_woken_go_behind_the_others_so_they_never_fill_every_sweep()
    {
        // Sweeps of at most 3, every second; 3 rows whose state no longer loads are due before everything else.
        var (silo, shop, connection) = await StartAsync(new()
        {
            ["Deadlines__Period"] = "00:00:01", ["Deadlines__MaxPerSweep"] = "3", ["Orders__DeadlineCheckPeriod"] = "00:00:01",
        });
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await using (var db = new Npgsql.NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            await using var poison = new Npgsql.NpgsqlCommand("""
                INSERT INTO grain_state (service_id, state_name, grain_id, version, payload, wake_at)
                SELECT service_id, 'order', 'order/poison-' || n, 1, '\x00ff00ff'::bytea, timestamptz '2000-01-01' + n * interval '1 second'
                FROM (SELECT service_id FROM grain_state WHERE grain_id LIKE '%' || @order LIMIT 1) AS s, generate_series(1, 3) AS n
                """, db);
            poison.Parameters.AddWithValue("order", orderId);
            Assert.Equal(3, await poison.ExecuteNonQueryAsync());
        }

        // The unpaid order's deadline passes: it is cancelled although the three broken rows are due first.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromMinutes(31).TotalSeconds })).Status);
        await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "cancelled", "the order to be cancelled",
            TimeSpan.FromSeconds(30));
        Assert.True(await WakeAtAsync(connection, "order", "poison-1") > DateTimeOffset.UtcNow, "the broken row was not put back");
    }
}
