using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Deadlines are durable reminders checked against the business clock. Each test has its own silo on PostgreSQL whose business
/// clock the test runs ahead (Clock:AllowTestControl), with reminders ticking every 2 seconds.
/// </summary>
public sealed class OrderDeadlineTests
{
    private static async Task<SiloProcess> StartSilo()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("deadline");
        return await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "deadline-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = "00:00:02",
            });
    }

    private static async Task Advance(OrderTestShop shop, TimeSpan by)
    {
        var (status, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = by.TotalSeconds });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
    }

    private static async Task<string[]> EventuallyTimeline(OrderTestShop shop, string orderId, Func<string[], bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            var events = await shop.TimelineEventsAsync(orderId);
            if (done(events) || DateTime.UtcNow > deadline)
            {
                return events;
            }
            await Task.Delay(250);
        }
    }

    private static async Task<(string OrderId, string Sku, HttpClient Buyer)> PlaceOrder(OrderTestShop shop, long onHand = 10, long quantity = 3)
    {
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", onHand)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity }]);
        Assert.Equal(HttpStatusCode.Created, status);
        return (created!["orders"]![0]!["orderId"]!.GetValue<string>(), sku, buyer);
    }

    [Fact]
    public async Task Unpaid_orders_cancel_after_30_minutes_and_release_stock_once_across_a_restart()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, sku, _) = await PlaceOrder(shop);

        await Advance(shop, TimeSpan.FromMinutes(29));
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal("awaitingPayment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());

        // Crash, and come back 31 minutes after the order in business time.
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = TimeSpan.FromMinutes(31).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("Cancelled"));
        Assert.Equal(["Placed", "Cancelled"], events);
        Assert.Equal("cancelled", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        await Task.Delay(TimeSpan.FromSeconds(6)); // several more ticks: nothing fires twice
        Assert.Equal(["Placed", "Cancelled"], await shop.TimelineEventsAsync(orderId));
        var stock = await shop.StockAsync(sku);
        Assert.Equal(10, stock["totalAvailable"]!.GetValue<long>());
        Assert.Equal(0, stock["warehouses"]![0]!["reserved"]!.GetValue<long>());
    }

    [Fact]
    public async Task Orders_not_shipped_in_the_handling_time_are_marked_late_once_with_a_48_hour_ticket_across_a_restart()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");

        // The deadline passes while the silo is down: it fires after the restart.
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = (TimeSpan.FromDays(5) + TimeSpan.FromMinutes(1)).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("MarkedLate"));
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "MarkedLate"], events);
        var order = await shop.OrderAsync(orderId);
        Assert.True(order["late"]!.GetValue<bool>());
        Assert.Equal("awaitingShipment", order["status"]!.GetValue<string>());
        var tickets = (await shop.Admin.GetJsonAsync("/api/v1/service-tickets")).Body!.AsArray();
        var ticket = Assert.Single(tickets, t => t!["orderId"]!.GetValue<string>() == orderId)!;
        Assert.Equal("LateShipment", ticket["kind"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromHours(48), ticket["dueAt"]!.GetValue<DateTimeOffset>() - ticket["openedAt"]!.GetValue<DateTimeOffset>());
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Single(await shop.TimelineEventsAsync(orderId), e => e == "MarkedLate");
    }

    [Fact]
    public async Task Delivered_orders_complete_by_themselves_after_15_days_once_across_a_restart()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        await shop.ActAsync(shop.Admin, orderId, "ship", new { carrier = "Cainiao", trackingNumber = "LP00123456789" });
        await shop.ActAsync(shop.Admin, orderId, "delivery");

        await Advance(shop, TimeSpan.FromDays(14));
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal("delivered", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = (TimeSpan.FromDays(15) + TimeSpan.FromMinutes(1)).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("Completed"));
        Assert.Equal("Completed", events[^1]);
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Single(await shop.TimelineEventsAsync(orderId), e => e == "Completed");
        var timeline = (await shop.Admin.GetJsonAsync($"/api/v1/orders/{orderId}/timeline")).Body!["entries"]!.AsArray();
        Assert.Equal("system", timeline[^1]!["actor"]!.GetValue<string>());
        Assert.Equal("completed", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
    }
}
