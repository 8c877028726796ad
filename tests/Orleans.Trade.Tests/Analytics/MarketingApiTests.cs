using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>A silo whose toys pay 15% commission (8% otherwise), with warehouses; on PostgreSQL or SQLite.</summary>
public abstract class MarketingSiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public OrderTestShop Shop { get; private set; } = null!;

    protected abstract Task<SiloStorage> StorageAsync();

    public async Task InitializeAsync()
    {
        Silo = new SiloProcess(await StorageAsync(), "marketing-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
            ["Settlement__CategoryCommissionRateBps__toys"] = "1500",
        });
        await Silo.StartAsync();
        Shop = new OrderTestShop(Silo);
        await Shop.WarehousesAsync();
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

public sealed class MarketingPostgresFixture : MarketingSiloFixture
{
    protected override async Task<SiloStorage> StorageAsync() => SiloStorage.Postgres(await PostgresServer.CreateDatabaseAsync("marketing"));
}

public sealed class MarketingSqliteFixture : MarketingSiloFixture
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");

    protected override Task<SiloStorage> StorageAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        return Task.FromResult(SiloStorage.Sqlite(_path));
    }
}

/// <summary>
/// Ad attribution at checkout, ad spend, ad ROI per channel and GMV against margin per category over real HTTP (R-DAT-4): the
/// channel kept on the orders of both checkout paths (the SKU's one-line one and the saga), spend imports replaced not added,
/// ROI and margin computed by hand from a few paid orders, and a SKU's unit cost hidden from buyers. Run on PostgreSQL and SQLite.
/// </summary>
public abstract class MarketingApiTests(MarketingSiloFixture fixture)
{
    private OrderTestShop Shop => fixture.Shop;

    private static string Q(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O"));

    private static DateTimeOffset Today => new(DateTime.UtcNow.Date, TimeSpan.Zero);

    private static string Day(DateTimeOffset at) => at.ToString("yyyy-MM-dd");

    private async Task<string> SkuAsync(string sellerId, long priceMinor, string category, object? unitCost = null)
    {
        var skuId = OrderTestShop.NewId("sku");
        var (status, body) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{skuId}", new
        {
            sellerId, title = "Item " + skuId, category, price = new { amountMinor = priceMinor, currency = "USD" }, weightGrams = 500,
            hsCode = "950300", originCountry = "CN", unitCost,
        });
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        var put = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{skuId}/stock/wh-de", new { onHand = 100, version = 1 });
        Assert.Equal(HttpStatusCode.OK, put.Status);
        return skuId;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> CheckoutAsync(HttpClient buyer, string buyerId, object[] items,
        object? attribution = null, string? couponCode = null, string? key = null) =>
        await buyer.PostWithKeyAsync("/api/v1/checkout", key ?? OrderTestShop.NewId("key"),
            new { buyerId, currency = "USD", shipTo = OrderTestShop.Address(), items, attribution, couponCode });

    /// <summary>Checks out and has the admin record the payment of every order placed; answers the order ids.</summary>
    private async Task<string[]> PaidAsync(object[] items, object? attribution = null, string? couponCode = null)
    {
        var buyerId = OrderTestShop.NewId("b");
        var (status, created) = await CheckoutAsync(await Shop.KeyAsync("buyer", buyerId), buyerId, items, attribution, couponCode);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderIds = created!["orders"]!.AsArray().Select(o => o!["orderId"]!.GetValue<string>()).ToArray();
        foreach (var orderId in orderIds)
        {
            await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        }
        return orderIds;
    }

    private static JsonNode Single(JsonNode amounts) => Assert.Single(amounts.AsArray())!;

    private static void AssertAmount(JsonNode amount, long spend, long orders, long gmv, double? roas, double? roi, long? margin = null,
        double? roiOnMargin = null)
    {
        Assert.Equal(margin, amount["marginMinor"]?.GetValue<long>());
        Assert.Equal(roiOnMargin, amount["roiOnMargin"]?.GetValue<double>());
        Assert.Equal("USD", amount["currency"]!.GetValue<string>());
        Assert.Equal(spend, amount["spendMinor"]!.GetValue<long>());
        Assert.Equal(orders, amount["orders"]!.GetValue<long>());
        Assert.Equal(gmv, amount["gmvMinor"]!.GetValue<long>());
        Assert.Equal(roas, amount["roas"]?.GetValue<double>());
        Assert.Equal(roi, amount["roi"]?.GetValue<double>());
    }

    [Fact]
    public async Task Attribution_is_kept_on_the_orders_of_a_one_line_checkout_and_of_a_two_seller_cart_and_in_the_order_lists()
    {
        var sellerId = OrderTestShop.NewId("s");
        var otherId = OrderTestShop.NewId("s");
        var sku = await SkuAsync(sellerId, 2_000, "home");
        var otherSku = await SkuAsync(otherId, 3_000, "home");
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);

        // One line: the SKU places the order itself.
        var (one, oneBody) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], new { channel = "google-ads", campaign = "Xmas 2026 / DE" });
        Assert.True(one == HttpStatusCode.Created, $"{one} {oneBody}");
        var single = Assert.Single(oneBody!["orders"]!.AsArray())!;
        Assert.Equal("google-ads", single["attribution"]!["channel"]!.GetValue<string>());
        Assert.Equal("Xmas 2026 / DE", single["attribution"]!["campaign"]!.GetValue<string>());

        // Two sellers: the saga places both orders, each with the attribution.
        var (two, twoBody) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }, new { skuId = otherSku, quantity = 2 }],
            new { channel = "affiliate" });
        Assert.True(two == HttpStatusCode.Created, $"{two} {twoBody}");
        Assert.Equal(2, twoBody!["orders"]!.AsArray().Count);
        foreach (var order in twoBody["orders"]!.AsArray())
        {
            var stored = await Shop.OrderAsync(order!["orderId"]!.GetValue<string>());
            Assert.Equal("affiliate", stored["attribution"]!["channel"]!.GetValue<string>());
            Assert.Null(stored["attribution"]!["campaign"]);
        }
        var stored1 = await Shop.OrderAsync(single["orderId"]!.GetValue<string>());
        Assert.Equal("Xmas 2026 / DE", stored1["attribution"]!["campaign"]!.GetValue<string>());

        // The order rows keep it: the seller's list shows each order's channel and campaign.
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (listed, list) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/orders");
        Assert.True(listed == HttpStatusCode.OK, $"{listed} {list}");
        var channels = list!["items"]!.AsArray().Select(i => (i!["channel"]?.GetValue<string>(), i["campaign"]?.GetValue<string>())).OrderBy(c => c.Item1).ToArray();
        Assert.Equal([("affiliate", (string?)null), ("google-ads", "Xmas 2026 / DE")], channels);

        // An order without one shows none.
        var (plain, plainBody) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        Assert.True(plain == HttpStatusCode.Created, $"{plain} {plainBody}");
        Assert.Null(plainBody!["orders"]![0]!["attribution"]);

        // The attribution is part of the request: the same key with another channel is another request.
        var key = OrderTestShop.NewId("key");
        var (first, _) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], new { channel = "email" }, key: key);
        var (again, againBody) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], new { channel = "email" }, key: key);
        var (changed, _) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], new { channel = "organic" }, key: key);
        Assert.Equal(HttpStatusCode.Created, first);
        Assert.True(again == HttpStatusCode.Created, $"{again} {againBody}");
        Assert.Equal("email", againBody!["orders"]![0]!["attribution"]!["channel"]!.GetValue<string>());
        Assert.True(changed is HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity, $"{changed}");
    }

    [Fact]
    public async Task A_malformed_attribution_is_refused_naming_the_field()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await SkuAsync(sellerId, 2_000, "home");
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        foreach (var (attribution, field) in new (object, string)[]
        {
            (new { channel = "Google Ads" }, "attribution.channel"),
            (new { channel = new string('a', 41) }, "attribution.channel"),
            (new { channel = "unattributed" }, "attribution.channel"),
            (new { campaign = "xmas" }, "attribution.channel"),
            (new { channel = "email", campaign = "" }, "attribution.campaign"),
            (new { channel = "email", campaign = new string('c', 101) }, "attribution.campaign"),
            (new { channel = "email", campaign = "line\nbreak" }, "attribution.campaign"),
        })
        {
            var (status, problem) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }], attribution);
            Assert.True(status == HttpStatusCode.BadRequest, $"{attribution}: {status} {problem}");
            Assert.NotNull(problem!["errors"]![field]);
        }
        Assert.Equal(0, await Shop.ReservedAsync(sku));
    }

    [Fact]
    public async Task Ad_spend_is_upserted_per_seller_channel_campaign_day_and_currency_with_per_item_results()
    {
        var sellerId = OrderTestShop.NewId("s");
        var channel = "t-" + Guid.NewGuid().ToString("N")[..12];
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        object[] items =
        [
            new { channel, day = Day(Today), spend = new { amountMinor = 1_000, currency = "USD" } },
            new { channel, campaign = "xmas", day = Day(Today), spend = new { amountMinor = 2_000, currency = "USD" }, sellerId },
            new { channel = "Bad Channel", day = Day(Today), spend = new { amountMinor = 1, currency = "USD" } },
            new { channel, day = "2026-13-01", spend = new { amountMinor = 1, currency = "USD" } },
            new { channel, day = Day(Today), spend = new { amountMinor = -5, currency = "USD" } },
            new { channel, day = Day(Today), spend = new { amountMinor = 5, currency = "usd" } },
        ];
        var (status, body) = await analyst.PostJsonAsync("/api/v1/analytics/ad-spend", new { items });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        Assert.Equal(2, body!["recorded"]!.GetValue<int>());
        Assert.Equal(0, body["unchanged"]!.GetValue<int>());
        Assert.Equal(4, body["invalid"]!.GetValue<int>());
        var results = body["results"]!.AsArray();
        Assert.Equal(["recorded", "recorded", "invalid", "invalid", "invalid", "invalid"], results.Select(r => r!["status"]!.GetValue<string>()));
        Assert.Equal("items[2].channel", results[2]!["field"]!.GetValue<string>());
        Assert.Equal("items[3].day", results[3]!["field"]!.GetValue<string>());
        Assert.Equal("items[4].spend.amountMinor", results[4]!["field"]!.GetValue<string>());
        Assert.Equal("items[5].spend.currency", results[5]!["field"]!.GetValue<string>());

        // Sent again: nothing changes. The seller's own key then corrects its day's amount: replaced, not added.
        var (again, againBody) = await analyst.PostJsonAsync("/api/v1/analytics/ad-spend", new { items = items[..2] });
        Assert.True(again == HttpStatusCode.OK, $"{again} {againBody}");
        Assert.Equal(2, againBody!["unchanged"]!.GetValue<int>());
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (corrected, correctedBody) = await seller.PostJsonAsync("/api/v1/analytics/ad-spend", new
        {
            items = new[] { new { channel, campaign = "xmas", day = Day(Today), spend = new { amountMinor = 2_500, currency = "USD" } } },
        });
        Assert.True(corrected == HttpStatusCode.OK, $"{corrected} {correctedBody}");
        Assert.Equal("recorded", correctedBody!["results"]![0]!["status"]!.GetValue<string>());

        var (read, roi) = await analyst.GetJsonAsync($"/api/v1/analytics/ad-roi?from={Q(Today)}&channel={channel}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {roi}");
        var row = Assert.Single(roi!["channels"]!.AsArray())!;
        AssertAmount(Single(row["amounts"]!), 3_500, 0, 0, 0, -1);
        var (own, ownRoi) = await seller.GetJsonAsync($"/api/v1/analytics/ad-roi?from={Q(Today)}&channel={channel}");
        Assert.True(own == HttpStatusCode.OK, $"{own} {ownRoi}");
        AssertAmount(Single(ownRoi!["totals"]!), 2_500, 0, 0, 0, -1);

        // A seller's key records its own seller's ads only; a buyer's none; a batch is 1 to 1,000 items.
        var (foreign, foreignProblem) = await seller.PostJsonAsync("/api/v1/analytics/ad-spend", new
        {
            items = new[] { new { channel, day = Day(Today), spend = new { amountMinor = 1, currency = "USD" }, sellerId = OrderTestShop.NewId("s") } },
        });
        Assert.Equal(HttpStatusCode.Forbidden, foreign);
        Assert.Contains("items[0]", foreignProblem!["detail"]!.GetValue<string>());
        var buyer = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));
        var (byBuyer, _) = await buyer.PostJsonAsync("/api/v1/analytics/ad-spend", new { items = items[..1] });
        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);
        var (empty, emptyProblem) = await analyst.PostJsonAsync("/api/v1/analytics/ad-spend", new { items = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.BadRequest, empty);
        Assert.NotNull(emptyProblem!["errors"]!["items"]);
        var (tooMany, _) = await analyst.PostJsonAsync("/api/v1/analytics/ad-spend", new { items = Enumerable.Repeat(items[0], 1_001).ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany);
    }

    [Fact]
    public async Task Ad_roi_sets_each_channel_and_campaigns_spend_against_the_paid_orders_it_brought()
    {
        var sellerId = OrderTestShop.NewId("s");
        var otherId = OrderTestShop.NewId("s");
        var sku = await SkuAsync(sellerId, 2_500, "home", new { amountMinor = 1_000, currency = "USD" }); // 8% commission
        var otherSku = await SkuAsync(otherId, 1_000, "home"); // no cost
        var ads = "g-" + Guid.NewGuid().ToString("N")[..12];
        var mail = "m-" + Guid.NewGuid().ToString("N")[..12];

        await PaidAsync([new { skuId = sku, quantity = 2 }], new { channel = ads, campaign = "xmas" }); // 5,000
        await PaidAsync([new { skuId = sku, quantity = 1 }], new { channel = ads });                    // 2,500
        await PaidAsync([new { skuId = sku, quantity = 1 }]);                                           // 2,500, unattributed
        await PaidAsync([new { skuId = otherSku, quantity = 1 }], new { channel = ads });               // another seller's 1,000
        // Unpaid: no purchase yet, left out.
        var buyerId = OrderTestShop.NewId("b");
        var (unpaid, unpaidBody) = await CheckoutAsync(await Shop.KeyAsync("buyer", buyerId), buyerId, [new { skuId = sku, quantity = 3 }], new { channel = ads, campaign = "xmas" });
        Assert.True(unpaid == HttpStatusCode.Created, $"{unpaid} {unpaidBody}");

        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (recorded, recordedBody) = await analyst.PostJsonAsync("/api/v1/analytics/ad-spend", new
        {
            items = new object[]
            {
                new { channel = ads, campaign = "xmas", day = Day(Today), spend = new { amountMinor = 2_500, currency = "USD" }, sellerId },
                new { channel = ads, day = Day(Today), spend = new { amountMinor = 500, currency = "USD" }, sellerId },
                new { channel = ads, campaign = "xmas", day = Day(Today.AddDays(-1)), spend = new { amountMinor = 9_999, currency = "USD" }, sellerId },
                new { channel = mail, day = Day(Today), spend = new { amountMinor = 300, currency = "USD" }, sellerId },
                new { channel = ads, day = Day(Today), spend = new { amountMinor = 1_000, currency = "USD" } }, // the platform's own
            },
        });
        Assert.True(recorded == HttpStatusCode.OK, $"{recorded} {recordedBody}");
        Assert.Equal(5, recordedBody!["recorded"]!.GetValue<int>());

        // The seller's own view (its key's default): its spend and orders only, from today (yesterday's spend is before the window).
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (read, report) = await seller.GetJsonAsync($"/api/v1/analytics/ad-roi?from={Q(Today)}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {report}");
        Assert.Equal(sellerId, report!["sellerId"]!.GetValue<string>());
        var channels = report["channels"]!.AsArray();
        Assert.Equal([ads, mail, "unattributed"], channels.Select(c => c!["channel"]!.GetValue<string>()));
        // ads: spend 500 + 2,500 = 3,000; GMV 5,000 + 2,500 = 7,500: roas 2.5, roi (7,500 − 3,000) / 3,000 = 1.5. Every unit cost
        // 1,000 and paid 8% commission: margin (5,000 − 2,000 − 400) + (2,500 − 1,000 − 200) = 2,600 + 1,300 = 3,900, on margin 0.3.
        AssertAmount(Single(channels[0]!["amounts"]!), 3_000, 2, 7_500, 2.5, 1.5, 3_900, 0.3);
        var campaigns = channels[0]!["campaigns"]!.AsArray();
        Assert.Null(campaigns[0]!["campaign"]);
        AssertAmount(Single(campaigns[0]!["amounts"]!), 500, 1, 2_500, 5, 4, 1_300, 1.6);
        Assert.Equal("xmas", campaigns[1]!["campaign"]!.GetValue<string>());
        AssertAmount(Single(campaigns[1]!["amounts"]!), 2_500, 1, 5_000, 2, 1, 2_600, 0.04);
        AssertAmount(Single(channels[1]!["amounts"]!), 300, 0, 0, 0, -1);
        AssertAmount(Single(channels[2]!["amounts"]!), 0, 1, 2_500, null, null, 1_300);
        // Totals: spend 3,300, GMV 10,000: roas 3.0303, roi 2.0303; margin 5,200: (5,200 − 3,300) / 3,300 = 0.5758.
        AssertAmount(Single(report["totals"]!), 3_300, 3, 10_000, 3.0303, 2.0303, 5_200, 0.5758);

        // All sellers' (an analyst naming the channel): the platform's spend and the other seller's order too.
        var (all, allReport) = await analyst.GetJsonAsync($"/api/v1/analytics/ad-roi?from={Q(Today)}&channel={ads}");
        Assert.True(all == HttpStatusCode.OK, $"{all} {allReport}");
        Assert.Null(allReport!["sellerId"]);
        // The other seller's SKU has no cost: the channel's margin is not known.
        AssertAmount(Single(Assert.Single(allReport["channels"]!.AsArray())!["amounts"]!), 4_000, 3, 8_500, 2.125, 1.125);

        // A window of yesterday only: its spend, no orders.
        var (before, beforeReport) = await seller.GetJsonAsync($"/api/v1/analytics/ad-roi?from={Q(Today.AddDays(-1))}&to={Q(Today)}");
        Assert.True(before == HttpStatusCode.OK, $"{before} {beforeReport}");
        AssertAmount(Single(beforeReport!["totals"]!), 9_999, 0, 0, 0, Math.Round(-1.0, 4));

        // Another seller's is refused to a seller's key; bad parameters are 400s naming them.
        var (forbidden, _) = await seller.GetJsonAsync($"/api/v1/analytics/ad-roi?sellerId={otherId}");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        var (badChannel, badChannelProblem) = await analyst.GetJsonAsync("/api/v1/analytics/ad-roi?channel=Not%20A%20Slug");
        Assert.Equal(HttpStatusCode.BadRequest, badChannel);
        Assert.NotNull(badChannelProblem!["errors"]!["channel"]);
        // A window ending on the calendar's last day has no next day to end its spend at: answered, not a 500.
        foreach (var path in new[] { "ad-roi", "category-margin" })
        {
            var (farOff, farOffBody) = await analyst.GetJsonAsync($"/api/v1/analytics/{path}?from=9999-12-30T00:00:00Z&to=9999-12-31T12:00:00Z");
            Assert.True(farOff == HttpStatusCode.OK, $"{path}: {farOff} {farOffBody}");
        }
        // Nor one ending in the calendar's first days without a start: its default start (30 days before) was before year 1, a 500.
        foreach (var path in new[] { "ad-roi", "category-margin", "service-scores", "retention", "funnel", "carriers", "shipping-times" })
        {
            var (early, earlyBody) = await analyst.GetJsonAsync($"/api/v1/analytics/{path}?to=0001-01-05T00:00:00Z");
            Assert.True(early == HttpStatusCode.OK, $"{path}: {early} {earlyBody}");
        }
        var (tooLong, tooLongProblem) = await analyst.GetJsonAsync($"/api/v1/analytics/ad-roi?from={Q(Today.AddDays(-100))}&to={Q(Today)}");
        Assert.Equal(HttpStatusCode.BadRequest, tooLong);
        Assert.NotNull(tooLongProblem!["errors"]!["to"]);
    }

    [Fact]
    public async Task Category_margin_counts_paid_lines_after_coupons_less_commission_and_the_cost_of_goods_where_known()
    {
        var sellerId = OrderTestShop.NewId("s");
        var toy = await SkuAsync(sellerId, 3_000, "toys", new { amountMinor = 1_200, currency = "USD" });
        var lamp = await SkuAsync(sellerId, 4_000, "home"); // no cost
        var code = "MARGIN" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var (couponStatus, coupon) = await Shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/{code}",
            new { currency = "USD", amountOffMinor = 1_000, maxRedemptions = 10 });
        Assert.True(couponStatus is HttpStatusCode.OK or HttpStatusCode.Created, $"{couponStatus} {coupon}");

        // Two toys and a lamp, 10,000 less the coupon's 1,000 shared 600 / 400; then a toy alone at 3,000; then an unpaid lamp.
        await PaidAsync([new { skuId = toy, quantity = 2 }, new { skuId = lamp, quantity = 1 }], couponCode: code);
        await PaidAsync([new { skuId = toy, quantity = 1 }]);
        var buyerId = OrderTestShop.NewId("b");
        var (unpaid, _) = await CheckoutAsync(await Shop.KeyAsync("buyer", buyerId), buyerId, [new { skuId = lamp, quantity = 1 }]);
        Assert.Equal(HttpStatusCode.Created, unpaid);

        var seller = await Shop.KeyAsync("seller", sellerId);
        // The line facts commit with the paid order's state: there to be read once the payment's answer is back.
        var (read, report) = await seller.GetJsonAsync($"/api/v1/analytics/category-margin?from={Q(Today)}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {report}");
        var categories = report!["categories"]!.AsArray();
        Assert.Equal(["home", "toys"], categories.Select(c => c!["category"]!.GetValue<string>()));

        // home: the lamp paid 3,600 at 8%: 288 commission; no cost, so no margin.
        var home = Single(categories[0]!["amounts"]!);
        Assert.Equal(1, home["orders"]!.GetValue<long>());
        Assert.Equal(1, home["units"]!.GetValue<long>());
        Assert.Equal(3_600, home["gmvMinor"]!.GetValue<long>());
        Assert.Equal(288, home["commissionMinor"]!.GetValue<long>());
        Assert.Equal(0, home["unitsWithCost"]!.GetValue<long>());
        Assert.Equal(1, home["unitsWithoutCost"]!.GetValue<long>());
        Assert.Null(home["marginMinor"]);
        Assert.Null(home["marginRate"]);

        // toys: 5,400 + 3,000 = 8,400 paid at 15%: 810 + 450 = 1,260; cost 3 × 1,200 = 3,600; margin 8,400 − 3,600 − 1,260 = 3,540.
        var toys = Single(categories[1]!["amounts"]!);
        Assert.Equal(2, toys["orders"]!.GetValue<long>());
        Assert.Equal(3, toys["units"]!.GetValue<long>());
        Assert.Equal(8_400, toys["gmvMinor"]!.GetValue<long>());
        Assert.Equal(1_260, toys["commissionMinor"]!.GetValue<long>());
        Assert.Equal(3, toys["unitsWithCost"]!.GetValue<long>());
        Assert.Equal(0, toys["unitsWithoutCost"]!.GetValue<long>());
        Assert.Equal(8_400, toys["gmvWithCostMinor"]!.GetValue<long>());
        Assert.Equal(3_600, toys["costOfGoodsMinor"]!.GetValue<long>());
        Assert.Equal(3_540, toys["marginMinor"]!.GetValue<long>());
        Assert.Equal(Math.Round(3_540.0 / 8_400, 4), toys["marginRate"]!.GetValue<double>());

        // Totals: the two paid orders once each, 12,000 of goods, 1,548 commission; the margin of the lines with a cost.
        var totals = Single(report["totals"]!);
        Assert.Equal(2, totals["orders"]!.GetValue<long>());
        Assert.Equal(4, totals["units"]!.GetValue<long>());
        Assert.Equal(12_000, totals["gmvMinor"]!.GetValue<long>());
        Assert.Equal(1_548, totals["commissionMinor"]!.GetValue<long>());
        Assert.Equal(1, totals["unitsWithoutCost"]!.GetValue<long>());
        Assert.Equal(3_540, totals["marginMinor"]!.GetValue<long>());

        // An analyst reads the seller by name; another seller's key is refused; a window before the orders has none.
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (byAnalyst, analystReport) = await analyst.GetJsonAsync($"/api/v1/analytics/category-margin?from={Q(Today)}&sellerId={sellerId}&pageSize=1&page=2");
        Assert.True(byAnalyst == HttpStatusCode.OK, $"{byAnalyst} {analystReport}");
        Assert.Equal("toys", Assert.Single(analystReport!["categories"]!.AsArray())!["category"]!.GetValue<string>());
        Assert.Equal(2, analystReport["categoryCount"]!.GetValue<long>());
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        var (forbidden, _) = await other.GetJsonAsync($"/api/v1/analytics/category-margin?sellerId={sellerId}");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        var (earlier, earlierReport) = await seller.GetJsonAsync($"/api/v1/analytics/category-margin?from={Q(Today.AddDays(-2))}&to={Q(Today.AddDays(-1))}");
        Assert.True(earlier == HttpStatusCode.OK, $"{earlier} {earlierReport}");
        Assert.Empty(earlierReport!["categories"]!.AsArray());
        var (badPage, _) = await seller.GetJsonAsync("/api/v1/analytics/category-margin?pageSize=0");
        Assert.Equal(HttpStatusCode.BadRequest, badPage);
    }

    [Fact]
    public async Task A_skus_unit_cost_is_shown_to_its_seller_admins_and_analysts_only_and_must_be_in_the_prices_currency()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await SkuAsync(sellerId, 3_000, "toys", new { amountMinor = 1_200, currency = "USD" });
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var (forBuyer, buyerView) = await buyer.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.True(forBuyer == HttpStatusCode.OK, $"{forBuyer} {buyerView}");
        Assert.Null(buyerView!["unitCost"]);
        Assert.DoesNotContain("1200", buyerView.ToJsonString());
        var storefront = await Shop.KeyAsync("storefront", "web");
        Assert.Null((await storefront.GetJsonAsync($"/api/v1/skus/{sku}")).Body!["unitCost"]);
        var otherSeller = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        Assert.Null((await otherSeller.GetJsonAsync($"/api/v1/skus/{sku}")).Body!["unitCost"]);
        foreach (var reader in new[] { await Shop.KeyAsync("seller", sellerId), await Shop.KeyAsync("erp", sellerId),
                     await Shop.KeyAsync("analyst", OrderTestShop.NewId("an")), Shop.Admin })
        {
            var (status, view) = await reader.GetJsonAsync($"/api/v1/skus/{sku}");
            Assert.True(status == HttpStatusCode.OK, $"{status} {view}");
            Assert.Equal(1_200, view!["unitCost"]!["amountMinor"]!.GetValue<long>());
        }

        // The buyer's order keeps the cost on its line for the margin, and shows it nowhere.
        var (placed, order) = await CheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {order}");
        var orderId = order!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (read, buyerOrder) = await buyer.GetJsonAsync($"/api/v1/orders/{orderId}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {buyerOrder}");
        Assert.DoesNotContain("unitCost", buyerOrder!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("unitCost", order.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        // A cost in another currency, or a negative one, is refused naming the field.
        var (otherCurrency, problem) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{sku}", new
        {
            sellerId, title = "Toy", category = "toys", price = new { amountMinor = 3_000, currency = "USD" }, weightGrams = 500,
            hsCode = "950300", originCountry = "CN", unitCost = new { amountMinor = 1_000, currency = "EUR" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, otherCurrency);
        Assert.NotNull(problem!["errors"]!["unitCost.currency"]);
        var (negative, negativeProblem) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{sku}", new
        {
            sellerId, title = "Toy", category = "toys", price = new { amountMinor = 3_000, currency = "USD" }, weightGrams = 500,
            hsCode = "950300", originCountry = "CN", unitCost = new { amountMinor = -1, currency = "USD" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, negative);
        Assert.NotNull(negativeProblem!["errors"]!["unitCost.amountMinor"]);
    }
}

public sealed class MarketingApiPostgresTests(MarketingPostgresFixture fixture) : MarketingApiTests(fixture), IClassFixture<MarketingPostgresFixture>;

public sealed class MarketingApiSqliteTests(MarketingSqliteFixture fixture) : MarketingApiTests(fixture), IClassFixture<MarketingSqliteFixture>;
