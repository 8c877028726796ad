using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// A list setting replaces its default (README, "Configuration"): <c>Payments:InstalmentCounts</c> [3, 6] offers 3 and 6
/// parts only, <c>Orders:NotificationChannels</c> ["email"] lists email only. The configuration binder appends a configured
/// array to the one an options class starts with, so the defaults stayed on and could not be taken away.
/// </summary>
public sealed class ListSettingsTests
{
    [Fact]
    public async Task A_configured_list_replaces_the_default_instead_of_adding_to_it()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "lists-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Payments__InstalmentCounts__0"] = "3",
                ["Payments__InstalmentCounts__1"] = "6",
                ["Orders__NotificationChannels__0"] = "email",
                ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
            });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        // The payment is to be refused or taken for its instalment count alone, whatever the risk model thinks of a new buyer.
        var (policy, answer) = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 });
        Assert.True(policy == HttpStatusCode.OK, $"{policy} {answer}");
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 50_000, stock: [("wh-us", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (placed, checkout) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }],
            currency: "USD", shipTo: OrderTestShop.Address("US", "10001"));
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {checkout}");
        var orderId = checkout!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (tokenised, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4242 4242 4242 4242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(tokenised == HttpStatusCode.Created, $"{tokenised} {card}");
        var cardToken = card!["token"]!.GetValue<string>();

        var (twelve, refusal) = await buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "instalments", cardToken, instalments = 12 });
        Assert.True(twelve == HttpStatusCode.UnprocessableEntity, $"{twelve} {refusal}");
        Assert.Equal("Instalments come in 3, 6 parts, not 12.", refusal!["detail"]!.GetValue<string>());
        var (six, payment) = await buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "instalments", cardToken, instalments = 6 });
        Assert.True(six == HttpStatusCode.Created, $"{six} {payment}");
        Assert.Equal("captured", payment!["status"]!.GetValue<string>());
        Assert.Equal(6, payment["schedule"]!.AsArray().Count);

        var channels = await silo.Storage.ScalarAsync(
            "SELECT channels FROM order_notifications WHERE order_id = @order AND event = 'Placed'", "@order", orderId);
        Assert.Equal("email", channels);
    }
}
