using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>
/// Carriers and restricted goods over real HTTP on PostgreSQL (R-LOG-2, R-LOG-3): admins register carriers and destinations'
/// prohibitions, sellers set rules that pick a carrier, an order's and a SKU's carriers hide those that cannot take the goods, and a
/// shipment with a carrier that cannot take them is refused.
/// </summary>
public sealed class CarriersApiTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    /// <summary>A postal carrier: cheap and slow, to DE and FR, batteries to FR only, up to 2 kg; ids are unique per test.</summary>
    private static object Postal(string name, object[]? accepts = null, bool tracked = false, int maxWeightGrams = 2_000) => new
    {
        name, service = "postal", currency = "USD", maxWeightGrams, tracked,
        lanes = new object[] { new { countries = new[] { "DE", "FR" }, transitDaysMin = 10, transitDaysMax = 20, baseFeeMinor = 150, perKgFeeMinor = 900 } },
        accepts = accepts ?? [new { goods = "batteries", countries = new[] { "FR" } }],
    };

    /// <summary>An express carrier: dear and fast, everywhere, priced in EUR, takes batteries everywhere.</summary>
    private static object Express(string name) => new
    {
        name, service = "express", currency = "EUR", maxWeightGrams = 30_000, tracked = true,
        lanes = new object[]
        {
            new { countries = new[] { "DE" }, transitDaysMin = 2, transitDaysMax = 3, baseFeeMinor = 1_800, perKgFeeMinor = 400 },
            new { countries = new[] { "*" }, transitDaysMin = 3, transitDaysMax = 6, baseFeeMinor = 3_000, perKgFeeMinor = 800 },
        },
        accepts = new object[] { new { goods = "batteries", countries = new[] { "*" } } },
    };

    private async Task<string> CarrierAsync(object terms)
    {
        var id = OrderTestShop.NewId("c");
        var (status, body) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{id}", terms);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        return id;
    }

    private async Task<string> SkuAsync(string sellerId, int weightGrams, string[]? restrictedGoods, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var skuId = OrderTestShop.NewId("sku");
        var (status, body) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{skuId}", new
        {
            sellerId, title = "Power bank", category = "electronics", price = new { amountMinor = 25_00, currency = "USD" }, weightGrams,
            hsCode = "850760", originCountry = "CN", restrictedGoods,
        });
        Assert.True(status == expected, $"{status} {body}");
        if (status == HttpStatusCode.Created)
        {
            Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync($"/api/v1/skus/{skuId}/stock/wh-de", new { onHand = 50, version = 1 })).Status);
        }
        return skuId;
    }

    private static JsonNode? Hidden(JsonNode plan, string carrierId) =>
        plan["hidden"]!.AsArray().FirstOrDefault(h => h!["carrierId"]!.GetValue<string>() == carrierId);

    private static string[] OptionIds(JsonNode plan) => plan["options"]!.AsArray().Select(o => o!["carrierId"]!.GetValue<string>()).ToArray();

    private async Task<string> PaidOrderAsync(string skuId, string country, long quantity = 1)
    {
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"), [new { skuId, quantity }],
            currency: "USD", shipTo: OrderTestShop.Address(country, country == "FR" ? "75001" : "10115"));
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        return orderId;
    }

    [Fact]
    public async Task A_carrier_change_whose_write_fails_is_never_served_while_it_is_written_nor_after()
    {
        // Read while the change was being written, the registry's catalog was built from the changed state and kept when the write
        // failed: every silo then planned parcels with a carrier as storage never had it, until the next change.
        var id = await CarrierAsync(Postal("Post W"));
        var refusing = await fixture.Silo.Storage.RefuseStateWritesAsync("carrier-registry");
        JsonNode during;
        HttpStatusCode refused;
        try
        {
            var change = Shop.Admin.PutJsonAsync($"/api/v1/carriers/{id}", Postal("Post W", tracked: true, maxWeightGrams: 500));
            await Task.Delay(500);
            during = (await Shop.Admin.GetJsonAsync($"/api/v1/carriers/{id}")).Body!;
            (refused, _) = await change;
        }
        finally
        {
            await refusing.DisposeAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        var after = (await Shop.Admin.GetJsonAsync($"/api/v1/carriers/{id}")).Body!;
        Assert.All(new[] { during, after }, c =>
        {
            Assert.Equal(2_000, c["maxWeightGrams"]!.GetValue<int>());
            Assert.False(c["tracked"]!.GetValue<bool>());
        });
        // Sent again once storage takes it, the change is made.
        var (applied, changed) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{id}", Postal("Post W", tracked: true, maxWeightGrams: 500));
        Assert.True(applied == HttpStatusCode.OK, $"{applied} {changed}");
        Assert.Equal(500, (await Shop.Admin.GetJsonAsync($"/api/v1/carriers/{id}")).Body!["maxWeightGrams"]!.GetValue<int>());
    }

    [Fact]
    public async Task Admins_register_carriers_whose_terms_are_checked_and_others_only_read_them()
    {
        var id = OrderTestShop.NewId("c");
        var seller = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));

        var (created, carrier) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{id}", Postal("Post A"));
        var (same, unchanged) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{id}", Postal("Post A"));
        var (changed, updated) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{id}", Postal("Post A", tracked: true));
        var (bySeller, _) = await seller.PutJsonAsync($"/api/v1/carriers/{id}", Postal("Post A"));
        var (invalid, problem) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{OrderTestShop.NewId("c")}", new
        {
            name = "Bad", service = "pigeon", currency = "USD", maxWeightGrams = 0, tracked = true,
            lanes = new object[]
            {
                new { countries = new[] { "DE" }, transitDaysMin = 5, transitDaysMax = 3, baseFeeMinor = -1, perKgFeeMinor = 0 },
                new { countries = new[] { "de" }, transitDaysMin = 1, transitDaysMax = 2, baseFeeMinor = 0, perKgFeeMinor = 0 },
            },
            accepts = new object[] { new { goods = "plutonium", countries = new[] { "*" } } },
        });
        var (invalidTerms, termsProblem) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{OrderTestShop.NewId("c")}", new
        {
            name = "Bad", service = "postal", currency = "USD", maxWeightGrams = 0, tracked = true,
            lanes = new object[]
            {
                new { countries = new[] { "DE" }, transitDaysMin = 5, transitDaysMax = 3, baseFeeMinor = -1, perKgFeeMinor = 0 },
                new { countries = new[] { "DE" }, transitDaysMin = 1, transitDaysMax = 2, baseFeeMinor = 0, perKgFeeMinor = 0 },
            },
        });
        var (read, readBody) = await seller.GetJsonAsync($"/api/v1/carriers/{id}");
        var (missing, _) = await seller.GetJsonAsync($"/api/v1/carriers/{OrderTestShop.NewId("c")}");
        var (listed, list) = await seller.GetJsonAsync("/api/v1/carriers");

        Assert.True(created == HttpStatusCode.Created, $"{created} {carrier}");
        Assert.Equal("postal", carrier!["service"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, same);
        Assert.Equal(1, unchanged!["version"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, changed);
        Assert.Equal(2, updated!["version"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.Forbidden, bySeller);
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Assert.NotNull(problem!["errors"]!["service"]);
        Assert.NotNull(problem["errors"]!["accepts[0].goods"]);
        Assert.Equal(HttpStatusCode.BadRequest, invalidTerms);
        Assert.NotNull(termsProblem!["errors"]!["maxWeightGrams"]);
        Assert.NotNull(termsProblem["errors"]!["lanes[0].transitDaysMax"]);
        Assert.NotNull(termsProblem["errors"]!["lanes[0].baseFeeMinor"]);
        Assert.NotNull(termsProblem["errors"]!["lanes[1].countries[0]"]); // DE is in lanes[0] already
        Assert.Equal(HttpStatusCode.OK, read);
        Assert.True(readBody!["tracked"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Contains(list!["carriers"]!.AsArray(), c => c!["carrierId"]!.GetValue<string>() == id);

        // A SKU names restricted goods of the known classes only.
        var sellerId = OrderTestShop.NewId("s");
        await SkuAsync(sellerId, 300, ["batteries", "uranium"], HttpStatusCode.BadRequest);
        var sku = await SkuAsync(sellerId, 300, ["liquids", "batteries", "liquids"]);
        var goods = (await Shop.Admin.GetJsonAsync($"/api/v1/skus/{sku}")).Body!["restrictedGoods"]!.AsArray().Select(g => g!.GetValue<string>());
        Assert.Equal(["batteries", "liquids"], goods);
    }

    [Fact]
    public async Task A_parcels_carriers_hide_those_that_cannot_take_its_goods_weight_or_destination_and_rank_by_the_sellers_rule()
    {
        var post = await CarrierAsync(Postal("Post B"));
        var express = await CarrierAsync(Express("Express B"));
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var battery = await SkuAsync(sellerId, 400, ["batteries"]);
        var plain = await SkuAsync(sellerId, 400, null);
        var buyer = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));

        // No rule: balanced. To DE, the post (1.50 + 3.60 = 5.10 USD, 20 days) against express (18.00 + 1.60 = 19.60 EUR, 3 days).
        var plainDe = (await buyer.GetJsonAsync($"/api/v1/skus/{plain}/carrier-options?country=DE")).Body!;
        Assert.Equal(510, plainDe["options"]!.AsArray().Single(o => o!["carrierId"]!.GetValue<string>() == post)!["cost"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(19_60, plainDe["options"]!.AsArray().Single(o => o!["carrierId"]!.GetValue<string>() == express)!["cost"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal("balanced", plainDe["preference"]!.GetValue<string>());

        // Batteries: the post takes them to FR only, so it is hidden for DE with the reason; a parcel over 2 kg hides it too.
        var batteryDe = (await buyer.GetJsonAsync($"/api/v1/skus/{battery}/carrier-options?country=DE")).Body!;
        Assert.Contains(express, OptionIds(batteryDe));
        Assert.DoesNotContain(post, OptionIds(batteryDe));
        Assert.True(Hidden(batteryDe, post)!["cannotTake"]!.GetValue<bool>());
        Assert.Contains("does not take batteries to DE", Hidden(batteryDe, post)!["reasons"]![0]!.GetValue<string>());
        Assert.Contains(post, OptionIds((await buyer.GetJsonAsync($"/api/v1/skus/{battery}/carrier-options?country=FR")).Body!));
        var heavy = (await buyer.GetJsonAsync($"/api/v1/skus/{plain}/carrier-options?country=DE&quantity=6")).Body!;
        Assert.Contains("2400 g", Hidden(heavy, post)!["reasons"]![0]!.GetValue<string>());
        var japan = (await buyer.GetJsonAsync($"/api/v1/skus/{plain}/carrier-options?country=JP")).Body!;
        Assert.Contains("does not go to JP", Hidden(japan, post)!["reasons"]![0]!.GetValue<string>());
        Assert.Contains(express, OptionIds(japan));

        // A destination that prohibits batteries gets no carrier for them; lifting it brings them back.
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync("/api/v1/shipping-restrictions/FR", new { prohibited = new[] { "batteries" } })).Status);
        var prohibited = (await buyer.GetJsonAsync($"/api/v1/skus/{battery}/carrier-options?country=FR")).Body!;
        Assert.Equal(["batteries"], prohibited["prohibited"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Empty(prohibited["options"]!.AsArray());
        Assert.Null(prohibited["recommended"]);
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync("/api/v1/shipping-restrictions/FR", new { prohibited = Array.Empty<string>() })).Status);
        Assert.Contains(post, OptionIds((await buyer.GetJsonAsync($"/api/v1/skus/{battery}/carrier-options?country=FR")).Body!));

        // The seller's rules: cheap parcels to DE go by the cheapest of the two, dear ones by a tracked carrier; elsewhere fastest.
        var rules = new
        {
            currency = "USD", otherwise = "fastest",
            rules = new object[]
            {
                new { countries = new[] { "DE" }, maxValueMinor = 50_00, prefer = "cheapest", carrierIds = new[] { post, express } },
                new { countries = new[] { "DE" }, prefer = "cheapest", requireTracked = true },
            },
        };
        var (set, setBody) = await seller.PutJsonAsync($"/api/v1/sellers/{sellerId}/carrier-rules", rules);
        Assert.True(set == HttpStatusCode.OK, $"{set} {setBody}");
        var cheap = (await buyer.GetJsonAsync($"/api/v1/skus/{plain}/carrier-options?country=DE")).Body!;
        Assert.Equal(0, cheap["ruleIndex"]!.GetValue<int>());
        Assert.Equal(post, cheap["recommended"]!["carrierId"]!.GetValue<string>());
        Assert.Equal([post, express], OptionIds(cheap));
        var dear = (await buyer.GetJsonAsync($"/api/v1/skus/{plain}/carrier-options?country=DE&quantity=3")).Body!; // 75.00 USD
        Assert.Equal(1, dear["ruleIndex"]!.GetValue<int>());
        Assert.DoesNotContain(post, OptionIds(dear));
        Assert.False(Hidden(dear, post)!["cannotTake"]!.GetValue<bool>());
        Assert.Contains("requires a tracked service", Hidden(dear, post)!["reasons"]![0]!.GetValue<string>());
        var france = (await buyer.GetJsonAsync($"/api/v1/skus/{plain}/carrier-options?country=FR")).Body!;
        Assert.Null(france["ruleIndex"]);
        Assert.Equal("fastest", france["preference"]!.GetValue<string>());
        Assert.Equal("express", france["recommended"]!["service"]!.GetValue<string>()); // 6 days against the post's 20
        Assert.Equal(france["options"]!.AsArray().Min(o => o!["transitDaysMax"]!.GetValue<int>()), france["recommended"]!["transitDaysMax"]!.GetValue<int>());
    }

    [Fact]
    public async Task Sellers_rules_are_checked_and_kept_to_their_own_seller()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        var path = $"/api/v1/sellers/{sellerId}/carrier-rules";

        var (empty, defaults) = await seller.GetJsonAsync(path);
        var (invalid, problem) = await seller.PutJsonAsync(path, new
        {
            otherwise = "slowest",
            rules = new object[]
            {
                new { prefer = "cheapest", minValueMinor = 100 },
                new { prefer = "fast", countries = new[] { "*" } },
                new { prefer = "cheapest", minWeightGrams = 500, maxWeightGrams = 100, carrierIds = Array.Empty<string>() },
            },
        });
        var (foreign, _) = await other.PutJsonAsync(path, new { rules = Array.Empty<object>() });
        var (foreignRead, _) = await other.GetJsonAsync(path);
        var (set, rules) = await seller.PutJsonAsync(path, new { rules = new object[] { new { prefer = "cheapest", countries = new[] { "DE" } } } });
        var (again, same) = await seller.PutJsonAsync(path, new { rules = new object[] { new { prefer = "cheapest", countries = new[] { "DE" } } } });

        Assert.Equal(HttpStatusCode.OK, empty);
        Assert.Empty(defaults!["rules"]!.AsArray());
        Assert.Equal("balanced", defaults["otherwise"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Assert.NotNull(problem!["errors"]!["otherwise"]);
        Assert.NotNull(problem["errors"]!["rules[1].prefer"]);
        Assert.Equal(HttpStatusCode.Forbidden, foreign);
        Assert.Equal(HttpStatusCode.Forbidden, foreignRead);
        Assert.Equal(HttpStatusCode.OK, set);
        Assert.Equal(1, rules!["version"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(1, same!["version"]!.GetValue<long>());

        // Rules well formed field by field, but wrong as a whole.
        var (wrong, wrongProblem) = await seller.PutJsonAsync(path, new
        {
            rules = new object[]
            {
                new { prefer = "cheapest", minValueMinor = 100 },
                new { prefer = "fastest", countries = new[] { "*" } },
                new { prefer = "cheapest", minWeightGrams = 500, maxWeightGrams = 100, carrierIds = Array.Empty<string>() },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, wrong);
        Assert.NotNull(wrongProblem!["errors"]!["currency"]);
        Assert.NotNull(wrongProblem["errors"]!["rules[1].countries[0]"]);
        Assert.NotNull(wrongProblem["errors"]!["rules[2].maxWeightGrams"]);
        Assert.NotNull(wrongProblem["errors"]!["rules[2].carrierIds"]);
        Assert.Equal(1, (await seller.GetJsonAsync(path)).Body!["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_order_ships_only_with_a_carrier_that_can_take_its_goods_and_its_seller_reads_the_carriers_for_it()
    {
        var post = await CarrierAsync(Postal("Post C"));
        var express = await CarrierAsync(Express("Express C"));
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var battery = await SkuAsync(sellerId, 400, ["batteries"]);
        var toGermany = await PaidOrderAsync(battery, "DE");
        var another = await PaidOrderAsync(battery, "DE");
        var toFrance = await PaidOrderAsync(battery, "FR");

        var plan = (await seller.GetJsonAsync($"/api/v1/orders/{toGermany}/carrier-options")).Body!;
        Assert.Equal(toGermany, plan["orderId"]!.GetValue<string>());
        Assert.Equal(400, plan["parcel"]!["weightGrams"]!.GetValue<long>());
        Assert.Contains(express, OptionIds(plan));
        Assert.DoesNotContain(post, OptionIds(plan));
        var (foreign, _) = await (await Shop.KeyAsync("seller", OrderTestShop.NewId("s"))).GetJsonAsync($"/api/v1/orders/{toGermany}/carrier-options");
        Assert.Equal(HttpStatusCode.NotFound, foreign);

        // The post, named by its name in another spelling, cannot take batteries to DE: refused, nothing stored.
        var (refused, problem) = await seller.PostJsonAsync($"/api/v1/orders/{toGermany}/ship", new { carrier = "post c", trackingNumber = "RR123456789CN" });
        Assert.True(refused == HttpStatusCode.UnprocessableEntity, $"{refused} {problem}");
        Assert.Equal("carrier", problem!["field"]!.GetValue<string>());
        Assert.Contains("does not take batteries to DE", problem["detail"]!.GetValue<string>());
        Assert.Equal("awaitingShipment", (await Shop.OrderAsync(toGermany))["status"]!.GetValue<string>());

        // The same carrier to FR, the express to DE, and a carrier the platform does not know, are taken.
        await Shop.ActAsync(seller, toFrance, "ship", new { carrier = post, trackingNumber = "RR223456789CN" });
        await Shop.ActAsync(seller, toGermany, "ship", new { carrier = "Express C", trackingNumber = "JD0001" });
        await Shop.ActAsync(seller, another, "ship", new { carrier = "Local courier", trackingNumber = "LC0001" });

        // A batch answers the refusal on its item alone; FR prohibiting batteries refuses every carrier there.
        var third = await PaidOrderAsync(battery, "DE");
        var fourth = await PaidOrderAsync(battery, "FR");
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync("/api/v1/shipping-restrictions/FR", new { prohibited = new[] { "batteries" } })).Status);
        try
        {
            var (batched, results) = await seller.PostJsonAsync($"/api/v1/sellers/{sellerId}/shipments", new
            {
                shipments = new object[]
                {
                    new { orderId = third, carrier = post, trackingNumber = "RR323456789CN" },
                    new { orderId = fourth, carrier = express, trackingNumber = "JD0002" },
                },
            });
            Assert.True(batched == HttpStatusCode.OK, $"{batched} {results}");
            var items = results!["results"]!.AsArray();
            Assert.All(items, i => Assert.Equal("invalid", i!["status"]!.GetValue<string>()));
            Assert.All(items, i => Assert.Equal("carrier", i!["field"]!.GetValue<string>()));
            Assert.Contains("prohibits batteries", items[1]!["reason"]!.GetValue<string>());
            Assert.Equal("awaitingShipment", (await Shop.OrderAsync(third))["status"]!.GetValue<string>());
        }
        finally
        {
            await Shop.Admin.PutJsonAsync("/api/v1/shipping-restrictions/FR", new { prohibited = Array.Empty<string>() });
        }
    }

    [Fact]
    public async Task A_checkout_of_goods_the_destination_prohibits_is_refused_and_reserves_nothing()
    {
        var sellerId = OrderTestShop.NewId("s");
        var battery = await SkuAsync(sellerId, 400, ["batteries"]);
        var plain = await SkuAsync(sellerId, 400, null);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var australia = OrderTestShop.Address("AU", "2000");
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync("/api/v1/shipping-restrictions/AU", new { prohibited = new[] { "batteries", "liquids" } })).Status);
        try
        {
            // One line (the SKU's own path) and two lines (the saga's) are refused alike, naming the SKU and the goods.
            var (one, oneProblem) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"), [new { skuId = battery, quantity = 1 }],
                currency: "USD", shipTo: australia);
            var (two, twoProblem) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"),
                [new { skuId = plain, quantity = 1 }, new { skuId = battery, quantity = 2 }], currency: "USD", shipTo: australia);
            Assert.True(one == HttpStatusCode.UnprocessableEntity, $"{one} {oneProblem}");
            Assert.Contains($"SKU '{battery}' cannot be shipped to AU", oneProblem!["detail"]!.GetValue<string>());
            Assert.Contains("batteries", oneProblem["detail"]!.GetValue<string>());
            Assert.True(two == HttpStatusCode.UnprocessableEntity, $"{two} {twoProblem}");
            Assert.Contains($"SKU '{battery}'", twoProblem!["detail"]!.GetValue<string>());
            Assert.Equal(0, await Shop.ReservedAsync(battery));
            Assert.Equal(0, await Shop.ReservedAsync(plain));

            // Goods without restrictions go there, and the same battery goes elsewhere.
            var (plainOk, placed) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"), [new { skuId = plain, quantity = 1 }],
                currency: "USD", shipTo: australia);
            Assert.True(plainOk == HttpStatusCode.Created, $"{plainOk} {placed}");
            var (batteryDe, placedDe) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"), [new { skuId = battery, quantity = 1 }],
                currency: "USD");
            Assert.True(batteryDe == HttpStatusCode.Created, $"{batteryDe} {placedDe}");

            // An order imported from another platform is refused alike: its goods cannot go there either.
            var erp = await Shop.KeyAsync("erp", sellerId);
            var (imported, importProblem) = await erp.PostJsonAsync("/api/v1/orders/import", new
            {
                platform = "shopify", externalOrderId = OrderTestShop.NewId("e"), buyerId = "shopify-buyer", currency = "USD", paid = false,
                shipTo = australia, items = new[] { new { skuId = battery, quantity = 1 } },
            });
            Assert.True(imported == HttpStatusCode.UnprocessableEntity, $"{imported} {importProblem}");
            Assert.Contains($"SKU '{battery}' cannot be shipped to AU", importProblem!["detail"]!.GetValue<string>());
            Assert.Equal(1, await Shop.ReservedAsync(battery)); // the German order's unit only
        }
        finally
        {
            await Shop.Admin.PutJsonAsync("/api/v1/shipping-restrictions/AU", new { prohibited = Array.Empty<string>() });
        }
    }
}
