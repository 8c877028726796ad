using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Sellers' coupons over real HTTP on PostgreSQL: a seller keeps its coupons; a checkout naming one takes its discount off that
/// seller's goods (shared by the lines), with VAT, escrow and commission on what was paid; redemptions are counted race-free and
/// a cancelled order gives its own back; refunds give back what was paid for the goods returned (R-SET-3). On a silo with the
/// sandbox payment provider, as the payment tests'.
/// </summary>
public sealed class CouponApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static object Percent(int percentOff, int maxRedemptions = 100, long? maxDiscountMinor = null, long? minSpendMinor = null,
        string currency = "USD", int? maxPerBuyer = null, bool? enabled = null, DateTimeOffset? startsAt = null, DateTimeOffset? endsAt = null) =>
        new { currency, percentOff, maxDiscountMinor, minSpendMinor, maxRedemptions, maxPerBuyer, enabled, startsAt, endsAt };

    private static object AmountOff(long amountOffMinor, int maxRedemptions = 100, long? minSpendMinor = null, int? maxPerBuyer = null) =>
        new { currency = "USD", amountOffMinor, minSpendMinor, maxRedemptions, maxPerBuyer };

    private async Task<JsonNode> CouponAsync(string sellerId, string code, object terms)
    {
        var (status, body) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/{code}", terms);
        Assert.True(status is HttpStatusCode.Created or HttpStatusCode.OK, $"{status} {body}");
        return body!;
    }

    private async Task<JsonNode> CouponReadAsync(string sellerId, string code) =>
        (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons/{code}")).Body!;

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> CheckoutAsync(HttpClient buyer, string buyerId, object[] items, string? couponCode,
        string? key = null, object? payment = null) =>
        await buyer.PostWithKeyAsync("/api/v1/checkout", key ?? OrderTestShop.NewId("key"), new
        {
            buyerId, currency = "USD", shipTo = OrderTestShop.Address(), items, couponCode, payment,
        });

    private static async Task<object> CardAsync(HttpClient buyer)
    {
        var (status, token) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4242 4242 4242 4242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(status == HttpStatusCode.Created, $"{status} {token}");
        return new { method = "card", cardToken = token!["token"]!.GetValue<string>() };
    }

    private async Task<(string BuyerId, HttpClient Buyer)> BuyerAsync()
    {
        var buyerId = OrderTestShop.NewId("b");
        return (buyerId, await Shop.KeyAsync("buyer", buyerId));
    }

    private Task<JsonNode> OrderWhenAsync(string orderId, string status) =>
        Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == status, $"order {orderId} to be {status}");

    private static long Minor(JsonNode? node) => node!["amountMinor"]!.GetValue<long>();

    private static long[] LineDiscounts(JsonNode order) => order["lines"]!.AsArray().Select(l => Minor(l!["discount"])).ToArray();

    [Fact]
    public async Task A_seller_keeps_its_coupons_under_codes_without_case_and_no_other_seller_may_touch_them()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        var path = $"/api/v1/sellers/{sellerId}/coupons/Winter-10";

        var (created, coupon) = await seller.PutJsonAsync(path, Percent(10, maxRedemptions: 50, maxDiscountMinor: 500));
        var (same, unchanged) = await seller.PutJsonAsync(path, Percent(10, maxRedemptions: 50, maxDiscountMinor: 500));
        var (disabled, updated) = await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/WINTER-10", Percent(10, maxRedemptions: 50, maxDiscountMinor: 500, enabled: false));
        var (read, readBack) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons/winter-10");
        var (fixedCreated, _) = await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/five-off", AmountOff(500, minSpendMinor: 2_000));
        var (listed, list) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons");
        var (foreignPut, forbidden) = await other.PutJsonAsync(path, Percent(50));
        var (foreignRead, _) = await other.GetJsonAsync(path);
        var (foreignList, _) = await other.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons");
        var (byAdmin, _) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/admin-made", Percent(5));
        var (missing, _) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons/nothing-here");

        Assert.True(created == HttpStatusCode.Created, $"{created} {coupon}");
        Assert.Equal("WINTER-10", coupon!["code"]!.GetValue<string>());
        Assert.Equal(10, coupon["percentOff"]!.GetValue<int>());
        Assert.Equal(1, coupon["maxPerBuyer"]!.GetValue<int>());
        Assert.True(coupon["enabled"]!.GetValue<bool>());
        Assert.Equal(50, coupon["remaining"]!.GetValue<int>());
        Assert.Equal(1, coupon["version"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, same);
        Assert.Equal(1, unchanged!["version"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, disabled);
        Assert.Equal(2, updated!["version"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, read);
        Assert.False(readBack!["enabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Created, fixedCreated);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(["FIVE-OFF", "WINTER-10"], list!.AsArray().Select(c => c!["code"]!.GetValue<string>()).ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, foreignPut);
        Assert.Contains($"cannot use the coupons of seller '{sellerId}'", forbidden!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, foreignRead);
        Assert.Equal(HttpStatusCode.Forbidden, foreignList);
        Assert.Equal(HttpStatusCode.Created, byAdmin);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(500, (await CouponReadAsync(sellerId, "WINTER-10"))["maxDiscountMinor"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("both", "percentOff")]
    [InlineData("neither", "percentOff")]
    [InlineData("percent-95", "percentOff")]
    [InlineData("amount-0", "amountOffMinor")]
    [InlineData("cap-on-amount", "maxDiscountMinor")]
    [InlineData("window-backwards", "endsAt")]
    [InlineData("no-limit", "maxRedemptions")]
    [InlineData("limit-too-big", "maxRedemptions")]
    [InlineData("per-buyer-0", "maxPerBuyer")]
    [InlineData("no-currency", "currency")]
    [InlineData("bad code!", "code")]
    [InlineData("code-of-thirty-three-characters-x", "code")]
    public async Task A_coupon_with_wrong_terms_is_refused_with_a_400_naming_the_field_and_nothing_is_stored(string example, string field)
    {
        var sellerId = OrderTestShop.NewId("s");
        var now = DateTimeOffset.UtcNow;
        object body = example switch
        {
            "both" => new { currency = "USD", percentOff = 10, amountOffMinor = 100, maxRedemptions = 5 },
            "neither" => new { currency = "USD", maxRedemptions = 5 },
            "percent-95" => Percent(95),
            "amount-0" => AmountOff(0),
            "cap-on-amount" => new { currency = "USD", amountOffMinor = 100, maxDiscountMinor = 50, maxRedemptions = 5 },
            "window-backwards" => Percent(10, startsAt: now.AddDays(2), endsAt: now.AddDays(1)),
            "no-limit" => new { currency = "USD", percentOff = 10 },
            "limit-too-big" => Percent(10, maxRedemptions: 10_001),
            "per-buyer-0" => Percent(10, maxPerBuyer: 0),
            "no-currency" => new { percentOff = 10, maxRedemptions = 5 },
            _ => Percent(10),
        };
        var code = example.StartsWith("code") || example.Contains(' ') ? example : "GOOD-CODE";

        var (status, problem) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/{Uri.EscapeDataString(code)}", body);

        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {problem}");
        Assert.NotNull(problem!["errors"]![field]);
        Assert.Empty((await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons")).Body!.AsArray());
    }

    [Fact]
    public async Task A_coupon_change_whose_write_fails_never_prices_a_checkout_not_even_one_placed_while_it_was_written()
    {
        // The coupon grain is reentrant: redemptions taken while a change of its terms was being written got the changed discount,
        // stored with their orders, though the change's write then failed and the seller was told so.
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "STEADY", Percent(10));
        var (buyerId, buyer) = await BuyerAsync();
        var refusing = await fixture.Silo.Storage.RefuseStateWritesAsync("coupon");
        HttpStatusCode refused;
        (HttpStatusCode Status, JsonNode? Body) during;
        try
        {
            var change = Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/STEADY", Percent(50));
            await Task.Delay(500);
            during = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], "steady");
            (refused, _) = await change;
        }
        finally
        {
            await refusing.DisposeAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.True(during.Status == HttpStatusCode.Created, $"{during.Status} {during.Body}");
        Assert.Equal(200, Minor(during.Body!["orders"]![0]!["coupon"]!["discount"])); // 10%, as stored
        Assert.Equal(10, (await CouponReadAsync(sellerId, "STEADY"))["percentOff"]!.GetValue<int>());
        var (otherId, other) = await BuyerAsync(); // once per buyer, by default
        var (after, placed) = await CheckoutAsync(other, otherId, [new { skuId = sku, quantity = 1 }], "steady");
        Assert.True(after == HttpStatusCode.Created, $"{after} {placed}");
        Assert.Equal(200, Minor(placed!["orders"]![0]!["coupon"]!["discount"]));
    }

    [Fact]
    public async Task A_percent_coupon_comes_off_its_sellers_goods_shared_by_the_lines_with_vat_escrow_and_commission_on_what_was_paid()
    {
        var sellerId = OrderTestShop.NewId("s");
        var vase = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var cup = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        var otherSeller = OrderTestShop.NewId("s");
        var lamp = await Shop.SkuAsync(otherSeller, priceMinor: 3_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "SPRING15", Percent(15));
        var (buyerId, buyer) = await BuyerAsync();

        // Two sellers in one cart: the code (any case) applies to its own seller's order only.
        var (status, created) = await CheckoutAsync(buyer, buyerId,
            [new { skuId = vase, quantity = 2 }, new { skuId = cup, quantity = 1 }, new { skuId = lamp, quantity = 1 }], "spring15", payment: await CardAsync(buyer));

        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orders = created!["orders"]!.AsArray();
        var order = orders.Single(o => o!["sellerId"]!.GetValue<string>() == sellerId)!;
        var untouched = orders.Single(o => o!["sellerId"]!.GetValue<string>() == otherSeller)!;
        var totals = order["totals"]!;
        // 15% of 50.00 = 7.50, shared 6.00 / 1.50 by the lines' values (40.00 and 10.00).
        Assert.Equal("SPRING15", order["coupon"]!["code"]!.GetValue<string>());
        Assert.Equal(750, Minor(order["coupon"]!["discount"]));
        Assert.Equal(750, Minor(totals["discount"]));
        Assert.Equal([600L, 150L], LineDiscounts(order));
        Assert.Equal([4_000L, 1_000L], order["lines"]!.AsArray().Select(l => Minor(l!["lineTotal"])).ToArray());
        Assert.Equal(4_250, Minor(totals["seller"]));
        // IOSS VAT on the price actually paid: 19% of 42.50.
        Assert.Equal(808, Minor(totals["tax"]));
        Assert.Equal(5_058, Minor(totals["buyer"]));
        Assert.Null(untouched["coupon"]);
        Assert.Null(untouched["totals"]!["discount"]);
        Assert.Null(untouched["lines"]![0]!["discount"]);
        Assert.Equal(3_000, Minor(untouched["totals"]!["seller"]));

        // The escrow holds what the buyer paid; the seller funds the coupon, and the commission (8%) is on what each line was paid.
        var orderId = order["orderId"]!.GetValue<string>();
        await OrderWhenAsync(orderId, "awaitingShipment");
        await Eventually.UntilAsync(async () => OrderTestShop.LedgerAccount(await Shop.LedgerAsync(sellerId), $"escrow:{orderId}", "pendingIn"),
            held => held == 5_058, "the escrow to hold what was charged");
        var seller = await Shop.KeyAsync("seller", sellerId);
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "CP" + orderId[^8..] });
        await Shop.ActAsync(Shop.Admin, orderId, "delivery");
        await Shop.ActAsync(buyer, orderId, "confirm-receipt");
        var ledger = await Eventually.ReadAsync(() => Shop.LedgerAsync(sellerId),
            l => OrderTestShop.LedgerAccount(l, "platform:commission:USD", "posted") > 0, "the release to split the escrow");
        Assert.Equal(272 + 68, OrderTestShop.LedgerAccount(ledger, "platform:commission:USD", "posted"));
        Assert.Equal(128, OrderTestShop.LedgerAccount(ledger, "platform:logistics:USD", "posted")); // 3% of 42.50
        Assert.Equal(5_058, OrderTestShop.PostedLegs(ledger));
    }

    [Fact]
    public async Task A_fixed_coupon_on_a_one_line_cart_is_applied_and_its_lines_share_an_uneven_discount_to_the_last_cent()
    {
        var sellerId = OrderTestShop.NewId("s");
        var skus = new[]
        {
            await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]),
            await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]),
            await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]),
        };
        await CouponAsync(sellerId, "SEVEN", AmountOff(700, minSpendMinor: 1_000, maxPerBuyer: 5));
        var (buyerId, buyer) = await BuyerAsync();

        // One line, paid inline by card: placed by its SKU with the redemption, and the card charged the discounted total.
        var (one, single) = await CheckoutAsync(buyer, buyerId, [new { skuId = skus[0], quantity = 1 }], "SEVEN", payment: await CardAsync(buyer));
        var (three, shared) = await CheckoutAsync(buyer, buyerId, skus.Select(s => (object)new { skuId = s, quantity = 1 }).ToArray(), "seven");

        Assert.True(one == HttpStatusCode.Created, $"{one} {single}");
        var alone = single!["orders"]![0]!;
        Assert.Equal(700, Minor(alone["totals"]!["discount"]));
        Assert.Equal(300, Minor(alone["totals"]!["seller"]));
        Assert.Equal([700L], LineDiscounts(alone));
        var charged = Minor(alone["totals"]!["buyer"]);
        Assert.Equal(charged, Minor(single["payments"]![0]!["amount"]));
        var paid = await OrderWhenAsync(alone["orderId"]!.GetValue<string>(), "awaitingShipment");
        Assert.Equal(charged, Minor(paid["totals"]!["buyer"]));
        Assert.True(three == HttpStatusCode.Created, $"{three} {shared}");
        var order = shared!["orders"]![0]!;
        // 7.00 over three lines of 10.00: 2.33 each and the cent left to the first.
        Assert.Equal([234L, 233L, 233L], LineDiscounts(order));
        Assert.Equal(2_300, Minor(order["totals"]!["seller"]));
        Assert.Equal(700, Minor((await Shop.OrderAsync(order["orderId"]!.GetValue<string>()))["totals"]!["discount"]));
        Assert.Equal(2, (await CouponReadAsync(sellerId, "SEVEN"))["redeemed"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_coupon_of_chosen_skus_and_categories_comes_off_those_lines_only_and_a_cart_without_them_is_refused()
    {
        var sellerId = OrderTestShop.NewId("s");
        var vase = await Shop.SkuAsync(sellerId, priceMinor: 2_000, category: "home", stock: [("wh-de", 10)]);
        var robot = await Shop.SkuAsync(sellerId, priceMinor: 3_000, category: "toys", stock: [("wh-de", 10)]);
        var kite = await Shop.SkuAsync(sellerId, priceMinor: 1_000, category: "toys", stock: [("wh-de", 10)]);
        var ball = await Shop.SkuAsync(sellerId, priceMinor: 500, category: "toys", stock: [("wh-de", 10)]);
        var (status, coupon) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/HOME20",
            new { currency = "USD", percentOff = 20, maxRedemptions = 100, maxPerBuyer = 10, minSpendMinor = 3_000, categories = new[] { "HOME", "home" }, skuIds = new[] { kite } });
        Assert.True(status == HttpStatusCode.Created, $"{status} {coupon}");
        Assert.Equal(["HOME"], coupon!["categories"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal([kite], coupon["skuIds"]!.AsArray().Select(c => c!.GetValue<string>()));
        var (again, unchanged) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/HOME20",
            new { currency = "USD", percentOff = 20, maxRedemptions = 100, maxPerBuyer = 10, minSpendMinor = 3_000, categories = new[] { "home" }, skuIds = new[] { kite, kite } });
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(coupon["version"]!.GetValue<long>(), unchanged!["version"]!.GetValue<long>()); // the same terms: nothing written
        var (buyerId, buyer) = await BuyerAsync();

        // The vase (its category) and the kite (its id) count; the robot does not: 20% of 50.00, shared by those two lines.
        var (placed, created) = await CheckoutAsync(buyer, buyerId,
            [new { skuId = vase, quantity = 2 }, new { skuId = robot, quantity = 1 }, new { skuId = kite, quantity = 1 }], "HOME20");
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {created}");
        var order = created!["orders"]![0]!;
        Assert.Equal(1_000, Minor(order["totals"]!["discount"]));
        Assert.Equal([800L, 0L, 200L], order["lines"]!.AsArray().Select(l => l!["discount"] is null ? 0 : Minor(l["discount"])).ToArray());
        Assert.Equal(8_000 - 1_000, Minor(order["totals"]!["seller"]));

        // The minimum spend is of the goods it applies to: a robot and a kite hold 10.00 of them, under 30.00.
        var (under, tooLittle) = await CheckoutAsync(buyer, buyerId, [new { skuId = robot, quantity = 3 }, new { skuId = kite, quantity = 1 }], "HOME20");
        Assert.True(under == HttpStatusCode.UnprocessableEntity, $"{under} {tooLittle}");
        Assert.Contains("of the goods it applies to", tooLittle!["detail"]!.GetValue<string>());
        // A cart of none of them, one line (the SKU's one-call path) or two (the saga): refused, saying which goods it is for.
        foreach (object[] cart in new[] { new object[] { new { skuId = robot, quantity = 2 } }, [new { skuId = robot, quantity = 1 }, new { skuId = ball, quantity = 1 }] })
        {
            var (refused, problem) = await CheckoutAsync(buyer, buyerId, cart, "HOME20");
            Assert.True(refused == HttpStatusCode.UnprocessableEntity, $"{refused} {problem}");
            Assert.Contains("applies only to chosen goods", problem!["detail"]!.GetValue<string>());
        }
        // A one-line cart of a chosen SKU: placed by its SKU, with the discount.
        var (one, single) = await CheckoutAsync(buyer, buyerId, [new { skuId = vase, quantity = 2 }], "HOME20");
        Assert.True(one == HttpStatusCode.Created, $"{one} {single}");
        Assert.Equal(800, Minor(single!["orders"]![0]!["totals"]!["discount"]));
        Assert.Equal(2, (await CouponReadAsync(sellerId, "HOME20"))["redeemed"]!.GetValue<int>());
        Assert.Equal(4, await Shop.ReservedAsync(vase));
        Assert.Equal(1, await Shop.ReservedAsync(robot));
        Assert.Equal(0, await Shop.ReservedAsync(ball));

        var (bad, invalid) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/BAD",
            new { currency = "USD", percentOff = 20, maxRedemptions = 100, skuIds = new[] { "no such sku!" }, categories = new[] { "" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.NotNull(invalid!["errors"]!["skuIds"]);

        // SKU ids the seller does not sell (none such, another seller's) are named and change nothing.
        var theirs = await Shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1_000, stock: [("wh-de", 10)]);
        var missing = OrderTestShop.NewId("sku");
        var (foreign, foreignProblem) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/HOME20",
            new { currency = "USD", percentOff = 20, maxRedemptions = 100, maxPerBuyer = 10, minSpendMinor = 3_000, categories = new[] { "home" }, skuIds = new[] { kite, theirs, missing } });
        Assert.True(foreign == HttpStatusCode.UnprocessableEntity, $"{foreign} {foreignProblem}");
        var detail = foreignProblem!["detail"]!.GetValue<string>();
        Assert.Contains($"'{theirs}'", detail);
        Assert.Contains($"'{missing}'", detail);
        Assert.DoesNotContain($"'{kite}'", detail);
        Assert.Equal([kite], (await CouponReadAsync(sellerId, "HOME20"))["skuIds"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task A_coupon_that_does_not_apply_is_refused_with_422_saying_why_and_nothing_is_reserved_or_redeemed()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        var second = await Shop.SkuAsync(sellerId, priceMinor: 500, stock: [("wh-de", 10)]);
        var elsewhere = OrderTestShop.NewId("s");
        var now = (await Shop.AdvanceClockAsync(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();
        await CouponAsync(elsewhere, "THEIRS", Percent(10));
        await CouponAsync(sellerId, "OFF", Percent(10, enabled: false));
        await CouponAsync(sellerId, "LATER", Percent(10, startsAt: now.AddDays(1)));
        await CouponAsync(sellerId, "OVER", Percent(10, startsAt: now.AddDays(-2), endsAt: now.AddDays(-1)));
        await CouponAsync(sellerId, "BIG-CART", Percent(10, minSpendMinor: 5_000));
        await CouponAsync(sellerId, "EUROS", Percent(10, currency: "EUR"));
        await CouponAsync(sellerId, "ONCE", Percent(10));
        var (buyerId, buyer) = await BuyerAsync();
        object[] cart = [new { skuId = sku, quantity = 2 }, new { skuId = second, quantity = 1 }];

        var (once, _) = await CheckoutAsync(buyer, buyerId, cart, "ONCE");
        Assert.Equal(HttpStatusCode.Created, once);
        var reserved = await Shop.ReservedAsync(sku);
        foreach (var (code, reason) in new[]
        {
            ("NO-SUCH", "not a coupon of a seller whose goods are in this cart"),
            ("THEIRS", "not a coupon of a seller whose goods are in this cart"),
            ("OFF", "disabled"),
            ("LATER", "not yet"),
            ("OVER", "expired"),
            ("BIG-CART", "needs at least 5000 USD"),
            ("EUROS", "is in EUR"),
            ("ONCE", "per buyer"),
        })
        {
            var (status, problem) = await CheckoutAsync(buyer, buyerId, cart, code);
            Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{code}: {status} {problem}");
            Assert.Contains(reason, problem!["detail"]!.GetValue<string>());
        }
        var (malformed, badCode) = await CheckoutAsync(buyer, buyerId, cart, "ten percent");

        Assert.Equal(HttpStatusCode.BadRequest, malformed);
        Assert.NotNull(badCode!["errors"]!["couponCode"]);
        Assert.Equal(reserved, await Shop.ReservedAsync(sku));
        Assert.Equal(0, (await CouponReadAsync(sellerId, "BIG-CART"))["redeemed"]!.GetValue<int>());
        Assert.Equal(1, (await CouponReadAsync(sellerId, "ONCE"))["redeemed"]!.GetValue<int>());
        var orders = (await Shop.Admin.GetJsonAsync($"/api/v1/buyers/{buyerId}/orders")).Body!["items"]!.AsArray();
        Assert.Single(orders);

        // A storefront that sends a blank code means none: placed at the full price.
        var (blank, placed) = await CheckoutAsync(buyer, buyerId, cart, "  ");
        Assert.True(blank == HttpStatusCode.Created, $"{blank} {placed}");
        Assert.Null(placed!["orders"]![0]!["coupon"]);
        Assert.Equal(2_500, placed["orders"]![0]!["totals"]!["seller"]!["amountMinor"]!.GetValue<long>());
    }

    [Fact]
    public async Task Twenty_buyers_racing_for_a_coupon_of_five_get_five_orders_and_the_rest_422_with_nothing_half_written()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 100)]);
        await CouponAsync(sellerId, "FIRST-FIVE", Percent(20, maxRedemptions: 5));
        var buyers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => BuyerAsync()));
        var keys = buyers.Select(_ => OrderTestShop.NewId("key")).ToArray();

        var answers = await Task.WhenAll(buyers.Select((b, i) => CheckoutAsync(b.Buyer, b.BuyerId, [new { skuId = sku, quantity = 2 }], "FIRST-FIVE", keys[i])));

        var placed = answers.Where(a => a.Status == HttpStatusCode.Created).ToArray();
        var refused = answers.Where(a => a.Status == HttpStatusCode.UnprocessableEntity).ToArray();
        Assert.True(placed.Length == 5, string.Join("\n", answers.Select(a => $"{a.Status} {a.Body}")));
        Assert.Equal(15, refused.Length);
        Assert.All(refused, r => Assert.Contains("used as many times as its seller allows (5)", r.Body!["detail"]!.GetValue<string>()));
        Assert.All(placed, p => Assert.Equal(400, Minor(p.Body!["orders"]![0]!["totals"]!["discount"])));
        // Stock is held for the five only (the refused checkouts gave back what they had reserved), and the coupon counts five.
        Assert.Equal(10, await Shop.ReservedAsync(sku));
        Assert.Equal(90, (await Shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());
        var coupon = await CouponReadAsync(sellerId, "FIRST-FIVE");
        Assert.Equal(5, coupon["redeemed"]!.GetValue<int>());
        Assert.Equal(0, coupon["remaining"]!.GetValue<int>());
        var sellerOrders = (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/orders")).Body!["items"]!.AsArray();
        Assert.Equal(5, sellerOrders.Count);

        // A placed checkout sent again with its key answers the same order and takes no second redemption.
        var first = Array.FindIndex(answers, a => a.Status == HttpStatusCode.Created);
        var (again, replay) = await CheckoutAsync(buyers[first].Buyer, buyers[first].BuyerId, [new { skuId = sku, quantity = 2 }], "FIRST-FIVE", keys[first]);
        Assert.True(again == HttpStatusCode.Created, $"{again} {replay}");
        Assert.Equal(answers[first].Body!["orders"]![0]!["orderId"]!.GetValue<string>(), replay!["orders"]![0]!["orderId"]!.GetValue<string>());
        Assert.Equal(5, (await CouponReadAsync(sellerId, "FIRST-FIVE"))["redeemed"]!.GetValue<int>());
        Assert.Equal(10, await Shop.ReservedAsync(sku));
    }

    [Fact]
    public async Task A_one_line_coupon_checkout_is_placed_by_its_sku_in_one_call_and_checkouts_racing_for_the_last_units_leave_no_redemption_behind()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 3)]);
        await CouponAsync(sellerId, "LAST-UNITS", Percent(10));
        var buyers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => BuyerAsync()));

        // Each may pass the SKU's first look at its units and take a redemption before another reserves them: the ones left short
        // give theirs back before they answer.
        var answers = await Task.WhenAll(buyers.Select(b => CheckoutAsync(b.Buyer, b.BuyerId, [new { skuId = sku, quantity = 2 }], "LAST-UNITS")));

        var placed = answers.Where(a => a.Status == HttpStatusCode.Created).ToArray();
        Assert.True(placed.Length == 1, string.Join("\n", answers.Select(a => $"{a.Status} {a.Body}")));
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.Status));
        Assert.Equal(200, Minor(placed[0].Body!["orders"]![0]!["totals"]!["discount"]));
        Assert.Equal(1, (await CouponReadAsync(sellerId, "LAST-UNITS"))["redeemed"]!.GetValue<int>());
        Assert.Equal(2, await Shop.ReservedAsync(sku));
        var orderId = placed[0].Body!["orders"]![0]!["orderId"]!.GetValue<string>();
        await using (var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            // Placed by its SKU: the reservation was stored firm with the order (the saga's is a hold until the order is placed),
            // and the coupon ledger holds this order's redemption only.
            await using var hold = new Npgsql.NpgsqlCommand("SELECT hold_until IS NULL FROM sku_reservations WHERE reservation_id = @id", connection);
            hold.Parameters.AddWithValue("id", orderId + ":0");
            Assert.Equal(true, await hold.ExecuteScalarAsync());
            await using var rows = new Npgsql.NpgsqlCommand("SELECT order_id FROM coupon_redemptions WHERE seller_id = @s", connection);
            rows.Parameters.AddWithValue("s", sellerId);
            Assert.Equal(orderId, await rows.ExecuteScalarAsync());
        }

        // Copies of one coupon checkout sent at once (a double click): one order, one redemption, the same answer to each.
        var more = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        var (buyerId, buyer) = await BuyerAsync();
        var key = OrderTestShop.NewId("key");
        var copies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => CheckoutAsync(buyer, buyerId, [new { skuId = more, quantity = 1 }], "LAST-UNITS", key)));
        Assert.All(copies, c => Assert.True(c.Status == HttpStatusCode.Created, $"{c.Status} {c.Body}"));
        Assert.Single(copies.Select(c => c.Body!["orders"]![0]!["orderId"]!.GetValue<string>()).Distinct());
        Assert.Equal(2, (await CouponReadAsync(sellerId, "LAST-UNITS"))["redeemed"]!.GetValue<int>());
        Assert.Equal(1, await Shop.ReservedAsync(more));
    }

    [Fact]
    public async Task Redemptions_of_placed_orders_are_kept_once_their_hold_time_passes_and_a_cancelled_orders_stays_given_back()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 20)]);
        var second = await Shop.SkuAsync(sellerId, priceMinor: 500, stock: [("wh-de", 20)]);
        await CouponAsync(sellerId, "HOLDS", Percent(10, maxPerBuyer: 10));
        var (buyerId, buyer) = await BuyerAsync();
        // Three one-line carts (placed by their SKU) and a two-line cart (the saga); the last of them cancelled.
        var orders = new List<string>();
        foreach (object[] cart in new[]
        {
            new object[] { new { skuId = sku, quantity = 1 } }, [new { skuId = sku, quantity = 2 }], [new { skuId = second, quantity = 1 }],
            [new { skuId = sku, quantity = 1 }, new { skuId = second, quantity = 1 }],
        })
        {
            var (status, created) = await CheckoutAsync(buyer, buyerId, cart, "HOLDS");
            Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
            orders.Add(created!["orders"]![0]!["orderId"]!.GetValue<string>());
        }
        await Shop.ActAsync(buyer, orders[1], "cancel", new { reason = "changed my mind" });
        await Eventually.UntilAsync(async () => (await CouponReadAsync(sellerId, "HOLDS"))["redeemed"]!.GetValue<int>(), n => n == 3,
            "the cancelled order's redemption to be given back");

        // Past the placement time-out the coupon settles its tentative redemptions: the placed orders' are kept (found in the order
        // rows in bulk), and the cancelled order's is not taken back.
        await Shop.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        async Task<(long Firm, long Rows)> RowsAsync()
        {
            await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FILTER (WHERE hold_until IS NULL), count(*) FROM coupon_redemptions WHERE seller_id = @s", connection);
            command.Parameters.AddWithValue("s", sellerId);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        Assert.Equal(3, (await RowsAsync()).Rows);
        await Eventually.UntilAsync(RowsAsync, r => r == (3, 3), "the placed orders' redemptions to be kept firm");
        Assert.Equal(3, (await CouponReadAsync(sellerId, "HOLDS"))["redeemed"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_checkout_retried_after_its_write_failed_gets_its_coupon_though_the_first_attempts_redemption_is_still_held()
    {
        // Found in review: the SKU took the redemption for the first attempt's order, then its write failed (503: retry). The retry
        // places a new order, and the first one's redemption, tentative until the placement time-out, counted against it: a coupon
        // once per buyer was refused, and the refusal stored against the checkout's key for good.
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "ONCE", Percent(10, maxPerBuyer: 1));
        var (buyerId, buyer) = await BuyerAsync();
        var key = OrderTestShop.NewId("key");
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        await storage.ExecuteAsync($"""
            CREATE FUNCTION refuse_sku_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk hiccup'; END $$;
            CREATE TRIGGER refuse_sku_write BEFORE INSERT ON sku_reservations FOR EACH ROW WHEN (NEW.sku_id = '{sku}') EXECUTE FUNCTION refuse_sku_write();
            """);
        HttpStatusCode failed;
        JsonNode? failedBody;
        try
        {
            (failed, failedBody) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], "ONCE", key);
        }
        finally
        {
            await storage.ExecuteAsync("DROP TRIGGER refuse_sku_write ON sku_reservations; DROP FUNCTION refuse_sku_write()");
        }
        Assert.True((int)failed >= 500, $"{failed} {failedBody}");
        Assert.Equal(1, (await CouponReadAsync(sellerId, "ONCE"))["redeemed"]!.GetValue<int>()); // the first attempt's, held

        var (retried, placed) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], "ONCE", key);
        Assert.True(retried == HttpStatusCode.Created, $"{retried} {placed}");
        Assert.Equal(100, Minor(placed!["orders"]![0]!["totals"]!["discount"]));
        var (again, same) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], "ONCE", key);
        Assert.Equal(HttpStatusCode.Created, again);
        Assert.Equal(placed["orders"]![0]!["orderId"]!.GetValue<string>(), same!["orders"]![0]!["orderId"]!.GetValue<string>());
        // Any other checkout of this buyer counts both: the buyer has used the coupon.
        var (other, otherProblem) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], "ONCE");
        Assert.True(other == HttpStatusCode.UnprocessableEntity, $"{other} {otherProblem}");
        Assert.Equal(1, await Shop.ReservedAsync(sku));

        // Past the placement time-out the first attempt's redemption, whose order was never placed, is given back.
        await Shop.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        await Eventually.UntilAsync(async () => (await CouponReadAsync(sellerId, "ONCE"))["redeemed"]!.GetValue<int>(), n => n == 1,
            "the failed attempt's redemption to be given back");
        var (later, laterProblem) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], "ONCE");
        Assert.True(later == HttpStatusCode.UnprocessableEntity, $"{later} {laterProblem}"); // the placed order's still counts
    }

    [Fact]
    public async Task A_cancelled_order_gives_its_redemption_back_so_another_buyer_may_use_the_coupon()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "JUST-ONE", Percent(10, maxRedemptions: 1));
        var (firstId, first) = await BuyerAsync();
        var (secondId, second) = await BuyerAsync();
        object[] cart = [new { skuId = sku, quantity = 1 }];

        var (placed, order) = await CheckoutAsync(first, firstId, cart, "JUST-ONE");
        var (usedUp, _) = await CheckoutAsync(second, secondId, cart, "JUST-ONE");
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {order}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, usedUp);

        await Shop.ActAsync(first, order!["orders"]![0]!["orderId"]!.GetValue<string>(), "cancel", new { reason = "changed my mind" });
        await Eventually.UntilAsync(async () => (await CouponReadAsync(sellerId, "JUST-ONE"))["redeemed"]!.GetValue<int>(), n => n == 0,
            "the cancelled order's redemption to be given back");
        var (now, secondOrder) = await CheckoutAsync(second, secondId, cart, "JUST-ONE");

        Assert.True(now == HttpStatusCode.Created, $"{now} {secondOrder}");
        Assert.Equal(100, Minor(secondOrder!["orders"]![0]!["totals"]!["discount"]));
        Assert.Equal(1, (await CouponReadAsync(sellerId, "JUST-ONE"))["redeemed"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_return_of_one_discounted_unit_refunds_its_paid_price_and_a_full_refund_gives_back_exactly_what_was_charged()
    {
        var sellerId = OrderTestShop.NewId("s");
        var vase = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var cup = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "RETURNS15", Percent(15, maxPerBuyer: 2));
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (buyerId, buyer) = await BuyerAsync();
        object[] cart = [new { skuId = vase, quantity = 2 }, new { skuId = cup, quantity = 1 }];

        // Delivered, then one vase goes back: it was paid 17.00 (20.00 less its 3.00 share), plus its share of the VAT.
        var (status, created) = await CheckoutAsync(buyer, buyerId, cart, "RETURNS15", payment: await CardAsync(buyer));
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await OrderWhenAsync(orderId, "awaitingShipment");
        var paymentId = order["paidBy"]!.GetValue<string>();
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "RF" + orderId[^8..] });
        await Shop.ActAsync(Shop.Admin, orderId, "delivery");
        const long unitPaid = 1_700;
        var expected = unitPaid + (long)Math.Floor(808 * (decimal)unitPaid / 4_250);
        var (requested, opened) = await buyer.PostJsonAsync($"/api/v1/orders/{orderId}/returns",
            new { reason = "noReason", description = "Changed my mind.", lines = new[] { new { skuId = vase, quantity = 1 } } });
        Assert.True(requested == HttpStatusCode.Created, $"{requested} {opened}");
        Assert.Equal(expected, Minor(opened!["amount"]));
        await seller.PostJsonAsync($"/api/v1/orders/{orderId}/return/address", new
        {
            address = new { name = "Returns desk", line1 = "Lagerstrasse 1", city = "Hamburg", postalCode = "20095", country = "DE", phone = "+49 40 123456" },
        });
        await buyer.PostJsonAsync($"/api/v1/orders/{orderId}/return/shipment", new { carrier = "DHL", trackingNumber = "BACK" + orderId[^6..] });
        var (confirmed, refunded) = await seller.PostJsonAsync($"/api/v1/orders/{orderId}/return/receipt", new { decision = "accept" });
        Assert.True(confirmed == HttpStatusCode.OK, $"{confirmed} {refunded}");
        Assert.Equal(expected, Minor(refunded!["refund"]));
        await Shop.RefundedAsync(paymentId, expected);

        // A second order with the coupon, refunded whole by its seller before shipping: exactly what was charged goes back.
        var (again, second) = await CheckoutAsync(buyer, buyerId, cart, "RETURNS15", payment: await CardAsync(buyer));
        Assert.True(again == HttpStatusCode.Created, $"{again} {second}");
        var secondId = second!["orders"]![0]!["orderId"]!.GetValue<string>();
        var paid = await OrderWhenAsync(secondId, "awaitingShipment");
        var charged = Minor(paid["totals"]!["buyer"]);
        Assert.Equal(5_058, charged);
        var (refundStatus, refund) = await seller.PostWithKeyAsync($"/api/v1/orders/{secondId}/refunds", OrderTestShop.NewId("rf"), new { reason = "out of stock after all" });
        Assert.True(refundStatus == HttpStatusCode.Accepted, $"{refundStatus} {refund}");
        Assert.Equal(charged, Minor(refund!["amount"]));
        Assert.Equal(charged, Minor(refund["buyerAmount"]));
        await Shop.RefundedAsync(paid["paidBy"]!.GetValue<string>(), charged);
        // Refunded whole before shipment: cancelled, and the coupon's use is given back with it.
        await OrderWhenAsync(secondId, "cancelled");
        await Eventually.UntilAsync(async () => (await CouponReadAsync(sellerId, "RETURNS15"))["redeemed"]!.GetValue<int>(), n => n == 1,
            "the refunded order's redemption to be given back");
    }

    [Fact]
    public async Task A_seller_refunding_units_by_lines_gives_back_what_they_were_paid_and_all_of_them_exactly_what_was_charged()
    {
        var sellerId = OrderTestShop.NewId("s");
        var vase = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var cup = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "LINES15", Percent(15));
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (buyerId, buyer) = await BuyerAsync();
        var (status, created) = await CheckoutAsync(buyer, buyerId, [new { skuId = vase, quantity = 2 }, new { skuId = cup, quantity = 1 }], "LINES15",
            payment: await CardAsync(buyer));
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await OrderWhenAsync(orderId, "awaitingShipment");
        var path = $"/api/v1/orders/{orderId}/refunds";

        var (both, bothProblem) = await seller.PostWithKeyAsync(path, OrderTestShop.NewId("rf"),
            new { amount = new { amountMinor = 100, currency = "USD" }, lines = new[] { new { skuId = vase, quantity = 1 } } });
        var (stranger, strangerProblem) = await seller.PostWithKeyAsync(path, OrderTestShop.NewId("rf"), new { lines = new[] { new { skuId = "sku-not-here", quantity = 1 } } });
        var (tooMany, _) = await seller.PostWithKeyAsync(path, OrderTestShop.NewId("rf"), new { lines = new[] { new { skuId = cup, quantity = 2 } } });
        // One vase: paid 17.00 (20.00 less its 3.00 share of the coupon) and 3.23 of the VAT.
        var (one, refund) = await seller.PostWithKeyAsync(path, OrderTestShop.NewId("rf"), new { lines = new[] { new { skuId = vase, quantity = 1 } }, reason = "one broke" });

        Assert.Equal(HttpStatusCode.BadRequest, both);
        Assert.NotNull(bothProblem!["errors"]!["lines"]);
        Assert.True(stranger == HttpStatusCode.UnprocessableEntity, $"{stranger} {strangerProblem}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMany);
        Assert.True(one == HttpStatusCode.Accepted, $"{one} {refund}");
        Assert.Equal(1_700 + 323, Minor(refund!["amount"]));
        await Shop.RefundedAsync(order["paidBy"]!.GetValue<string>(), 2_023);

        // The refunded vase is not refunded again: one vase is left to refund.
        var (twice, twiceProblem) = await seller.PostWithKeyAsync(path, OrderTestShop.NewId("rf"),
            new { lines = new[] { new { skuId = vase, quantity = 2 }, new { skuId = cup, quantity = 1 } } });
        Assert.True(twice == HttpStatusCode.UnprocessableEntity, $"{twice} {twiceProblem}");
        Assert.Contains("1 of the 2 units", twiceProblem!["detail"]!.GetValue<string>());

        // Every unit not refunded yet: what is left of what was charged, so the buyer gets back exactly the 50.58 paid.
        var (rest, last) = await seller.PostWithKeyAsync(path, OrderTestShop.NewId("rf"),
            new { lines = new[] { new { skuId = vase, quantity = 1 }, new { skuId = cup, quantity = 1 } } });
        Assert.True(rest == HttpStatusCode.Accepted, $"{rest} {last}");
        Assert.Equal(5_058 - 2_023, Minor(last!["amount"]));
        await Shop.RefundedAsync(order["paidBy"]!.GetValue<string>(), 5_058);
        Assert.Equal(5_058, Minor((await OrderWhenAsync(orderId, "cancelled"))["refunded"]));
    }

    [Fact]
    public async Task A_dispute_over_a_discounted_order_gives_back_at_most_what_was_charged()
    {
        var sellerId = OrderTestShop.NewId("s");
        var vase = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var cup = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);
        await CouponAsync(sellerId, "DISPUTE15", Percent(15));
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (buyerId, buyer) = await BuyerAsync();
        var (status, created) = await CheckoutAsync(buyer, buyerId, [new { skuId = vase, quantity = 2 }, new { skuId = cup, quantity = 1 }], "DISPUTE15",
            payment: await CardAsync(buyer));
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await OrderWhenAsync(orderId, "awaitingShipment");
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "DP" + orderId[^8..] });
        await Shop.ActAsync(Shop.Admin, orderId, "delivery");

        // The list value was 50.00 + VAT; the buyer paid 50.58 (42.50 + 8.08 VAT): a dispute may ask no more than that.
        var (tooMuch, tooMuchProblem) = await buyer.PostJsonAsync($"/api/v1/orders/{orderId}/disputes",
            new { reason = "notReceived", description = "Never came.", amount = new { amountMinor = 5_059, currency = "USD" } });
        var (opened, dispute) = await buyer.PostJsonAsync($"/api/v1/orders/{orderId}/disputes", new { reason = "notReceived", description = "Never came." });
        var (accepted, resolved) = await seller.PostJsonAsync($"/api/v1/orders/{orderId}/dispute/answer", new { decision = "accept" });

        Assert.True(tooMuch is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest, $"{tooMuch} {tooMuchProblem}");
        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");
        Assert.True(accepted == HttpStatusCode.OK, $"{accepted} {resolved}");
        Assert.Equal(5_058, Minor(resolved!["resolution"]!["refund"]));
        await Shop.RefundedAsync(order["paidBy"]!.GetValue<string>(), 5_058);
        Assert.Equal(5_058, Minor((await OrderWhenAsync(orderId, "closed"))["refunded"]));
    }
}
