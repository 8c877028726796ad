using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Payments;

/// <summary>
/// R-ORD-1: an unpaid order is cancelled at the end of its payment window, and a payment cannot stretch the window without
/// end. Against a silo on PostgreSQL whose deadline sweeper runs once an hour, so the test, not the sweeper, decides when an
/// overdue order is asked to pay.
/// </summary>
public sealed class PaymentWindowTests
{
    [Fact]
    public async Task An_order_past_its_payment_window_takes_no_payment_and_only_the_first_transfer_moves_the_window()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("paywindow");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "paywindow-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = "01:00:00",
                ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
            });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        async Task<string> OrderAsync()
        {
            var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
            Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
            return created!["orders"]![0]!["orderId"]!.GetValue<string>();
        }
        Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body)> TransferAsync(string orderId) =>
            buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"), new { method = "bankTransfer" });
        async Task AdvanceAsync(TimeSpan by)
        {
            var (status, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = (long)by.TotalSeconds });
            Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        }

        // Transfers: the first gives the order until its pay-by time; a second one, two days on, shares that time.
        var waiting = await OrderAsync();
        var (first, firstTransfer) = await TransferAsync(waiting);
        Assert.True(first == HttpStatusCode.Accepted, $"{first} {firstTransfer}");
        var payBy = firstTransfer!["payBy"]!.GetValue<DateTimeOffset>();
        await AdvanceAsync(TimeSpan.FromDays(2));
        var (second, secondTransfer) = await TransferAsync(waiting);
        Assert.True(second == HttpStatusCode.Accepted, $"{second} {secondTransfer}");
        Assert.Equal(payBy, secondTransfer!["payBy"]!.GetValue<DateTimeOffset>());
        Assert.Equal(payBy, (await shop.OrderAsync(waiting))["deadlines"]!["paymentDueAt"]!.GetValue<DateTimeOffset>());

        // Past its window, before the sweeper's pass: a transfer would have given it three more days; it is refused.
        var overdue = await OrderAsync();
        var due = (await shop.OrderAsync(overdue))["deadlines"]!["paymentDueAt"]!.GetValue<DateTimeOffset>();
        await AdvanceAsync(TimeSpan.FromMinutes(31));
        var (late, problem) = await TransferAsync(overdue);
        Assert.True(late == HttpStatusCode.Conflict, $"{late} {problem}");
        Assert.Contains("payment window closed", problem!["detail"]!.GetValue<string>());
        var order = await shop.OrderAsync(overdue);
        Assert.Equal("awaitingPayment", order["status"]!.GetValue<string>());
        Assert.Equal(due, order["deadlines"]!["paymentDueAt"]!.GetValue<DateTimeOffset>());
        Assert.Empty((await buyer.GetJsonAsync($"/api/v1/orders/{overdue}/payments")).Body!["items"]!.AsArray());
    }
}
