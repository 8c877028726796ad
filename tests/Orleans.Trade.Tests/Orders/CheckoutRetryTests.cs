using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// A client's retry of a multi-seller checkout whose first attempt half failed, on a silo process over SQLite: the cart stays all
/// or nothing, and every retry gets an answer.
/// </summary>
public sealed class CheckoutRetryTests
{
    [Fact]
    public async Task A_retry_that_finds_one_sellers_order_live_and_the_others_stock_gone_cancels_it_and_answers_409()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "retry-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["Clock__AllowTestControl"] = "true",
            ["Inventory__HoldCheckPeriod"] = "00:00:01",
        });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (sellerA, sellerB) = (OrderTestShop.NewId("sa"), OrderTestShop.NewId("sb"));
        var skuA = await shop.SkuAsync(sellerA, stock: [("wh-de", 10)]);
        var skuB = await shop.SkuAsync(sellerB, stock: [("wh-de", 1)]);
        var key = OrderTestShop.NewId("key");
        object[] cart = [new { skuId = skuA, quantity = 1 }, new { skuId = skuB, quantity = 1 }];

        // Seller B's order row cannot be written for a moment: A's order goes live, B's does not, and the client is told to retry.
        await storage.ExecuteAsync($"CREATE TRIGGER hiccup BEFORE INSERT ON orders WHEN NEW.seller_id = '{sellerB}' BEGIN SELECT RAISE(ABORT, 'hiccup'); END");
        var (first, firstBody) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, cart);
        Assert.True(first == HttpStatusCode.ServiceUnavailable, $"{first} {firstBody}");
        await storage.ExecuteAsync("DROP TRIGGER hiccup");
        Assert.Equal("AwaitingPayment", await storage.ScalarAsync("SELECT status FROM orders WHERE seller_id = @seller", "seller", sellerA));

        // Before the retry, B's hold runs out (its placement time-out) and another buyer takes B's last unit.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 6 * 60 })).Status);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await shop.ReservedAsync(skuB) != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "B's hold was not given back");
            await Task.Delay(250);
        }
        var (other, otherBody) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-2", OrderTestShop.NewId("key"), [new { skuId = skuB, quantity = 1 }]);
        Assert.True(other == HttpStatusCode.Created, $"{other} {otherBody}");

        // The retry resumes the stored plan: A's order is live, B's line is short. All or nothing: A's order is cancelled and the
        // answer is a 409, to this retry and to the next.
        var (retried, retriedBody) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, cart);
        var (again, _) = await OrderTestShop.CheckoutAsync(shop.Admin, "buyer-1", key, cart);
        Assert.True(retried == HttpStatusCode.Conflict, $"{retried} {retriedBody}");
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("Cancelled", await storage.ScalarAsync("SELECT status FROM orders WHERE seller_id = @seller", "seller", sellerA));
        Assert.Equal(0, await shop.ReservedAsync(skuA));
    }

    [Fact]
    public async Task A_retry_gives_the_coupon_to_the_seller_the_first_attempt_gave_it_though_another_seller_made_the_same_code_since()
    {
        // The retry looked the code up again and gave it to the first seller (by id) offering it: the cart got two coupons.
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "retry-" + Guid.NewGuid().ToString("N")[..8]);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (sellerA, sellerB) = (OrderTestShop.NewId("sa"), OrderTestShop.NewId("sb"));
        var skuA = await shop.SkuAsync(sellerA, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var skuB = await shop.SkuAsync(sellerB, priceMinor: 2_000, stock: [("wh-de", 10)]);
        object Coupon(int percentOff) => new { currency = "USD", percentOff, maxRedemptions = 100 };
        Assert.Equal(HttpStatusCode.Created, (await shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerB}/coupons/SAVE10", Coupon(10))).Status);
        var key = OrderTestShop.NewId("key");
        async Task<(HttpStatusCode, System.Text.Json.Nodes.JsonNode?)> Checkout() =>
            await shop.Admin.PostWithKeyAsync("/api/v1/checkout", key, new
            {
                buyerId = "buyer-1", currency = "EUR", shipTo = OrderTestShop.Address(), couponCode = "SAVE10",
                items = new object[] { new { skuId = skuA, quantity = 1 }, new { skuId = skuB, quantity = 1 } },
            });

        await storage.ExecuteAsync($"CREATE TRIGGER hiccup BEFORE INSERT ON orders WHEN NEW.seller_id = '{sellerA}' BEGIN SELECT RAISE(ABORT, 'hiccup'); END");
        var (first, firstBody) = await Checkout();
        Assert.True(first == HttpStatusCode.ServiceUnavailable, $"{first} {firstBody}");
        await storage.ExecuteAsync("DROP TRIGGER hiccup");
        // Seller A makes a coupon of the same code before the retry.
        Assert.Equal(HttpStatusCode.Created, (await shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerA}/coupons/SAVE10", Coupon(50))).Status);

        var (retried, placed) = await Checkout();

        Assert.True(retried == HttpStatusCode.Created, $"{retried} {placed}");
        var orders = placed!["orders"]!.AsArray();
        var ofA = orders.Single(o => o!["sellerId"]!.GetValue<string>() == sellerA)!;
        var ofB = orders.Single(o => o!["sellerId"]!.GetValue<string>() == sellerB)!;
        Assert.Null(ofA["coupon"]);
        Assert.Equal(200, ofB["coupon"]!["discount"]!["amountMinor"]!.GetValue<long>());
    }
}
