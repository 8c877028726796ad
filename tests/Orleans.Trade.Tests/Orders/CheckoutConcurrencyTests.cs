using System.Collections.Concurrent;
using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Trade.Tests.Orders;

/// <summary>The flash-sale rules on real PostgreSQL: no overselling under a burst, and nothing acknowledged lost in a crash.</summary>
public sealed class CheckoutConcurrencyTests(ITestOutputHelper output)
{
    private static async Task<SiloProcess> StartSilo(string name) => await StartSilo(name, await PostgresServer.CreateDatabaseAsync(name));

    private static async Task<SiloProcess> StartSilo(string name, string connectionString) =>
        await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), name + "-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = "00:00:02",
                ["Notifications__WebhookUrl"] = "", // recorded as skipped: this test is about stock
            });

    private static HttpClient LoadClient(SiloProcess silo)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
        {
            BaseAddress = silo.BaseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };
        client.DefaultRequestHeaders.Add("X-Api-Key", SiloProcess.AdminKey);
        return client;
    }

    [Fact]
    public async Task Two_thousand_concurrent_checkouts_for_500_units_sell_exactly_500()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("burst");
        await using var silo = await StartSilo("burst", connectionString);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, stock: [("wh-cn", 300), ("wh-de", 200)]);
        using var load = LoadClient(silo);

        var started = DateTime.UtcNow;
        var results = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i =>
            OrderTestShop.CheckoutAsync(load, $"buyer-{i}", $"burst-key-{i:D5}", [new { skuId = sku, quantity = 1 }])));
        output.WriteLine($"2,000 checkouts in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");

        Assert.All(results, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{r.Status} {r.Body}"));
        var created = results.Where(r => r.Status == HttpStatusCode.Created).ToArray();
        Assert.Equal(500, created.Length);
        var stock = await shop.StockAsync(sku);
        Assert.Equal(0, stock["totalAvailable"]!.GetValue<long>());
        Assert.Equal(500, stock["warehouses"]!.AsArray().Sum(w => w!["reserved"]!.GetValue<long>()));
        Assert.Equal(500, stock["warehouses"]!.AsArray().Sum(w => w!["onHand"]!.GetValue<long>()));
        var orderIds = created.Select(r => r.Body!["orders"]![0]!["orderId"]!.GetValue<string>()).ToArray();
        Assert.Equal(500, orderIds.Distinct().Count());
        foreach (var orderId in orderIds)
        {
            Assert.Equal("awaitingPayment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        }
        Assert.Equal(500, (await shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/orders?pageSize=1")).Body!["total"]!.GetValue<long>());

        // The outbox: one notification per placed order (listing its channels), each recorded as skipped with no webhook set,
        // already when it was written (delivered at its own time: no second write by the dispatcher).
        await using var db = new Npgsql.NpgsqlConnection(connectionString);
        await db.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long pending;
        do
        {
            await Task.Delay(200);
            await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM order_notifications WHERE delivered_at IS NULL", db);
            pending = (long)(await count.ExecuteScalarAsync())!;
        }
        while (pending > 0 && DateTime.UtcNow < deadline);
        Assert.Equal(0, pending);
        await using var rows = new Npgsql.NpgsqlCommand(
            "SELECT order_id, channels, event, attempts, last_error, delivered_at = created_at FROM order_notifications WHERE order_id = ANY(@ids)", db);
        rows.Parameters.AddWithValue("ids", orderIds);
        var notifications = new List<(string Order, string Channels, string Event, int Attempts, string Note, bool SkippedOnWrite)>();
        await using (var reader = await rows.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                notifications.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4), reader.GetBoolean(5)));
            }
        }
        Assert.Equal(orderIds.Order(), notifications.Select(n => n.Order).Order());
        Assert.All(notifications, n =>
        {
            Assert.Equal(("email,sms,push", "Placed", 1, true), (n.Channels, n.Event, n.Attempts, n.SkippedOnWrite));
            Assert.StartsWith("skipped", n.Note);
        });
    }

    [Fact]
    public async Task A_sigkill_during_a_checkout_burst_loses_no_acknowledged_order_and_stock_adds_up()
    {
        await using var silo = await StartSilo("crash");
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        const long units = 200;
        var sku = await shop.SkuAsync(sellerId, stock: [("wh-de", units)]);
        var acknowledged = new ConcurrentDictionary<string, string>(); // idempotency key -> order id
        using (var load = LoadClient(silo))
        {
            var burst = Enumerable.Range(0, 400).Select(async i =>
            {
                var key = $"crash-key-{i:D5}";
                try
                {
                    var (status, body) = await OrderTestShop.CheckoutAsync(load, $"buyer-{i}", key, [new { skuId = sku, quantity = 1 }]);
                    if (status == HttpStatusCode.Created)
                    {
                        acknowledged[key] = body!["orders"]![0]!["orderId"]!.GetValue<string>();
                    }
                }
                catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException)
                {
                    // The silo died under this request (a connection dropped right after accept surfaces as a bare
                    // SocketException): it was never acknowledged.
                }
            }).ToArray();
            while (acknowledged.Count < 40 && !burst.All(t => t.IsCompleted))
            {
                await Task.Delay(5);
            }
            silo.Kill();
            await Task.WhenAll(burst);
        }
        output.WriteLine($"{acknowledged.Count} orders acknowledged before the kill");
        Assert.NotEmpty(acknowledged);

        // Restart ten minutes later in business time, so abandoned placements time out and give their stock back.
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = "600";
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        foreach (var (_, orderId) in acknowledged)
        {
            var (status, order) = await shop.Admin.GetJsonAsync($"/api/v1/orders/{orderId}");
            Assert.True(status == HttpStatusCode.OK, $"acknowledged order {orderId} is missing after the crash");
            Assert.Equal("awaitingPayment", order!["status"]!.GetValue<string>());
        }
        // Replaying every key: acknowledged ones answer the same order; the others resume or fail cleanly, never a 5xx.
        using (var load = LoadClient(silo))
        {
            for (var i = 0; i < 400; i++)
            {
                var key = $"crash-key-{i:D5}";
                var (status, body) = await OrderTestShop.CheckoutAsync(load, $"buyer-{i}", key, [new { skuId = sku, quantity = 1 }]);
                if (acknowledged.TryGetValue(key, out var orderId))
                {
                    Assert.Equal(HttpStatusCode.Created, status);
                    Assert.Equal(orderId, body!["orders"]![0]!["orderId"]!.GetValue<string>());
                }
                else
                {
                    Assert.True(status is HttpStatusCode.Created or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity, $"{key}: {status} {body}");
                }
            }
        }

        // Stock adds up: what is reserved is exactly what live orders hold, and reserved + available is what the ERP put in.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long reserved, available, live;
        do
        {
            await Task.Delay(500);
            var stock = await shop.StockAsync(sku);
            reserved = stock["warehouses"]![0]!["reserved"]!.GetValue<long>();
            available = stock["totalAvailable"]!.GetValue<long>();
            live = (await shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/orders?status=AwaitingPayment&pageSize=1")).Body!["total"]!.GetValue<long>();
        }
        while ((reserved != live || reserved + available != units) && DateTime.UtcNow < deadline);
        output.WriteLine($"reserved {reserved}, available {available}, live orders {live}");
        Assert.Equal(live, reserved);
        Assert.Equal(units, reserved + available);
        Assert.True(live >= acknowledged.Count);
    }
}
