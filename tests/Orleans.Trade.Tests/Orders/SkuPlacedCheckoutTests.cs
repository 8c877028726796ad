using System.Net;
using Npgsql;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// A one-line checkout is placed by its SKU: the order, its list row, its notification, its checkout key and its reservation
/// commit in the SKU's write, and everything the saga promised still holds (R-ORD-2): a retry after a crash answers the same
/// order, another body is refused, a key the saga used first is never placed twice. On a silo over real PostgreSQL.
/// </summary>
public sealed class SkuPlacedCheckoutTests
{
    /// <summary>A silo on a new PostgreSQL database with the test shop's warehouses.</summary>
    private static async Task<(SiloProcess Silo, OrderTestShop Shop, string ConnectionString)> StartAsync(string name)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync(name);
        var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), $"{name}-{Guid.NewGuid().ToString("N")[..8]}",
            new Dictionary<string, string> { ["Notifications__WebhookUrl"] = "" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        return (silo, shop, connectionString);
    }

    [Fact]
    public async Task A_one_line_checkout_is_durable_whole_when_it_is_answered()
    {
        var (silo, shop, connectionString) = await StartAsync("skuplaced");
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("seller"), priceMinor: 1_999, stock: [("wh-de", 5)]);
        var key = OrderTestShop.NewId("key");

        var (status, body) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, [new { skuId = sku, quantity = 2 }]);

        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        var order = body!["orders"]![0]!;
        var orderId = order["orderId"]!.GetValue<string>();
        Assert.Equal("awaitingPayment", order["status"]!.GetValue<string>());
        Assert.Equal(3_998, order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>());
        // Every row is there the moment the 201 is: no projection or outbox left to catch up.
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        Assert.Equal(1, await Scalar(db, "SELECT version FROM grain_state WHERE state_name = 'order' AND grain_id = @p", "order/" + orderId));
        var dueAt = order["deadlines"]!["paymentDueAt"]!.GetValue<DateTimeOffset>();
        var wakeAt = (DateTime)(await Scalar(db, "SELECT wake_at FROM grain_state WHERE state_name = 'order' AND grain_id = @p", "order/" + orderId))!;
        Assert.Equal(dueAt.UtcDateTime, wakeAt.ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM grain_state WHERE state_name = 'checkout' AND grain_id LIKE '%/' || @p", key));
        Assert.Equal("AwaitingPayment", await Scalar(db, "SELECT status FROM orders WHERE order_id = @p", orderId));
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM order_notifications WHERE order_id = @p AND event = 'Placed'", orderId));
        Assert.Equal(false, await Scalar(db, "SELECT hold_until IS NOT NULL FROM sku_reservations WHERE reservation_id = @p", orderId + ":0"));

        // The order grain, activated later, reads what the SKU stored and answers the same order.
        Assert.Equal(order.ToJsonString(), (await shop.OrderAsync(orderId)).ToJsonString());
        Assert.Equal(["Placed"], await shop.TimelineEventsAsync(orderId));
        Assert.Equal(3, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());

        // And it lives on as any order: cancelled, its units come back.
        await shop.ActAsync(shop.Admin, orderId, "cancel", new { reason = "changed my mind" });
        await Eventually.ReadAsync(() => shop.StockAsync(sku), stock => stock["totalAvailable"]!.GetValue<long>() == 5,
            "the cancelled order's units are back");
    }

    [Fact]
    public async Task A_one_line_checkout_retried_after_a_crash_answers_the_same_order_and_holds_no_more_stock()
    {
        var (silo, shop, connectionString) = await StartAsync("skuretry");
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("seller"), stock: [("wh-de", 5)]);
        var key = OrderTestShop.NewId("key");
        var (status, first) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, [new { skuId = sku, quantity = 2 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {first}");
        var orderId = first!["orders"]![0]!["orderId"]!.GetValue<string>();

        // The SKU comes back without its memory of the checkout: its write meets the stored key, gives the units back, and the
        // saga answers from the stored plan.
        silo.Kill();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);
        var (again, retried) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, [new { skuId = sku, quantity = 2 }]);
        Assert.True(again == HttpStatusCode.Created, $"{again} {retried}");
        Assert.Equal(orderId, retried!["orders"]![0]!["orderId"]!.GetValue<string>());
        Assert.Equal(first["checkoutId"]!.GetValue<string>(), retried["checkoutId"]!.GetValue<string>());
        var (reused, problem) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, [new { skuId = sku, quantity = 1 }]);
        Assert.True(reused == HttpStatusCode.UnprocessableEntity, $"{reused} {problem}");
        Assert.Contains("Idempotency-Key", problem!["detail"]!.GetValue<string>());

        Assert.Equal(2, await shop.ReservedAsync(sku));
        Assert.Equal(3, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM sku_reservations WHERE sku_id = @p", sku));
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM orders WHERE buyer_id = @p", "buyer-1"));
    }

    [Fact]
    public async Task A_key_the_saga_used_first_is_refused_for_a_one_line_cart_and_its_sku_keeps_its_units()
    {
        var (silo, shop, connectionString) = await StartAsync("skukey");
        await using var _ = silo;
        var seller = OrderTestShop.NewId("seller");
        var skuA = await shop.SkuAsync(seller, stock: [("wh-de", 5)]);
        var skuB = await shop.SkuAsync(seller, stock: [("wh-de", 5)]);
        var key = OrderTestShop.NewId("key");
        var (status, body) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key,
            [new { skuId = skuA, quantity = 1 }, new { skuId = skuB, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");

        var (reused, problem) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, [new { skuId = skuB, quantity = 3 }]);

        Assert.True(reused == HttpStatusCode.UnprocessableEntity, $"{reused} {problem}");
        Assert.Equal(1, await shop.ReservedAsync(skuB));
        Assert.Equal(4, (await shop.StockAsync(skuB))["totalAvailable"]!.GetValue<long>());
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM sku_reservations WHERE sku_id = @p", skuB));
        Assert.Equal(1L, await Scalar(db, "SELECT count(*) FROM orders WHERE buyer_id = @p", "buyer-1"));
        // The SKU placed nothing and kept no hold: the next buyer gets every unit left.
        var (next, placed) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-2", OrderTestShop.NewId("key"), [new { skuId = skuB, quantity = 4 }]);
        Assert.True(next == HttpStatusCode.Created, $"{next} {placed}");
        Assert.Equal(0, (await shop.StockAsync(skuB))["totalAvailable"]!.GetValue<long>());
    }

    private static async Task<object?> Scalar(NpgsqlConnection db, string sql, string parameter)
    {
        await using var command = new NpgsqlCommand(sql, db);
        command.Parameters.AddWithValue("p", parameter);
        return await command.ExecuteScalarAsync();
    }
}
