using System.Net;
using Orleans.Trade.Payments;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Payments;

/// <summary>
/// A payment whose provider did not answer keeps asking every <c>Payments:ReconcilePeriod</c> even past its grain's idle age
/// (timer ticks are not activity to Orleans), instead of leaving memory and waiting for its one-minute reminder. Webhooks go
/// nowhere here, so only the payment's own asking can finish it; nothing calls the payment grain while the test waits.
/// </summary>
public sealed class PaymentRetryKeepAliveTests
{
    [Fact]
    public async Task A_payment_left_pending_by_a_time_out_keeps_asking_past_its_idle_age_and_pays_the_order()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "retry-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["Payments__ReconcilePeriod"] = "00:00:00.500",
            ["Payments__Sandbox__RequestTimeout"] = "00:00:01",
            // The slow test card's authorization answers after 6 s: the first request times out and the payment stays pending.
            ["Payments__Sandbox__SlowResponseDelay"] = "00:00:06",
            ["Payments__Sandbox__WebhookUrl"] = $"http://127.0.0.1:{FreePorts.Next()}/nobody-listens",
            ["Orleans__GrainCollection__CollectionQuantum"] = "00:00:01",
            [$"Orleans__GrainCollection__ClassSpecificCollectionAge__{typeof(PaymentGrain).FullName}"] = "00:00:02",
        });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var policy = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 });
        Assert.True(policy.Status == HttpStatusCode.OK, $"{policy.Status} {policy.Body}");
        var skuId = await shop.SkuAsync("seller-retry", stock: ("wh-de", 5));
        var buyer = await shop.KeyAsync("buyer", "buyer-retry");
        var (checkout, created) = await OrderTestShop.CheckoutAsync(buyer, "buyer-retry", OrderTestShop.NewId("key"), [new { skuId, quantity = 1 }]);
        Assert.True(checkout == HttpStatusCode.Created, $"{checkout} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (cardStatus, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = "4000 0000 0000 0119", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(cardStatus == HttpStatusCode.Created, $"{cardStatus} {card}");

        var (status, payment) = await buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "card", cardToken = card!["token"]!.GetValue<string>() });
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {payment}");
        Assert.Equal("pending", payment!["status"]!.GetValue<string>());

        // Only the order is read while waiting. Asking every 0.5 s, the payment is captured soon after the provider's 6 s; a
        // payment collected after 2 idle seconds would wait for its reminder, a minute after it was registered.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string orderStatus;
        while ((orderStatus = (await shop.OrderAsync(orderId))["status"]!.GetValue<string>()) == "awaitingPayment" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }
        Assert.Equal("awaitingShipment", orderStatus);
        var (_, paid) = await shop.Admin.GetJsonAsync($"/api/v1/payments/{payment["paymentId"]!.GetValue<string>()}");
        Assert.Equal("captured", paid!["status"]!.GetValue<string>());
    }
}
