using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// Competitor price benchmarks over real HTTP on PostgreSQL (R-DAT-3): competitors' prices imported in batches, each item answered on
/// its own, and a SKU's price against them, alone and in its seller's list.
/// </summary>
public sealed class BenchmarksApiTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static object Seen(string skuId, string competitor, long minor, DateTimeOffset at, string currency = "USD", string? url = null) =>
        new { skuId, competitor, price = new { amountMinor = minor, currency }, observedAt = at, url };

    private static string[] Statuses(JsonNode body) => body["results"]!.AsArray().Select(r => r!["status"]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task Imported_prices_are_answered_each_on_its_own_and_a_skus_benchmark_counts_the_fresh_convertible_ones()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000);
        var other = await Shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 2_000);
        var now = DateTimeOffset.UtcNow;

        var batch = new object?[]
        {
            Seen(sku, "Shop A", 1_800, now.AddHours(-2), url: "https://market.example/a/1"),
            Seen(sku, "Shop B", 2_500, now.AddHours(-1)),
            Seen(sku, "Shop C", 2_000, now.AddHours(-3), currency: "EUR"),
            Seen(sku, "Shop D", 900, now.AddDays(-40)),
            Seen(OrderTestShop.NewId("sku"), "Shop A", 1_000, now),
            Seen(other, "Shop A", 1_000, now),
            Seen(sku, "Shop E", 1_000, now.AddDays(1)),
            Seen(sku, "Shop F", 1_000, now, url: "ftp://x"),
            new { skuId = sku, price = new { amountMinor = 1_000, currency = "USD" }, observedAt = now },
            null,
        };
        var (imported, body) = await seller.PostJsonAsync("/api/v1/price-benchmarks", new { observations = batch });
        Assert.True(imported == HttpStatusCode.OK, $"{imported} {body}");
        Assert.Equal(["recorded", "recorded", "recorded", "recorded", "notFound", "forbidden", "invalid", "invalid", "invalid", "invalid"], Statuses(body!));
        Assert.Equal(4, body!["recorded"]!.GetValue<int>());
        Assert.Equal("observedAt", body["results"]![6]!["field"]!.GetValue<string>());
        Assert.Equal("url", body["results"]![7]!["field"]!.GetValue<string>());
        Assert.Equal("competitor", body["results"]![8]!["field"]!.GetValue<string>());

        // A retried import changes nothing; an older price of a competitor is dropped; a newer one replaces it.
        var (_, again) = await seller.PostJsonAsync("/api/v1/price-benchmarks", new { observations = batch.Take(4) });
        Assert.Equal(["unchanged", "unchanged", "unchanged", "unchanged"], Statuses(again!));
        var (_, older) = await seller.PostJsonAsync("/api/v1/price-benchmarks", new { observations = new[] { Seen(sku, "Shop A", 500, now.AddDays(-1)) } });
        Assert.Equal(["older"], Statuses(older!));

        var (read, benchmark) = await seller.GetJsonAsync($"/api/v1/skus/{sku}/price-benchmark");
        Assert.True(read == HttpStatusCode.OK, $"{read} {benchmark}");
        Assert.Equal(4, benchmark!["competitors"]!.AsArray().Count);
        Assert.Equal(3, benchmark["counted"]!.GetValue<int>()); // Shop D was seen 40 days ago
        Assert.False(benchmark["competitors"]!.AsArray().Single(c => c!["competitor"]!.GetValue<string>() == "Shop D")!["counted"]!.GetValue<bool>());
        var euro = benchmark["competitors"]!.AsArray().Single(c => c!["competitor"]!.GetValue<string>() == "Shop C")!["priceInSkuCurrency"]!["amountMinor"]!.GetValue<long>();
        Assert.InRange(euro, 2_001, 2_499); // 20.00 EUR in dollars, between the other two
        Assert.Equal(1_800, benchmark["lowest"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(euro, benchmark["median"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(2_500, benchmark["highest"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(1, benchmark["cheaper"]!.GetValue<int>());
        Assert.Equal("belowMedian", benchmark["position"]!.GetValue<string>());

        // The seller's list, by position; another seller's key and a buyer's are refused.
        var (listed, list) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/price-benchmarks");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(sku, Assert.Single(list!["items"]!.AsArray())!["skuId"]!.GetValue<string>());
        Assert.Empty((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/price-benchmarks?position=dearest")).Body!["items"]!.AsArray());
        Assert.Single((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/price-benchmarks?position=belowMedian")).Body!["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/price-benchmarks?position=cheap")).Status);
        var stranger = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetJsonAsync($"/api/v1/skus/{sku}/price-benchmark")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetJsonAsync($"/api/v1/sellers/{sellerId}/price-benchmarks")).Status);
        var buyer = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.GetJsonAsync($"/api/v1/skus/{sku}/price-benchmark")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Shop.Admin.GetJsonAsync($"/api/v1/skus/{OrderTestShop.NewId("sku")}/price-benchmark")).Status);

        // The seller lowers its price below every competitor's: the benchmark follows at once.
        var (repriced, _) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{sku}", new
        {
            sellerId, title = "Item", category = "home", price = new { amountMinor = 1_700, currency = "USD" }, weightGrams = 500, hsCode = "691200", originCountry = "CN",
        });
        Assert.Equal(HttpStatusCode.OK, repriced);
        Assert.Equal("cheapest", (await seller.GetJsonAsync($"/api/v1/skus/{sku}/price-benchmark")).Body!["position"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_whole_import_that_is_empty_or_too_large_is_refused()
    {
        var (empty, problem) = await Shop.Admin.PostJsonAsync("/api/v1/price-benchmarks", new { observations = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.BadRequest, empty);
        Assert.NotNull(problem!["errors"]!["observations"]);
        var many = Enumerable.Range(0, 1_001).Select(_ => Seen("sku-x", "A", 1, DateTimeOffset.UtcNow)).ToArray();
        Assert.Equal(HttpStatusCode.BadRequest, (await Shop.Admin.PostJsonAsync("/api/v1/price-benchmarks", new { observations = many })).Status);
    }
}
