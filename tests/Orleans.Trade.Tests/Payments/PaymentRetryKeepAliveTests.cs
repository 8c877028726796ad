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
    private static Task<SiloProcess> StartAsync(int maxKeptAsking = 10_000) =>
        SiloProcess.StartAsync(SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db")),
            "retry-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
            {
                ["Payments__ReconcilePeriod"] = "00:00:00.500",
                ["Payments__MaxKeptAsking"] = maxKeptAsking.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Payments__Sandbox__RequestTimeout"] = "00:00:01",
                // The slow test card's authorization answers after 6 s: the first request times out and the payment stays pending.
                ["Payments__Sandbox__SlowResponseDelay"] = "00:00:06",
                ["Payments__Sandbox__WebhookUrl"] = $"http://127.0.0.1:{FreePorts.Next()}/nobody-listens",
                ["Orleans__GrainCollection__CollectionQuantum"] = "00:00:01",
                [$"Orleans__GrainCollection__ClassSpecificCollectionAge__{typeof(PaymentGrain).FullName}"] = "00:00:02",
            });

    /// <summary>An order of one unit and a payment of it with the slow test card, left pending by the provider's time-out.</summary>
    private static async Task<(string OrderId, string PaymentId)> PendingPaymentAsync(OrderTestShop shop, HttpClient buyer, string buyerId, string skuId)
    {
        var (checkout, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId, quantity = 1 }]);
        Assert.True(checkout == HttpStatusCode.Created, $"{checkout} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (cardStatus, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = "4000 0000 0000 0119", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(cardStatus == HttpStatusCode.Created, $"{cardStatus} {card}");
        var (status, payment) = await buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "card", cardToken = card!["token"]!.GetValue<string>() });
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {payment}");
        Assert.Equal("pending", payment!["status"]!.GetValue<string>());
        return (orderId, payment["paymentId"]!.GetValue<string>());
    }

    private static async Task<OrderTestShop> ShopAsync(SiloProcess silo)
    {
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var policy = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 });
        Assert.True(policy.Status == HttpStatusCode.OK, $"{policy.Status} {policy.Body}");
        return shop;
    }

    [Fact]
    public async Task A_payment_left_pending_by_a_time_out_keeps_asking_past_its_idle_age_and_pays_the_order()
    {
        await using var silo = await StartAsync();
        var shop = await ShopAsync(silo);
        var skuId = await shop.SkuAsync("seller-retry", stock: ("wh-de", 5));
        var buyer = await shop.KeyAsync("buyer", "buyer-retry");
        var (orderId, paymentId) = await PendingPaymentAsync(shop, buyer, "buyer-retry", skuId);

        // Only the order is read while waiting. Asking every 0.5 s, the payment is captured soon after the provider's 6 s; a
        // payment collected after 2 idle seconds would wait for its reminder, a minute after it was registered.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string orderStatus;
        while ((orderStatus = (await shop.OrderAsync(orderId))["status"]!.GetValue<string>()) == "awaitingPayment" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }
        Assert.Equal("awaitingShipment", orderStatus);
        var (_, paid) = await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}");
        Assert.Equal("captured", paid!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Beyond_the_silo_s_cap_a_pending_payment_leaves_memory_and_waits_for_its_reminder()
    {
        await using var silo = await StartAsync(maxKeptAsking: 1);
        var shop = await ShopAsync(silo);
        var skuId = await shop.SkuAsync("seller-cap", stock: ("wh-de", 5));
        var buyer = await shop.KeyAsync("buyer", "buyer-cap");
        var first = await PendingPaymentAsync(shop, buyer, "buyer-cap", skuId);
        var second = await PendingPaymentAsync(shop, buyer, "buyer-cap", skuId);

        // One payment holds the silo's one place and keeps asking until the provider's answer is there (6 s); the other was
        // collected at its 2 s idle age and asks again only when its one-minute reminder wakes it. Only the orders are read.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string[] statuses;
        long kept = 0;
        while ((statuses = [await StatusAsync(first.OrderId), await StatusAsync(second.OrderId)]).All(s => s == "awaitingPayment") && DateTime.UtcNow < deadline)
        {
            kept = Math.Max(kept, await SiloInspection.MetricAsync(shop.Admin, "trade_payments_kept_asking"));
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        statuses = [await StatusAsync(first.OrderId), await StatusAsync(second.OrderId)];

        Assert.Equal(["awaitingPayment", "awaitingShipment"], statuses.Order());
        Assert.Equal(1, kept);
        Assert.Equal(0, await KeptSettledAsync(shop.Admin));

        async Task<string> StatusAsync(string orderId) => (await shop.OrderAsync(orderId))["status"]!.GetValue<string>();
    }

    /// <summary>The gauge once the metrics endpoint's scrape cache shows the same value twice.</summary>
    private static async Task<long> KeptSettledAsync(HttpClient admin)
    {
        long last = -2, now;
        while ((now = await SiloInspection.MetricAsync(admin, "trade_payments_kept_asking")) != last)
        {
            last = now;
            await Task.Delay(TimeSpan.FromSeconds(1.2));
        }
        return now;
    }
}
