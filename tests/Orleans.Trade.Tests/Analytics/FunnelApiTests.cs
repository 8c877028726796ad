using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// The conversion funnel over real HTTP on PostgreSQL (R-DAT-2): a storefront's batches of events answered per item and stored
/// once; buyers who view, add to their carts, check out, place and pay counted per step (strict and reached), with the
/// conversions and the drop-off, per seller, SKU and day; who may post and read. On the payments silo (card checkouts, business clock).
/// </summary>
public sealed class FunnelApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static string Q(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O"));

    private async Task<DateTimeOffset> NowAsync() => (await Shop.AdvanceClockAsync(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();

    private static object Seen(string kind, string buyerId, string skuId, DateTimeOffset at) =>
        new { eventId = OrderTestShop.NewId("ev"), kind, buyerId, skuId, at };

    private static async Task<JsonNode> PostAsync(HttpClient storefront, params object[] events)
    {
        var (status, body) = await storefront.PostJsonAsync("/api/v1/storefront-events", new { events });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!;
    }

    private static long[] Buyers(JsonNode funnel) => funnel["steps"]!.AsArray().Select(s => s!["buyers"]!.GetValue<long>()).ToArray();

    private static long[] Reached(JsonNode funnel) => funnel["steps"]!.AsArray().Select(s => s!["reached"]!.GetValue<long>()).ToArray();

    [Fact]
    public async Task A_batch_is_answered_per_item_and_sent_again_counts_nothing_twice()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var storefront = await Shop.KeyAsync("storefront", "web");
        var start = await NowAsync();
        var at = start;
        var buyerId = OrderTestShop.NewId("b");
        var events = new object?[]
        {
            new { eventId = "ev-view-" + sellerId, kind = "view", buyerId, skuId = sku, at },
            new { eventId = "ev-cart-" + sellerId, kind = "Cart", sessionId = "sess-" + sellerId, skuId = sku, at },
            new { eventId = "ev-view-" + sellerId, kind = "view", buyerId, skuId = sku, at },                  // the same id again
            new { eventId = OrderTestShop.NewId("ev"), kind = "purchase", buyerId, skuId = sku, at },           // no such kind
            new { eventId = OrderTestShop.NewId("ev"), kind = "view", buyerId, sessionId = "s-1", skuId = sku, at }, // both
            new { eventId = OrderTestShop.NewId("ev"), kind = "view", buyerId, skuId = "no-such-sku-" + sellerId, at },
            new { eventId = OrderTestShop.NewId("ev"), kind = "view", buyerId, skuId = sku, at = start.AddMinutes(11) }, // ahead of the clock
            new { eventId = OrderTestShop.NewId("ev"), kind = "view", buyerId, skuId = sku, at = start.AddDays(-93) },   // past the retention
            new { eventId = OrderTestShop.NewId("ev"), kind = "view", buyerId, skuId = sku },                    // no time
            null,
        };
        var (status, first) = await storefront.PostJsonAsync("/api/v1/storefront-events", new { events });
        Assert.True(status == HttpStatusCode.OK, $"{status} {first}");
        string[] Statuses(JsonNode answer) => answer["results"]!.AsArray().Select(r => r!["status"]!.GetValue<string>()).ToArray();
        string[] Fields(JsonNode answer) => answer["results"]!.AsArray().Select(r => r!["field"]?.GetValue<string>() ?? "-").ToArray();
        Assert.Equal(["recorded", "recorded", "duplicate", "invalid", "invalid", "unknownSku", "invalid", "invalid", "invalid", "invalid"], Statuses(first!));
        Assert.Equal(["-", "-", "eventId", "kind", "buyerId", "skuId", "at", "at", "at", "-"], Fields(first!));
        Assert.Equal((2, 1, 7), (first!["recorded"]!.GetValue<int>(), first["duplicate"]!.GetValue<int>(), first["notRecorded"]!.GetValue<int>()));
        Assert.Equal(Enumerable.Range(0, events.Length), first["results"]!.AsArray().Select(r => r!["index"]!.GetValue<int>()));

        // Sent again (a lost answer): what was recorded is a duplicate now, the rest is answered as before.
        var (_, again) = await storefront.PostJsonAsync("/api/v1/storefront-events", new { events });
        Assert.Equal(["duplicate", "duplicate", "duplicate", "invalid", "invalid", "unknownSku", "invalid", "invalid", "invalid", "invalid"], Statuses(again!));
        Assert.Equal(0, again!["recorded"]!.GetValue<int>());

        // Counted once: the buyer viewed; the anonymous session carted without a view (reached, not in the strict funnel).
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (read, funnel) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start)}&sellerId={sellerId}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {funnel}");
        Assert.Equal([1L, 0, 0, 0, 0], Buyers(funnel!));
        Assert.Equal([1L, 1, 0, 0, 0], Reached(funnel!));

        // A batch of none or of more than 1,000 is refused whole.
        var (empty, emptyProblem) = await storefront.PostJsonAsync("/api/v1/storefront-events", new { events = Array.Empty<object>() });
        var tooMany = Enumerable.Range(0, FunnelApi.MaxEvents + 1).Select(_ => Seen("view", buyerId, sku, at)).ToArray();
        var (large, _) = await storefront.PostJsonAsync("/api/v1/storefront-events", new { events = tooMany });
        Assert.Equal(HttpStatusCode.BadRequest, empty);
        Assert.NotNull(emptyProblem!["errors"]!["events"]);
        Assert.Equal(HttpStatusCode.BadRequest, large);

        // Only the storefront's keys and admins post: not a seller's, a buyer's or an analyst's.
        var one = new { events = new[] { Seen("view", buyerId, sku, at) } };
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PostJsonAsync("/api/v1/storefront-events", one)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await Shop.KeyAsync("seller", sellerId)).PostJsonAsync("/api/v1/storefront-events", one)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await Shop.KeyAsync("buyer", buyerId)).PostJsonAsync("/api/v1/storefront-events", one)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PostJsonAsync("/api/v1/storefront-events", one)).Status);
    }

    /// <summary>
    /// With <c>interval=day</c> the window's figures stay the window's: a buyer who carts on one day and checks out and orders the
    /// next went the whole way, and one who views on two days is one viewer. Before 8 December the window's figures were the
    /// days' funnels added up, so the first converted on neither day and the second counted twice.
    /// </summary>
    [Fact]
    public async Task Asking_for_days_leaves_the_windows_figures_as_they_are_across_midnight()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 5)]);
        var storefront = await Shop.KeyAsync("storefront", "web");
        var now = await NowAsync();
        await Shop.AdvanceClockAsync(now.UtcDateTime.Date.AddDays(1).AddMinutes(1) - now.UtcDateTime);
        var afterMidnight = await NowAsync();
        var dayBefore = afterMidnight.AddHours(-2);
        var (crossing, browsing) = (OrderTestShop.NewId("b"), OrderTestShop.NewId("b"));
        await PostAsync(storefront, Seen("view", crossing, sku, dayBefore), Seen("cart", crossing, sku, dayBefore),
            Seen("checkout", crossing, sku, afterMidnight), Seen("view", browsing, sku, dayBefore), Seen("view", browsing, sku, afterMidnight));
        var (placed, order) = await OrderTestShop.CheckoutAsync(Shop.Admin, crossing, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {order}");

        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var window = $"/api/v1/analytics/funnel?from={Q(dayBefore.AddHours(-1))}&to={Q(afterMidnight.AddHours(1))}&sellerId={sellerId}";
        var whole = (await analyst.GetJsonAsync(window)).Body!;
        var (read, byDay) = await analyst.GetJsonAsync(window + "&interval=day");
        Assert.True(read == HttpStatusCode.OK, $"{read} {byDay}");

        Assert.Equal([2L, 1, 1, 1, 0], Buyers(whole));
        Assert.Equal([2L, 1, 1, 1, 0], Reached(whole));
        Assert.Equal(Buyers(whole), Buyers(byDay!));
        Assert.Equal(Reached(whole), Reached(byDay!));
        // Each day is its own funnel: the crossing buyer's steps are split between them.
        var days = byDay!["days"]!.AsArray();
        Assert.Equal(2, days.Count);
        Assert.Equal([2L, 1, 0, 0, 0], Buyers(days[0]!));
        Assert.Equal([1L, 0, 0, 0, 0], Buyers(days[1]!));
    }

    [Fact]
    public async Task The_funnel_counts_buyers_per_step_with_the_conversions_and_the_drop_off_per_seller_sku_and_day()
    {
        var sellerId = OrderTestShop.NewId("s");
        var otherId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 20)]);
        var secondSku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 20)]);
        var otherSku = await Shop.SkuAsync(otherId, priceMinor: 2_000, stock: [("wh-de", 20)]);
        var storefront = await Shop.KeyAsync("storefront", "web");
        // From just after a UTC midnight, so the whole scenario falls on one day and the day before is empty.
        var now = await NowAsync();
        await Shop.AdvanceClockAsync(now.UtcDateTime.Date.AddDays(1).AddMinutes(1) - now.UtcDateTime);
        var start = await NowAsync();
        var at = start.AddSeconds(1);
        var buyers = Enumerable.Range(0, 12).Select(_ => OrderTestShop.NewId("b")).ToArray();

        // Of the seller's first SKU: four buyers view only, two add to the cart, one checks out and stops, one places and
        // leaves it unpaid, two pay. Of its second SKU one buyer goes the whole way; of another seller's SKU one more.
        var events = new List<object>();
        void Steps(string buyer, string skuId, params string[] kinds) => events.AddRange(kinds.Select(k => Seen(k, buyer, skuId, at)));
        for (var i = 0; i < 4; i++) Steps(buyers[i], sku, "view");
        for (var i = 4; i < 6; i++) Steps(buyers[i], sku, "view", "cart");
        for (var i = 6; i < 10; i++) Steps(buyers[i], sku, "view", "view", "cart", "checkout");
        Steps(buyers[10], secondSku, "view", "cart", "checkout");
        Steps(buyers[11], otherSku, "view", "cart", "checkout");
        var posted = await PostAsync(storefront, [.. events]);
        Assert.Equal(events.Count, posted["recorded"]!.GetValue<int>());

        async Task PayAsync(string buyer, string skuId)
        {
            var created = await OrderTestShop.CardCheckoutAsync(await Shop.KeyAsync("buyer", buyer), buyer, [new { skuId, quantity = 1 }]);
            var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
            await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", $"order {orderId} paid");
        }
        var (unpaid, unpaidBody) = await OrderTestShop.CheckoutAsync(await Shop.KeyAsync("buyer", buyers[7]), buyers[7], OrderTestShop.NewId("key"),
            [new { skuId = sku, quantity = 1 }], currency: "USD");
        Assert.True(unpaid == HttpStatusCode.Created, $"{unpaid} {unpaidBody}");
        await PayAsync(buyers[8], sku);
        await PayAsync(buyers[9], sku);
        await PayAsync(buyers[10], secondSku);
        await PayAsync(buyers[11], otherSku);
        var end = await NowAsync();

        // The seller: 11 viewed, 7 carted, 5 checked out, 4 placed, 3 paid; most were lost between viewing and the cart.
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (read, funnel) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start)}&to={Q(end)}&sellerId={sellerId}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {funnel}");
        Assert.Equal(["view", "cart", "checkout", "placed", "paid"], funnel!["steps"]!.AsArray().Select(s => s!["step"]!.GetValue<string>()));
        Assert.Equal([11L, 7, 5, 4, 3], Buyers(funnel));
        Assert.Equal([11L, 7, 5, 4, 3], Reached(funnel));
        Assert.Equal([0L, 4, 2, 1, 1], funnel["steps"]!.AsArray().Select(s => s!["lost"]!.GetValue<long>()));
        Assert.Null(funnel["steps"]![0]!["stepConversion"]);
        Assert.Equal([0.6364, 0.7143, 0.8, 0.75], funnel["steps"]!.AsArray().Skip(1).Select(s => s!["stepConversion"]!.GetValue<double>()));
        Assert.Equal([1, 0.6364, 0.4545, 0.3636, 0.2727], funnel["steps"]!.AsArray().Select(s => s!["overallConversion"]!.GetValue<double>()));
        Assert.Equal(0.2727, funnel["conversion"]!.GetValue<double>());
        Assert.Equal("view", funnel["dropOff"]!["from"]!.GetValue<string>());
        Assert.Equal("cart", funnel["dropOff"]!["to"]!.GetValue<string>());
        Assert.Equal(4, funnel["dropOff"]!["lost"]!.GetValue<long>());
        Assert.Equal(0.3636, funnel["dropOff"]!["share"]!.GetValue<double>());
        Assert.Null(funnel["days"]);

        // The first SKU alone: the second SKU's buyer and order are not its.
        var (bySku, skuFunnel) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start)}&to={Q(end)}&skuId={sku}");
        Assert.True(bySku == HttpStatusCode.OK, $"{bySku} {skuFunnel}");
        Assert.Equal(sellerId, skuFunnel!["sellerId"]!.GetValue<string>());
        Assert.Equal([10L, 6, 4, 3, 2], Buyers(skuFunnel));
        Assert.Equal(0.2, skuFunnel["conversion"]!.GetValue<double>());

        // All sellers: the other seller's buyer too.
        var (_, all) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start)}&to={Q(end)}");
        Assert.Equal([12L, 8, 6, 5, 4], Buyers(all!));
        Assert.Null(all!["sellerId"]);

        // Per day from the day before: that day empty, this day the whole funnel.
        var (daily, perDay) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start.AddDays(-1))}&to={Q(end)}&sellerId={sellerId}&interval=day");
        Assert.True(daily == HttpStatusCode.OK, $"{daily} {perDay}");
        var days = perDay!["days"]!.AsArray();
        Assert.Equal([DateOnly.FromDateTime(start.UtcDateTime.AddDays(-1)).ToString("yyyy-MM-dd"), DateOnly.FromDateTime(start.UtcDateTime).ToString("yyyy-MM-dd")],
            days.Select(d => d!["day"]!.GetValue<string>()));
        Assert.Equal([0L, 0, 0, 0, 0], Buyers(days[0]!));
        Assert.Null(days[0]!["dropOff"]);
        Assert.Equal([11L, 7, 5, 4, 3], Buyers(days[1]!));
        Assert.Equal([11L, 7, 5, 4, 3], Buyers(perDay));

        // A seller's key reads its own (the default), not another's, nor another's SKU; a buyer and the storefront read none.
        var sellerKey = await Shop.KeyAsync("seller", sellerId);
        var (own, ownFunnel) = await sellerKey.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start)}&to={Q(end)}");
        Assert.True(own == HttpStatusCode.OK, $"{own} {ownFunnel}");
        Assert.Equal(sellerId, ownFunnel!["sellerId"]!.GetValue<string>());
        Assert.Equal([11L, 7, 5, 4, 3], Buyers(ownFunnel));
        Assert.Equal(HttpStatusCode.OK, (await (await Shop.KeyAsync("erp", otherId)).GetJsonAsync($"/api/v1/analytics/funnel?sellerId={otherId}")).Status);
        var (other, otherProblem) = await sellerKey.GetJsonAsync($"/api/v1/analytics/funnel?sellerId={otherId}");
        Assert.Equal(HttpStatusCode.Forbidden, other);
        Assert.Contains(otherId, otherProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await sellerKey.GetJsonAsync($"/api/v1/analytics/funnel?skuId={otherSku}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await Shop.KeyAsync("buyer", buyers[0])).GetJsonAsync("/api/v1/analytics/funnel")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await storefront.GetJsonAsync("/api/v1/analytics/funnel")).Status);

        // Bad windows, intervals and ids are refused naming the parameter; an unknown SKU, or one of another seller than named, is 404.
        var (backwards, backwardsProblem) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start)}&to={Q(start.AddDays(-1))}");
        var (tooLong, tooLongProblem) = await analyst.GetJsonAsync($"/api/v1/analytics/funnel?from={Q(start.AddDays(-100))}&to={Q(start)}");
        var (weekly, weeklyProblem) = await analyst.GetJsonAsync("/api/v1/analytics/funnel?interval=week");
        var (badSku, badSkuProblem) = await analyst.GetJsonAsync("/api/v1/analytics/funnel?skuId=no%20such%20sku");
        Assert.Equal(HttpStatusCode.BadRequest, backwards);
        Assert.NotNull(backwardsProblem!["errors"]!["from"]);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong);
        Assert.NotNull(tooLongProblem!["errors"]!["to"]);
        Assert.Equal(HttpStatusCode.BadRequest, weekly);
        Assert.NotNull(weeklyProblem!["errors"]!["interval"]);
        Assert.Equal(HttpStatusCode.BadRequest, badSku);
        Assert.NotNull(badSkuProblem!["errors"]!["skuId"]);
        Assert.Equal(HttpStatusCode.NotFound, (await analyst.GetJsonAsync($"/api/v1/analytics/funnel?skuId=unknown-{sellerId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await analyst.GetJsonAsync($"/api/v1/analytics/funnel?skuId={sku}&sellerId={otherId}")).Status);
    }
}
