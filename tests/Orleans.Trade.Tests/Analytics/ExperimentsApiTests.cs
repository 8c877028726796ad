using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// A/B tests over real HTTP on PostgreSQL (R-DAT-5): a seller's promotion with two variants; the storefront asks each buyer's
/// variant and reports whom it showed one to; buyers who then place an order of that seller convert, and the winner is called from
/// the data, and stays called when later data would lift the p-value read now. Who may define, expose and read, and what no
/// longer changes once an experiment runs. On a silo whose business clock the tests move on (exposures and orders at chosen
/// minutes): times come from that clock, not the test's.
/// </summary>
public sealed class ExperimentsApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    /// <summary>The silo's business clock, moved on by a millisecond.</summary>
    private async Task<DateTimeOffset> NowAsync() => (await Shop.AdvanceClockAsync(TimeSpan.FromMilliseconds(1)))["now"]!.GetValue<DateTimeOffset>();

    /// <summary>Moves the clock to a second past the start of the next minute, and answers that minute's start.</summary>
    private async Task<DateTimeOffset> NextMinuteAsync()
    {
        var now = await NowAsync();
        var minute = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMinute)).AddMinutes(1);
        await Shop.AdvanceClockAsync(minute.AddSeconds(1) - now);
        return minute;
    }

    /// <summary>Buyers of each variant, by the assignment's own hash (the first test checks it against the storefront's calls).</summary>
    private static Dictionary<string, List<string>> Buyers(string experimentId, int perVariant)
    {
        IReadOnlyList<Orleans.Trade.Analytics.ExperimentVariant> variants = [new("control", 50), new("banner", 50)];
        var byVariant = new Dictionary<string, List<string>> { ["control"] = [], ["banner"] = [] };
        while (byVariant.Values.Any(b => b.Count < perVariant))
        {
            var buyerId = OrderTestShop.NewId("b");
            var list = byVariant[Orleans.Trade.Api.Analytics.ExperimentBuckets.Variant(variants, experimentId, buyerId).Name];
            if (list.Count < perVariant)
            {
                list.Add(buyerId);
            }
        }
        return byVariant;
    }

    private async Task ExposeAsync(HttpClient storefront, string experimentId, IEnumerable<string> buyers, DateTimeOffset at)
    {
        var (status, answer) = await storefront.PostJsonAsync($"/api/v1/experiments/{experimentId}/exposures",
            new { exposures = buyers.Select(b => new { buyerId = b, at }).ToArray() });
        Assert.True(status == HttpStatusCode.OK && answer!["invalid"]!.GetValue<int>() == 0, $"{status} {answer}");
    }

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
    public async Task An_experiment_whose_write_fails_never_assigns_a_variant_not_even_while_it_is_written()
    {
        // Read while its creation was being written, an experiment whose write then failed assigned variants and took exposures.
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var storefront = await Shop.KeyAsync("storefront", "web");
        var experimentId = OrderTestShop.NewId("exp");
        var design = Design((await NowAsync()).AddMinutes(-1));
        var refusing = await fixture.Silo.Storage.RefuseStateWritesAsync("experiments");
        HttpStatusCode refused, during;
        try
        {
            // The silo's copy of the experiments is fresh, so an id it does not hold is asked of the registry itself.
            await storefront.GetJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}/assignment?buyerId=b-warm");
            var create = seller.PutJsonAsync($"/api/v1/experiments/{experimentId}", design);
            await Task.Delay(500);
            (during, _) = await storefront.GetJsonAsync($"/api/v1/experiments/{experimentId}/assignment?buyerId=b-during");
            (refused, _) = await create;
        }
        finally
        {
            await refusing.DisposeAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Equal(HttpStatusCode.NotFound, during);
        Assert.Equal(HttpStatusCode.NotFound, (await storefront.GetJsonAsync($"/api/v1/experiments/{experimentId}/assignment?buyerId=b-after")).Status);
        // Sent again once storage takes it, it is created.
        Assert.Equal(HttpStatusCode.Created, (await seller.PutJsonAsync($"/api/v1/experiments/{experimentId}", design)).Status);
    }

    /// <summary>
    /// Room for experiments is per seller and counts only those not ended: one seller's twenty running experiments do not stop
    /// another's, and ending one makes room. Before 8 December every experiment ever made counted toward one limit of 500 for
    /// the whole platform, so one seller's key could take it for every seller and the platform, for good.
    /// </summary>
    [Fact]
    public async Task A_seller_runs_at_most_twenty_experiments_at_once_without_taking_another_sellers_room()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        var startsAt = (await NowAsync()).AddMinutes(-1);
        var ids = Enumerable.Range(0, Orleans.Trade.Analytics.IExperimentsGrain.MaxExperimentsPerSeller).Select(_ => OrderTestShop.NewId("exp")).ToArray();
        foreach (var id in ids)
        {
            var (status, body) = await seller.PutJsonAsync($"/api/v1/experiments/{id}", Design(startsAt));
            Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        }

        var (full, problem) = await seller.PutJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}", Design(startsAt));
        Assert.True(full == HttpStatusCode.UnprocessableEntity, $"{full} {problem}");
        Assert.Contains(sellerId, problem!["detail"]!.GetValue<string>());
        Assert.Contains("endsAt", problem["detail"]!.GetValue<string>());
        var (others, otherBody) = await other.PutJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}", Design(startsAt));
        Assert.True(others == HttpStatusCode.Created, $"{others} {otherBody}");

        // Ending one (its end may change once it runs) makes room for another; the ended one stays readable.
        var (ended, endedBody) = await seller.PutJsonAsync($"/api/v1/experiments/{ids[0]}", new
        {
            name = "Free-shipping banner on the product page",
            variants = new[] { new { name = "control", weight = 50 }, new { name = "banner", weight = 50 } },
            goal = "placed", startsAt, endsAt = startsAt.AddSeconds(30), minVisitorsPerVariant = 10, minDetectableEffect = 0.3,
        });
        Assert.True(ended == HttpStatusCode.OK, $"{ended} {endedBody}");
        var (again, againBody) = await seller.PutJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}", Design(startsAt));
        Assert.True(again == HttpStatusCode.Created, $"{again} {againBody}");
        Assert.Equal(HttpStatusCode.OK, (await seller.GetJsonAsync($"/api/v1/experiments/{ids[0]}")).Status);

        // Reopening the ended one (its end removed) needs room as a new one does: there is none.
        var (reopened, reopenedBody) = await seller.PutJsonAsync($"/api/v1/experiments/{ids[0]}", Design(startsAt));
        Assert.True(reopened == HttpStatusCode.UnprocessableEntity, $"{reopened} {reopenedBody}");
        var still = (await seller.GetJsonAsync($"/api/v1/experiments/{ids[0]}")).Body!;
        Assert.Equal("ended", still["status"]!.GetValue<string>());
        // Nor can one be made ended, to be reopened later without room: a new experiment ends in the future.
        var (past, pastBody) = await seller.PutJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}", new
        {
            name = "Made ended", variants = new[] { new { name = "control", weight = 50 }, new { name = "banner", weight = 50 } },
            startsAt = startsAt.AddDays(-2), endsAt = startsAt.AddDays(-1),
        });
        Assert.True(past == HttpStatusCode.BadRequest, $"{past} {pastBody}");
        Assert.NotNull(pastBody!["errors"]!["endsAt"]);
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
        var (created, experiment) = await seller.PutJsonAsync($"/api/v1/experiments/{experimentId}", Design((await NowAsync()).AddMinutes(-1)));
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
        var shownAt = await NowAsync();
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

        // After the page: five control buyers order, fifteen banner buyers do; a banner buyer's order from another seller is not this promotion's.
        foreach (var buyerId in control.Skip(1).Take(5).Concat(banner.Take(15)))
        {
            await PlaceAsync(buyerId, sku);
        }
        await PlaceAsync(banner[19], otherSku);
        // The minute in progress is counted but the sequential test looks at it once it has ended.
        await NextMinuteAsync();

        var (read, results) = await seller.GetJsonAsync($"/api/v1/experiments/{experimentId}/results");
        Assert.True(read == HttpStatusCode.OK, $"{read} {results}");
        var variants = results!["variants"]!.AsArray();
        Assert.Equal((20L, 5L, 0.25), (variants[0]!["visitors"]!.GetValue<long>(), variants[0]!["converted"]!.GetValue<long>(), variants[0]!["conversionRate"]!.GetValue<double>()));
        Assert.Equal((20L, 15L, 0.75), (variants[1]!["visitors"]!.GetValue<long>(), variants[1]!["converted"]!.GetValue<long>(), variants[1]!["conversionRate"]!.GetValue<double>()));
        // The sequential test tuned to a 30-point difference: 1 over its likelihood ratio (the z-test's would be 0.0016), the
        // lowest it reached as the orders came in.
        Assert.Equal(0.009674, variants[1]!["pValue"]!.GetValue<double>(), 6);
        Assert.NotNull(variants[1]!["significantSince"]);
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
    public async Task The_design_is_fixed_moments_before_the_start_and_buyers_first_exposed_after_the_end_do_not_count()
    {
        // Found in review: silos assign visitors from a copy of the experiments up to 5 s old, so a design changed in the seconds
        // before the start met visitors assigned by the old one; and buyers first exposed after an end moved earlier counted as
        // visitors who could never convert.
        var storefront = await Shop.KeyAsync("storefront", "web");
        var now = await NowAsync();
        var soon = $"/api/v1/experiments/{OrderTestShop.NewId("exp")}";
        var later = $"/api/v1/experiments/{OrderTestShop.NewId("exp")}";
        object[] skewed = [new { name = "control", weight = 20 }, new { name = "banner", weight = 80 }];
        Assert.Equal(HttpStatusCode.Created, (await Shop.Admin.PutJsonAsync(soon, Design(now.AddSeconds(3)))).Status);
        Assert.Equal(HttpStatusCode.Created, (await Shop.Admin.PutJsonAsync(later, Design(now.AddMinutes(1)))).Status);
        var (fixedAlready, problem) = await Shop.Admin.PutJsonAsync(soon, Design(now.AddSeconds(3), variants: skewed));
        Assert.True(fixedAlready == HttpStatusCode.Conflict, $"{fixedAlready} {problem}");
        Assert.Contains("5 seconds before", problem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync(later, Design(now.AddMinutes(1), variants: skewed))).Status);

        var experimentId = OrderTestShop.NewId("exp");
        var path = $"/api/v1/experiments/{experimentId}";
        var start = await NowAsync();
        Assert.Equal(HttpStatusCode.Created, (await Shop.Admin.PutJsonAsync(path, Design(start))).Status);
        var buyers = Buyers(experimentId, 15);
        await ExposeAsync(storefront, experimentId, buyers.Values.SelectMany(b => b.Take(10)), start.AddSeconds(10));
        await Shop.AdvanceClockAsync(TimeSpan.FromMinutes(3));
        await ExposeAsync(storefront, experimentId, buyers.Values.SelectMany(b => b.Skip(10)), start.AddMinutes(2));
        Assert.Equal(30, (await Shop.Admin.GetJsonAsync($"{path}/results")).Body!["visitors"]!.GetValue<long>());
        // Ended after a minute, looking back: the five buyers a variant exposed in the third minute are not its visitors.
        var (ended, endedBody) = await Shop.Admin.PutJsonAsync(path, new
        {
            name = "Free-shipping banner on the product page", variants = new[] { new { name = "control", weight = 50 }, new { name = "banner", weight = 50 } },
            goal = "placed", startsAt = start, endsAt = start.AddMinutes(1), minVisitorsPerVariant = 10, minDetectableEffect = 0.3,
        });
        Assert.True(ended == HttpStatusCode.OK, $"{ended} {endedBody}");
        var results = (await Shop.Admin.GetJsonAsync($"{path}/results")).Body!;
        Assert.Equal("ended", results["status"]!.GetValue<string>());
        Assert.Equal(20, results["visitors"]!.GetValue<long>());
        Assert.All(results["variants"]!.AsArray(), v => Assert.Equal(10, v!["visitors"]!.GetValue<long>()));
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
        // Weights out of range are named, not summed (two near int.MaxValue overflowed the sum: a 500).
        var (hugeWeights, huge) = await Shop.Admin.PutJsonAsync($"/api/v1/experiments/{OrderTestShop.NewId("exp")}",
            Design(started, variants: [new { name = "a", weight = int.MaxValue }, new { name = "b", weight = 1 }]));
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
        Assert.True(hugeWeights == HttpStatusCode.BadRequest, $"{hugeWeights} {huge}");
        Assert.NotNull(huge!["errors"]!["variants[0].weight"]);
        Assert.Equal(HttpStatusCode.OK, list);
        Assert.DoesNotContain(listed!.AsArray(), e => e!["experimentId"]!.GetValue<string>() == experimentId);
        Assert.Equal(HttpStatusCode.OK, results);
        Assert.Equal(("notEnoughVisitors", 500), (early!["decision"]!.GetValue<string>(), early["minVisitorsPerVariant"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_winner_called_stays_the_winner_when_later_data_would_lift_the_p_value_read_now()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var storefront = await Shop.KeyAsync("storefront", "web");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, currency: "EUR", stock: [("wh-de", 100)]);
        var experimentId = OrderTestShop.NewId("exp");
        var startsAt = await NowAsync();
        var (created, _) = await seller.PutJsonAsync($"/api/v1/experiments/{experimentId}", Design(startsAt.AddTicks(-(startsAt.Ticks % TimeSpan.TicksPerSecond))));
        Assert.Equal(HttpStatusCode.Created, created);
        var buyers = Buyers(experimentId, 40);
        var (control, banner) = (buyers["control"], buyers["banner"]);

        // Minute 0: 20 buyers of each see it. Minute 1: 5 of the control's and 15 of the banner's order (20/5 against 20/15).
        await ExposeAsync(storefront, experimentId, control.Take(20).Concat(banner.Take(20)), await NowAsync());
        var called = await NextMinuteAsync();
        foreach (var buyerId in control.Take(5).Concat(banner.Take(15)))
        {
            await PlaceAsync(buyerId, sku);
        }
        Assert.True(await NowAsync() < called.AddMinutes(1), "The orders took over a minute: they are not all in the minute the test expects.");
        // While minute 1 runs its orders are counted, not yet looked at; once it has ended the banner is called from it.
        var (_, running) = await seller.GetJsonAsync($"/api/v1/experiments/{experimentId}/results");
        Assert.Equal((15L, null), (running!["variants"]![1]!["converted"]!.GetValue<long>(), running["variants"]![1]!["pValue"]?.GetValue<double>()));
        await NextMinuteAsync();
        var (read, first) = await seller.GetJsonAsync($"/api/v1/experiments/{experimentId}/results");
        Assert.True(read == HttpStatusCode.OK, $"{read} {first}");
        Assert.Equal(0.009674, first!["variants"]![1]!["pValue"]!.GetValue<double>(), 6);
        Assert.Equal(called, first["variants"]![1]!["significantSince"]!.GetValue<DateTimeOffset>());
        Assert.Equal(("variantWins", "banner"), (first["decision"]!.GetValue<string>(), first["winner"]!.GetValue<string>()));

        // Minute 2: 20 more buyers of each see it; 7 of the control's and 4 of the banner's order. 40/12 against 40/19 reads 0.91
        // now: a single look would no longer call the banner.
        await NextMinuteAsync();
        await ExposeAsync(storefront, experimentId, control.Skip(20).Concat(banner.Skip(20)), await NowAsync());
        foreach (var buyerId in control.Skip(20).Take(7).Concat(banner.Skip(20).Take(4)))
        {
            await PlaceAsync(buyerId, sku);
        }
        await NextMinuteAsync();
        var (again, later) = await seller.GetJsonAsync($"/api/v1/experiments/{experimentId}/results");
        Assert.True(again == HttpStatusCode.OK, $"{again} {later}");
        var variants = later!["variants"]!.AsArray();
        Assert.Equal((40L, 12L, 40L, 19L), (variants[0]!["visitors"]!.GetValue<long>(), variants[0]!["converted"]!.GetValue<long>(),
            variants[1]!["visitors"]!.GetValue<long>(), variants[1]!["converted"]!.GetValue<long>()));
        Assert.True(Orleans.Trade.Api.Analytics.ExperimentStatistics.SequentialPValue(40, 12, 40, 19, 0.3) > 0.9);
        Assert.Equal(0.009674, variants[1]!["pValue"]!.GetValue<double>(), 6);
        Assert.True(variants[1]!["significant"]!.GetValue<bool>());
        Assert.Equal(called, variants[1]!["significantSince"]!.GetValue<DateTimeOffset>());
        Assert.Equal(("variantWins", "banner"), (later["decision"]!.GetValue<string>(), later["winner"]!.GetValue<string>()));

        var openApi = JsonNode.Parse(await Shop.Admin.GetStringAsync("/openapi/v1.json"))!;
        var result = openApi["components"]!["schemas"]!["VariantResult"]!["properties"]!;
        Assert.Contains("first fell under the threshold", result["significantSince"]!["description"]!.GetValue<string>());
        Assert.Contains("lowest", result["pValue"]!["description"]!.GetValue<string>());
    }
}
