using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>
/// The catalog and stock API over real HTTP against a real silo process; run once on PostgreSQL and once on SQLite.
/// Every test uses its own SKU ids so the tests of a class can share one silo.
/// </summary>
public abstract class InventoryApiContract(SiloProcess silo)
{
    protected readonly HttpClient Admin = silo.CreateClient();

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public async Task Put_sku_creates_then_updates_and_get_shows_catalog_and_stock()
    {
        var sku = NewId("sku");
        var (created, body) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}", TradeHttp.Sku("seller-a", lowStockThreshold: 3, priceMinor: 1500, currency: "EUR"));
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("seller-a", body!["sellerId"]!.GetValue<string>());
        Assert.Equal("854442", body["hsCode"]!.GetValue<string>());

        var (updated, _) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}", TradeHttp.Sku("seller-a", lowStockThreshold: 3, priceMinor: 1700, currency: "EUR"));
        Assert.Equal(HttpStatusCode.OK, updated);

        await Admin.PutJsonAsync("/api/v1/warehouses/wh-de-1", new { name = "Berlin", country = "DE" });
        await Admin.PutJsonAsync("/api/v1/warehouses/wh-cn-1", new { name = "Shenzhen", country = "CN" });
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-de-1", new { onHand = 7, version = 1 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 5, version = 1 })).Status);

        var (status, view) = await Admin.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1700, view!["price"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal("EUR", view["price"]!["currency"]!.GetValue<string>());
        Assert.Equal(12, view["stock"]!["totalAvailable"]!.GetValue<long>());
        var warehouses = view["stock"]!["warehouses"]!.AsArray();
        Assert.Equal(["wh-cn-1", "wh-de-1"], warehouses.Select(w => w!["warehouseId"]!.GetValue<string>()));
        Assert.Equal(7, warehouses[1]!["available"]!.GetValue<long>());
    }

    [Fact]
    public async Task Stale_stock_version_is_409_and_changes_nothing()
    {
        var sku = NewId("sku");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-a");
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 10, version = 5 })).Status);

        foreach (var version in new[] { 5, 4 })
        {
            var (status, problem) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 99, version });
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Equal(5, problem!["currentVersion"]!.GetValue<long>());
            Assert.Contains("not newer", problem["detail"]!.GetValue<string>());
        }
        var (_, view) = await Admin.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(10, view!["stock"]!["totalAvailable"]!.GetValue<long>());

        Assert.Equal(HttpStatusCode.OK, (await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 3, version = 6 })).Status);
        (_, view) = await Admin.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(3, view!["stock"]!["totalAvailable"]!.GetValue<long>());
    }

    [Fact]
    public async Task Adjustment_with_the_same_event_id_applies_once()
    {
        var sku = NewId("sku");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-a");
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 10, version = 1 });

        var first = await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "evt-1", delta = 5, reason = "inbound" });
        var again = await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "evt-1", delta = 5, reason = "inbound" });
        var other = await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "evt-2", delta = -2 });

        Assert.Equal("applied", first.Body!["outcome"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("duplicate", again.Body!["outcome"]!.GetValue<string>());
        Assert.Equal(13, other.Body!["warehouse"]!["onHand"]!.GetValue<long>());
        var (_, view) = await Admin.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(13, view!["stock"]!["totalAvailable"]!.GetValue<long>());
    }

    [Fact]
    public async Task Adjustment_below_zero_is_409_and_changes_nothing()
    {
        var sku = NewId("sku");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-a");
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 2, version = 1 });

        var (status, problem) = await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "evt-x", delta = -3 });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("below zero", problem!["detail"]!.GetValue<string>());
        var (_, view) = await Admin.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(2, view!["stock"]!["totalAvailable"]!.GetValue<long>());
    }

    [Fact]
    public async Task Bulk_reports_applied_stale_and_invalid_per_item_and_bad_items_block_nothing()
    {
        var skus = Enumerable.Range(0, 40).Select(_ => NewId("bulk")).ToArray();
        foreach (var sku in skus)
        {
            await TradeHttp.SeedSkuAsync(Admin, sku, "seller-a");
        }
        await Admin.PutJsonAsync($"/api/v1/skus/{skus[0]}/stock/wh-cn-1", new { onHand = 1, version = 10 });

        var items = new List<object?>();
        items.AddRange(skus.Select((sku, i) => (object?)new { skuId = sku, warehouseId = "wh-cn-1", onHand = 100 + i, version = 11 }));
        items.Add(new { skuId = skus[0], warehouseId = "wh-cn-1", onHand = 5, version = 3 });          // stale: older than 11
        items.Add(new { skuId = "no-such-sku-xyz", warehouseId = "wh-cn-1", onHand = 5, version = 1 }); // invalid: unknown SKU
        items.Add(new { skuId = skus[1], warehouseId = "wh-nowhere", onHand = 5, version = 1 });       // invalid: unknown warehouse
        items.Add(new { skuId = skus[2], warehouseId = "wh-cn-1", onHand = -1, version = 12 });         // invalid: negative
        items.Add(null);                                                                                 // invalid: null item

        var (status, body) = await Admin.PostJsonAsync("/api/v1/stock/bulk", new { items });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(40, body!["applied"]!.GetValue<int>());
        Assert.Equal(1, body["stale"]!.GetValue<int>());
        Assert.Equal(4, body["invalid"]!.GetValue<int>());
        var results = body["results"]!.AsArray();
        Assert.Equal(45, results.Count);
        Assert.Equal("stale", results[40]!["status"]!.GetValue<string>());
        Assert.Equal(11, results[40]!["currentVersion"]!.GetValue<long>());
        Assert.All(results.Skip(41), r => Assert.Equal("invalid", r!["status"]!.GetValue<string>()));
        Assert.Contains("wh-nowhere", results[42]!["reason"]!.GetValue<string>());
        for (var i = 0; i < skus.Length; i++)
        {
            var (_, view) = await Admin.GetJsonAsync($"/api/v1/skus/{skus[i]}");
            Assert.Equal(100 + i, view!["stock"]!["totalAvailable"]!.GetValue<long>());
        }
    }

    [Fact]
    public async Task Bulk_over_ten_thousand_items_is_400_naming_the_rule()
    {
        var items = Enumerable.Range(0, 10_001).Select(i => new { skuId = "s" + i, warehouseId = "wh-cn-1", onHand = 1, version = 1 });

        var (status, problem) = await Admin.PostJsonAsync("/api/v1/stock/bulk", new { items });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("10000", problem!["errors"]!["items"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Crossing_the_low_stock_threshold_and_reaching_zero_record_alerts_the_api_lists()
    {
        var sku = NewId("alert");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-alerts", lowStockThreshold: 5);
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 20, version = 1 });
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 4, version = 2 });   // 20 -> 4: low stock
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 3, version = 3 });   // stays low: no new alert
        await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "e-out", delta = -3 }); // 3 -> 0

        // Recorded from the SKU's outbox after the writes are answered.
        var page = await Eventually.ReadAsync(async () => (await Admin.GetJsonAsync($"/api/v1/stock/alerts?skuId={sku}")).Body!,
            p => p["items"]!.AsArray().Count >= 2, "both alerts to be listed");

        var kinds = page!["items"]!.AsArray().Select(a => a!["kind"]!.GetValue<string>()).ToArray();
        Assert.Equal(["outOfStock", "lowStock"], kinds); // newest first
        Assert.Equal(4, page["items"]![1]!["available"]!.GetValue<long>());
        Assert.Equal(5, page["items"]![1]!["threshold"]!.GetValue<int>());
    }

    [Fact]
    public async Task Raising_the_low_stock_threshold_to_or_above_the_units_available_records_a_low_stock_alert_once()
    {
        // R-INV-2: a seller raising lowStockThreshold from 5 to 10 with 8 units available put the SKU in low stock silently.
        var sku = NewId("alert");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-alerts", lowStockThreshold: 5);
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 8, version = 1 });
        foreach (var threshold in new int?[] { 10, 12, null, 3, 8 })
        {
            // 5 -> 10: low stock. 10 -> 12: low already. Taken off, then 3: not low. 3 -> 8: low again (at the threshold).
            var (status, _) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}", TradeHttp.Sku("seller-alerts", threshold));
            Assert.Equal(HttpStatusCode.OK, status);
        }
        await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "e-low", delta = -1 }); // stays low
        await Admin.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "e-out", delta = -7 }); // 7 -> 0

        var page = await Eventually.ReadAsync(async () => (await Admin.GetJsonAsync($"/api/v1/stock/alerts?skuId={sku}")).Body!,
            p => p["items"]!.AsArray().Any(a => a!["kind"]!.GetValue<string>() == "outOfStock"), "the out-of-stock alert to be listed");

        var items = page!["items"]!.AsArray();
        Assert.Equal(["outOfStock", "lowStock", "lowStock"], items.Select(a => a!["kind"]!.GetValue<string>())); // newest first
        Assert.Equal([(8L, 8), (8L, 10)], items.Skip(1).Select(a => (a!["available"]!.GetValue<long>(), a["threshold"]!.GetValue<int>())));
    }

    [Fact]
    public async Task The_alert_list_filters_by_kind_as_the_answers_write_it_and_refuses_other_values()
    {
        var sku = NewId("kind");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-alerts", lowStockThreshold: 5);
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 20, version = 1 });
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 4, version = 2 });   // low stock
        await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 0, version = 3 });   // out of stock
        await Eventually.ReadAsync(async () => (await Admin.GetJsonAsync($"/api/v1/stock/alerts?skuId={sku}")).Body!,
            p => p["items"]!.AsArray().Count >= 2, "both alerts to be listed");

        foreach (var (kind, listed) in new[] { ("lowStock", "lowStock"), ("outOfStock", "outOfStock"), ("OUTOFSTOCK", "outOfStock") })
        {
            var (status, page) = await Admin.GetJsonAsync($"/api/v1/stock/alerts?skuId={sku}&kind={kind}");
            Assert.True(status == HttpStatusCode.OK, $"kind={kind}: {status} {page}");
            Assert.Equal(listed, Assert.Single(page!["items"]!.AsArray())!["kind"]!.GetValue<string>());
        }
        // A number, a list of kinds (which ASP.NET's enum binding takes as their bitwise or) or an unknown name: the rule, by name.
        foreach (var kind in new[] { "1", "7", "lowStock,outOfStock", "low" })
        {
            var (status, problem) = await Admin.GetJsonAsync($"/api/v1/stock/alerts?skuId={sku}&kind={kind}");
            Assert.True(status == HttpStatusCode.BadRequest, $"kind={kind}: {status} {problem}");
            Assert.Contains("lowStock, outOfStock", problem!["errors"]!["kind"]![0]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("{\"onHand\": 5, \"version\": ", "$")]                 // malformed JSON
    [InlineData("{\"onHand\": \"five\", \"version\": 1}", "onHand")]   // wrong type
    [InlineData("{\"onHand\": -1, \"version\": 1}", "onHand")]        // negative quantity
    [InlineData("{\"onHand\": 5}", "version")]                        // missing field
    [InlineData("", "body is required")]                              // no body at all
    [InlineData("{\"onHand\": 1e40, \"version\": 1}", "onHand")]      // out of range for a 64-bit quantity
    public async Task Bad_stock_input_is_400_problem_details_naming_the_field(string json, string field)
    {
        var sku = NewId("bad");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-a");

        var (status, problem) = await Admin.SendAsync(HttpMethod.Put, $"/api/v1/skus/{sku}/stock/wh-cn-1", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(400, problem!["status"]!.GetValue<int>());
        var text = problem.ToJsonString();
        Assert.Contains(field, text);
        var (_, view) = await Admin.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(0, view!["stock"]!["totalAvailable"]!.GetValue<long>());
    }

    [Fact]
    public async Task Bad_query_parameters_are_400_naming_the_parameter()
    {
        var (status, problem) = await Admin.GetJsonAsync("/api/v1/stock/alerts?limit=abc");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'limit'", problem!["detail"]!.GetValue<string>());

        (status, problem) = await Admin.GetJsonAsync("/api/v1/stock/alerts?limit=100000");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(problem!["errors"]!["limit"]);
    }

    [Fact]
    public async Task An_id_with_a_line_break_at_its_end_is_400_and_nothing_is_stored()
    {
        // A regular expression's '$' also matches before a final line break: "sku-1\n" must not pass for an id.
        var sku = NewId("nl");
        var body = new { sellerId = "seller-a", title = "Lamp", category = "home", price = new { amountMinor = 1999, currency = "USD" }, weightGrams = 10 };

        var (status, problem) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}%0A", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(problem!["errors"]!["skuId"]);
        (status, problem) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}", body with { sellerId = "seller-a\n" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(problem!["errors"]!["sellerId"]);

        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetJsonAsync($"/api/v1/skus/{sku}")).Status);
    }

    [Fact]
    public async Task Bad_catalog_input_names_every_broken_field()
    {
        var body = new { sellerId = "seller-a", title = "", category = "x", price = new { amountMinor = -5, currency = "XYZ" }, weightGrams = 10, hsCode = "12", originCountry = "Germany" };

        var (status, problem) = await Admin.PutJsonAsync($"/api/v1/skus/{NewId("bad")}", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var errors = problem!["errors"]!.AsObject();
        Assert.Equal(["hsCode", "originCountry", "price.amountMinor", "price.currency", "title"], errors.Select(e => e.Key).Order());
        Assert.Contains("ISO 4217", errors["price.currency"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_sku_is_404_and_unknown_warehouse_is_422()
    {
        var (missing, problem) = await Admin.GetJsonAsync($"/api/v1/skus/{NewId("none")}");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(404, problem!["status"]!.GetValue<int>());

        var stockForMissing = await Admin.PutJsonAsync($"/api/v1/skus/{NewId("none")}/stock/wh-cn-1", new { onHand = 1, version = 1 });
        Assert.Equal(HttpStatusCode.NotFound, stockForMissing.Status);

        var sku = NewId("wh");
        await TradeHttp.SeedSkuAsync(Admin, sku, "seller-a");
        var (status, unknown) = await Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-atlantis", new { onHand = 1, version = 1 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("wh-atlantis", unknown!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sellers_and_erps_touch_only_their_own_skus()
    {
        var sellerA = NewId("seller");
        var sellerB = NewId("seller");
        var keyA = await TradeHttp.IssueKeyAsync(Admin, "seller", sellerA);
        var keyB = await TradeHttp.IssueKeyAsync(Admin, "seller", sellerB);
        var erpA = await TradeHttp.IssueKeyAsync(Admin, "erp", sellerA);
        var buyer = await TradeHttp.IssueKeyAsync(Admin, "buyer", "buyer-1");
        using var a = silo.CreateClient(keyA);
        using var b = silo.CreateClient(keyB);
        using var erp = silo.CreateClient(erpA);
        using var shopper = silo.CreateClient(buyer);
        await Admin.PutJsonAsync("/api/v1/warehouses/wh-cn-1", new { name = "Shenzhen", country = "CN" });
        var sku = NewId("own");

        Assert.Equal(HttpStatusCode.Created, (await a.PutJsonAsync($"/api/v1/skus/{sku}", TradeHttp.Sku(sellerA))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.PutJsonAsync($"/api/v1/skus/{NewId("own")}", TradeHttp.Sku(sellerB))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await b.PutJsonAsync($"/api/v1/skus/{sku}", TradeHttp.Sku(sellerB))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await b.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 1, version = 1 })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await b.PostJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1/adjustments", new { eventId = "e1", delta = 1 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await erp.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 9, version = 1 })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await shopper.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 1, version = 2 })).Status);

        var bulk = await b.PostJsonAsync("/api/v1/stock/bulk", new { items = new[] { new { skuId = sku, warehouseId = "wh-cn-1", onHand = 0, version = 50 } } });
        Assert.Equal("invalid", bulk.Body!["results"]![0]!["status"]!.GetValue<string>());

        var (status, view) = await shopper.GetJsonAsync($"/api/v1/skus/{sku}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(9, view!["stock"]!["totalAvailable"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.Forbidden, (await b.GetJsonAsync($"/api/v1/stock/alerts?sellerId={sellerA}")).Status);
    }

    [Fact]
    public async Task A_sku_names_only_its_own_sellers_skus_as_substitutes()
    {
        // R-INV-5: a seller could name another seller's SKU as a substitute, and a buyer short of its SKU was offered that one.
        var sellerA = NewId("seller");
        var sellerB = NewId("seller");
        using var a = silo.CreateClient(await TradeHttp.IssueKeyAsync(Admin, "seller", sellerA));
        var ownSku = NewId("sub");
        var otherSku = NewId("sub");
        Assert.Equal(HttpStatusCode.Created, (await a.PutJsonAsync($"/api/v1/skus/{ownSku}", TradeHttp.Sku(sellerA))).Status);
        Assert.Equal(HttpStatusCode.Created, (await Admin.PutJsonAsync($"/api/v1/skus/{otherSku}", TradeHttp.Sku(sellerB))).Status);
        var sku = NewId("sub");
        object Naming(string seller, params string[] substitutes) => new
        {
            sellerId = seller, title = "USB-C cable 2m", category = "electronics", price = new { amountMinor = 2499, currency = "USD" },
            weightGrams = 60, hsCode = "8544.42", originCountry = "CN", substituteSkuIds = substitutes,
        };

        foreach (var client in new[] { a, Admin })
        {
            var (status, problem) = await client.PutJsonAsync($"/api/v1/skus/{sku}", Naming(sellerA, ownSku, otherSku));

            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Contains($"'{otherSku}'", problem!["detail"]!.GetValue<string>());
            Assert.Equal(otherSku, problem["skuId"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetJsonAsync($"/api/v1/skus/{sku}")).Status);
        }

        // Its own SKUs, and ids no SKU has yet (the seller may create them next), are taken.
        var (created, body) = await a.PutJsonAsync($"/api/v1/skus/{sku}", Naming(sellerA, ownSku, "sub-not-yet-created"));
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal([ownSku, "sub-not-yet-created"], body!["substituteSkuIds"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Requests_without_a_valid_key_are_401_problem_details()
    {
        using var anonymous = silo.CreateClient(apiKey: null);
        using var forged = silo.CreateClient("otk_01JAAAAAAAAAAAAAAAAAAAAAAA_notarealsecret");

        var (status, problem) = await anonymous.GetJsonAsync("/api/v1/skus/anything");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("X-Api-Key", problem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetJsonAsync("/api/v1/skus/anything")).Status);
    }

    [Fact]
    public async Task Only_admins_issue_keys_which_are_shown_once_and_can_be_revoked()
    {
        var sellerKey = await TradeHttp.IssueKeyAsync(Admin, "seller", "seller-k");
        using var seller = silo.CreateClient(sellerKey);

        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync("/api/v1/api-keys", new { role = "admin" })).Status);
        var (invalid, problem) = await Admin.PostJsonAsync("/api/v1/api-keys", new { role = "seller" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Assert.NotNull(problem!["errors"]!["subject"]);

        var (_, list) = await Admin.GetJsonAsync("/api/v1/api-keys");
        Assert.DoesNotContain(sellerKey, list!.ToJsonString());
        var keyId = sellerKey.Split('_')[1];
        Assert.Contains(keyId, list.ToJsonString());
        // Past the first page: by subject, or page after page by the last keyId seen.
        var (_, bySubject) = await Admin.GetJsonAsync("/api/v1/api-keys?subject=seller-k");
        Assert.Equal(keyId, Assert.Single(bySubject!.AsArray())!["keyId"]!.GetValue<string>());
        var seen = new List<string>();
        string? after = null;
        while (true)
        {
            var (_, page) = await Admin.GetJsonAsync($"/api/v1/api-keys?limit=1{(after is null ? "" : $"&after={after}")}");
            if (page!.AsArray().Count == 0)
            {
                break;
            }
            after = Assert.Single(page.AsArray())!["keyId"]!.GetValue<string>();
            seen.Add(after);
        }
        Assert.Equal(list.AsArray().Select(k => k!["keyId"]!.GetValue<string>()), seen);
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.GetJsonAsync("/api/v1/api-keys?limit=0")).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await seller.GetJsonAsync("/api/v1/skus/none-here")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{keyId}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await seller.GetJsonAsync("/api/v1/skus/none-here")).Status);
    }

    [Fact]
    public async Task Keys_switched_on_one_connection_are_each_verified_and_a_revoked_one_stops_at_once()
    {
        var sellerKey = await TradeHttp.IssueKeyAsync(Admin, "seller", "seller-conn");
        var connects = 0;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connects);
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = Admin.BaseAddress };
        async Task<HttpStatusCode> ListKeysAs(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/api-keys");
            request.Headers.Add("X-Api-Key", key);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        var adminKey = Admin.DefaultRequestHeaders.GetValues("X-Api-Key").Single();

        // Each request is judged by its own key, whatever the connection's previous request sent.
        Assert.Equal(HttpStatusCode.Forbidden, await ListKeysAs(sellerKey));
        Assert.Equal(HttpStatusCode.Forbidden, await ListKeysAs(sellerKey));
        Assert.Equal(HttpStatusCode.OK, await ListKeysAs(adminKey));
        Assert.Equal(HttpStatusCode.Forbidden, await ListKeysAs(sellerKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await ListKeysAs(sellerKey[..^1] + (sellerKey[^1] == 'A' ? 'B' : 'A')));
        Assert.Equal(HttpStatusCode.Forbidden, await ListKeysAs(sellerKey));

        // Revoked (through another connection), the key is refused on this one from its next request.
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{sellerKey.Split('_')[1]}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, await ListKeysAs(sellerKey));
        Assert.Equal(HttpStatusCode.OK, await ListKeysAs(adminKey));
        Assert.Equal(1, connects);
    }

    [Fact]
    public async Task Operations_endpoints_answer()
    {
        using var anonymous = silo.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);

        var openApi = JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json"))!;
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToArray();
        Assert.Contains("/api/v1/skus/{skuId}", paths);
        Assert.Contains("/api/v1/stock/bulk", paths);
        Assert.Contains("/api/v1/checkout", paths);
        Assert.Contains("/api/v1/payment-methods/cards", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/dashboard", StringComparison.Ordinal) || p.Contains("admin/clock", StringComparison.Ordinal));
        Assert.NotNull(openApi["components"]!["securitySchemes"]!["ApiKey"]);
        // A placed checkout's and an import's 201 are written by their own result type (CheckoutCreated); documented as before.
        foreach (var path in new[] { "/api/v1/checkout", "/api/v1/orders/import" })
        {
            var created = openApi["paths"]![path]!["post"]!["responses"]!["201"]!["content"]!["application/json"]!["schema"]!["$ref"]!;
            Assert.Equal("#/components/schemas/CheckoutResponse", created.GetValue<string>());
        }
        Assert.NotNull(openApi["components"]!["schemas"]!["CheckoutResponse"]!["properties"]!["orders"]);
        // A retried checkout answers 201 again: no 200 is documented. Its body is a required JSON CheckoutRequest.
        Assert.Null(openApi["paths"]!["/api/v1/checkout"]!["post"]!["responses"]!["200"]);
        var checkoutBody = openApi["paths"]!["/api/v1/checkout"]!["post"]!["requestBody"]!;
        Assert.True(checkoutBody["required"]!.GetValue<bool>());
        Assert.Equal("#/components/schemas/CheckoutRequest", checkoutBody["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());

        var docs = await anonymous.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("openapi/v1.json", await docs.Content.ReadAsStringAsync());
        // The dashboard has no login and costs CPU: off unless Dashboard:Enabled (see DashboardSettingTests).
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/dashboard/")).StatusCode);

        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("http_server_request_duration", metrics);
        Assert.Contains("kestrel_active_connections", metrics);
        // Per-request and per-buffer ASP.NET Core instruments are off unless asked for (see TelemetrySettingTests).
        Assert.DoesNotContain("aspnetcore_memory_pool_", metrics);
        Assert.DoesNotContain("aspnetcore_routing_", metrics);
        Assert.DoesNotContain("aspnetcore_authorization_", metrics);
    }
}

public sealed class PostgresInventoryApiTests(PostgresSiloFixture fixture)
    : InventoryApiContract(fixture.Silo), IClassFixture<PostgresSiloFixture>
{
    [Fact]
    public async Task Api_keys_are_stored_only_as_hashes()
    {
        var key = await TradeHttp.IssueKeyAsync(Admin, "analyst", null);
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT key_hash FROM api_keys WHERE key_id = @id", connection);
        command.Parameters.AddWithValue("id", key.Split('_')[1]);
        var stored = (string)(await command.ExecuteScalarAsync())!;

        Assert.NotEqual(key, stored);
        // The secret is base64url and may itself hold '_': it is everything after the key id.
        Assert.DoesNotContain(key.Split('_', 3)[2], stored);
        Assert.Equal(64, stored.Length);
    }
}

public sealed class SqliteInventoryApiTests(SqliteSiloFixture fixture)
    : InventoryApiContract(fixture.Silo), IClassFixture<SqliteSiloFixture>;
