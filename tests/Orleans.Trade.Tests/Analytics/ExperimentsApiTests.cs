using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// A/B tests over real HTTP on PostgreSQL (R-DAT-5): a seller's promotion with two variants; the storefront asks each buyer's
/// variant and reports whom it showed one to; buyers who then place an order of that seller convert, and the winner is called from
/// the data. Who may define, expose and read, and what no longer changes once an experiment runs.
/// </summary>
public sealed class ExperimentsApiTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static object Design(DateTimeOffset startsAt, string? sellerId = null, int minVisitors = 10, object[]? variants = null) => new
    {
        name = "Free-shipping banner on the product page",
        variants = variants ?? [new { name = "control", weight = 50 }, new { name = "banner", weight = 50 }],
        goal = "placed", sellerId, startsAt, minVisitorsPerVariant = minVisitors, minDetectableEffect = 0.3,
    };

    private static async Task<string> VariantAsync(HttpClient storefront, string experimentId, string buyerId)
    {
        var (status, body) = await storefront.GetJsonAsync($"/api/v1/experiments/{experimentId}/assignment?buyerId={buyerId}");
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!["variant"]!.GetValue<string>();
    }

    private async Task PlaceAsync(string buyerId, string sku)
    {
        var (status, body) = await OrderTestShop.CheckoutAsync(Shop.Admin, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
    }

    [Fact]
    public async Task Exposed_buyers_who_then_order_from_the_seller_convert_and_a_significantly_better_variant_wins()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var storefront = await Shop.KeyAsync("storefront", "web");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, currency: "EUR", stock: [("wh-de", 100)]);
        var otherSku = await Shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1_000, currency: "EUR", stock: [("wh-de", 100)]);
        var experimentId = OrderTestShop.NewId("exp");
        var (created, experiment) = await seller.PutJsonAsync($"/api/v1/experiments/{experimentId}", Design(DateTimeOffset.UtcNow.AddMinutes(-1)));
        Assert.True(created == HttpStatusCode.Created, $"{created} {experiment}");
        Assert.Equal(sellerId, experiment!["sellerId"]!.GetValue<string>());

        // Twenty buyers in each variant, by the storefront's own assignment calls (the same buyer always gets the same one).
        var byVariant = new Dictionary<string, List<string>> { ["control"] = [], ["banner"] = [] };
        while (byVariant.Values.Any(b => b.Count < 20))
        {
            var buyerId = OrderTestShop.NewId("b");
            var variant = await VariantAsync(storefront, experimentId, buyerId);
            Assert.Equal(variant, await VariantAsync(storefront, experimentId, buyerId));
            if (byVariant[variant].Count < 20)
            {
                byVariant[variant].Add(buyerId);
            }
        }
        var control = byVariant["control"];
        var banner = byVariant["banner"];
        // One control buyer ordered before seeing the page: that order does not convert them.
        await PlaceAsync(control[0], sku);
        await Task.Delay(50);
        var shownAt = DateTimeOffset.UtcNow;
        var exposures = control.Concat(banner).Select(b => (object)new { buyerId = b, at = shownAt })
            .Append(new { buyerId = banner[0], at = shownAt })
            .Append(new { buyerId = OrderTestShop.NewId("b"), at = shownAt.AddDays(-1) })
            .Append(new { buyerId = (string?)null, at = shownAt }).ToArray();
        var (exposed, answer) = await storefront.PostJsonAsync($"/api/v1/experiments/{experimentId}/exposures", new { exposures });
        Assert.True(exposed == HttpStatusCode.OK, $"{exposed} {answer}");
        Assert.Equal((40, 1, 2), (answer!["recorded"]!.GetValue<int>(), answer["duplicates"]!.GetValue<int>(), answer["invalid"]!.GetValue<int>()));
        Assert.Equal("banner", answer["items"]![20]!["variant"]!.GetValue<string>());
        Assert.Equal("at", answer["items"]![41]!["field"]!.GetValue<string>());
        var (again, resent) = await storefront.PostJsonAsync($"/api/v1/experiments/{experimentId}/exposures", new { exposures = exposures[..40] });
        Assert.Equal((HttpStatusCode.OK, 0), (again, resent!["recorded"]!.GetValue<int>()));

        // After the page: one control buyer orders, twelve banner buyers do; a banner buyer's order from another seller is not this promotion's.
        await PlaceAsync(control[1], sku);
        foreach (var buyerId in banner.Take(12))
        {
            await PlaceAsync(buyerId, sku);
        }
        await PlaceAsync(banner[19], otherSku);

        var (read, results) = await seller.GetJsonAsync($"/api/v1/experiments/{experimentId}/results");
        Assert.True(read == HttpStatusCode.OK, $"{read} {results}");
        var variants = results!["variants"]!.AsArray();
        Assert.Equal((20L, 1L, 0.05), (variants[0]!["visitors"]!.GetValue<long>(), variants[0]!["converted"]!.GetValue<long>(), variants[0]!["conversionRate"]!.GetValue<double>()));
        Assert.Equal((20L, 12L, 0.6), (variants[1]!["visitors"]!.GetValue<long>(), variants[1]!["converted"]!.GetValue<long>(), variants[1]!["conversionRate"]!.GetValue<double>()));
        // The sequential test tuned to a 30-point difference: 1 over its likelihood ratio (the z-test's would be 0.0002).
        Assert.Equal(0.000309, variants[1]!["pValue"]!.GetValue<double>(), 6);
        Assert.Equal("sequential", results["method"]!.GetValue<string>());
        Assert.Equal(("variantWins", "banner", "running"), (results["decision"]!.GetValue<string>(), results["winner"]!.GetValue<string>(), results["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_experiment_put_again_without_a_start_keeps_its_own_and_is_the_same_experiment()
    {
        var path = $"/api/v1/experiments/{OrderTestShop.NewId("exp")}";
        var body = new { name = "Checkout button colour", variants = new[] { new { name = "blue", weight = 50 }, new { name = "green", weight = 50 } } };

        var (created, first) = await Shop.Admin.PutJsonAsync(path, body);
        await Task.Delay(1_100);
        var (again, second) = await Shop.Admin.PutJsonAsync(path, body);

        Assert.True(created == HttpStatusCode.Created, $"{created} {first}");
        Assert.True(again == HttpStatusCode.OK, $"{again} {second}");
        var startsAt = first!["startsAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal(startsAt, second!["startsAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(0, startsAt.Ticks % TimeSpan.TicksPerSecond);
        Assert.Equal(1, second["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_running_experiment_keeps_its_design_and_only_its_seller_and_staff_may_see_it()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        var storefront = await Shop.KeyAsync("storefront", "web");
        var experimentId = OrderTestShop.NewId("exp");
        var path = $"/api/v1/experiments/{experimentId}";
        var started = DateTimeOffset.UtcNow.AddMinutes(-5);
        Assert.Equal(HttpStatusCode.Created, (await seller.PutJsonAsync(path, Design(started))).Status);

        var (same, _) = await seller.PutJsonAsync(path, Design(started));
        var (longer, _) = await seller.PutJsonAsync(path, Design(started, minVisitors: 500));
        var (redesign, conflict) = await seller.PutJsonAsync(path, Design(started, variants: [new { name = "control", weight = 20 }, new { name = "banner", weight = 80 }]));
        var (foreignPut, _) = await other.PutJsonAsync(path, Design(started));
        var (foreignRead, _) = await other.GetJsonAsync($"{path}/results");
        var (byStorefront, _) = await storefront.GetJsonAsync($"{path}/results");
        var (bySeller, _) = await seller.GetJsonAsync($"{path}/assignment?buyerId=b-1");
        var (missing, _) = await storefront.GetJsonAsync("/api/v1/experiments/no-such-experiment/assignment?buyerId=b-1");
        var (badWeights, weights) = await Shop.Admin.PutJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}",
            Design(started, variants: [new { name = "a", weight = 50 }, new { name = "b", weight = 40 }]));
        var (list, listed) = await other.GetJsonAsync("/api/v1/experiments");
        var (results, early) = await Shop.Admin.GetJsonAsync($"{path}/results");

        Assert.Equal(HttpStatusCode.OK, same);
        Assert.Equal(HttpStatusCode.OK, longer);
        Assert.True(redesign == HttpStatusCode.Conflict, $"{redesign} {conflict}");
        Assert.Equal(HttpStatusCode.Forbidden, foreignPut);
        Assert.Equal(HttpStatusCode.Forbidden, foreignRead);
        Assert.Equal(HttpStatusCode.Forbidden, byStorefront);
        Assert.Equal(HttpStatusCode.Forbidden, bySeller);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(HttpStatusCode.BadRequest, badWeights);
        Assert.NotNull(weights!["errors"]!["variants"]);
        Assert.Equal(HttpStatusCode.OK, list);
        Assert.DoesNotContain(listed!.AsArray(), e => e!["experimentId"]!.GetValue<string>() == experimentId);
        Assert.Equal(HttpStatusCode.OK, results);
        Assert.Equal(("notEnoughVisitors", 500), (early!["decision"]!.GetValue<string>(), early["minVisitorsPerVariant"]!.GetValue<int>()));
    }
}
