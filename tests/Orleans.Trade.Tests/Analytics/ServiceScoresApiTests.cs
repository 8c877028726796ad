using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// After-sales service scores and retention over real HTTP on PostgreSQL (R-DAT-4): a seller's refunds, compensations, disputes
/// (with their resolution times), returns and late shipments over the paid orders created in a window, against a clean seller's;
/// buyers who order twice in the window and buyers who had ordered before it. On the payments silo (card checkouts, business clock).
/// </summary>
public sealed class ServiceScoresApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, HttpClient Buyer, string BuyerId);

    /// <summary>A paid order of 20.00 USD of the seller's SKU by the buyer (a new one unless given), awaiting shipment.</summary>
    private async Task<Sold> PaidAsync(string sku, (HttpClient Client, string Id)? buyer = null)
    {
        var buyerId = buyer?.Id ?? OrderTestShop.NewId("b");
        var client = buyer?.Client ?? await Shop.KeyAsync("buyer", buyerId);
        var created = await OrderTestShop.CardCheckoutAsync(client, buyerId, [new { skuId = sku, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", $"order {orderId} paid");
        return new Sold(orderId, client, buyerId);
    }

    private async Task DeliveredAsync(HttpClient seller, Sold sold)
    {
        await Shop.ActAsync(seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = "SS" + sold.OrderId[^10..] });
        await Shop.ActAsync(Shop.Admin, sold.OrderId, "delivery");
    }

    private static string Q(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O"));

    private async Task<DateTimeOffset> NowAsync() => (await Shop.AdvanceClockAsync(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();

    private static JsonNode Seller(JsonNode report, string sellerId) =>
        report["sellers"]!.AsArray().Single(s => s!["sellerId"]!.GetValue<string>() == sellerId)!;

    [Fact]
    public async Task A_seller_with_refunds_a_dispute_a_return_and_a_late_shipment_scores_its_rates_and_below_a_clean_seller()
    {
        var troubledId = OrderTestShop.NewId("s");
        var cleanId = OrderTestShop.NewId("s");
        var troubledSku = await Shop.SkuAsync(troubledId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var cleanSku = await Shop.SkuAsync(cleanId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var troubled = await Shop.KeyAsync("seller", troubledId);
        var clean = await Shop.KeyAsync("seller", cleanId);
        var start = await NowAsync();

        // The clean seller's two orders are shipped and delivered at once; an unpaid order of the troubled seller never counts.
        await DeliveredAsync(clean, await PaidAsync(cleanSku));
        await DeliveredAsync(clean, await PaidAsync(cleanSku));

        // The troubled seller ships one order after its ship-by time: it is late, and its buyer is compensated 5% at shipping.
        var late = await PaidAsync(troubledSku);
        var shipBy = (await Shop.OrderAsync(late.OrderId))["deadlines"]!["shipBy"]!.GetValue<DateTimeOffset>();
        await Shop.AdvanceClockAsync(shipBy - await NowAsync() + TimeSpan.FromHours(1));
        await Eventually.ReadAsync(() => Shop.OrderAsync(late.OrderId), o => o["late"]!.GetValue<bool>(), "the order to be marked late");
        var (funded, deposit) = await Shop.Admin.PostJsonAsync($"/api/v1/sellers/{troubledId}/deposits",
            new { depositId = OrderTestShop.NewId("dep"), amount = new { amountMinor = 1_000, currency = "USD" } });
        Assert.True(funded == HttpStatusCode.Created, $"{funded} {deposit}");
        var shipped = await Shop.ActAsync(troubled, late.OrderId, "ship", new { carrier = "DHL", trackingNumber = "SL" + late.OrderId[^10..] });
        var compensation = Assert.Single(shipped["compensations"]!.AsArray())!["amount"]!["amountMinor"]!.GetValue<long>();

        // One refunded in part by the seller, one disputed and decided against the seller 10 hours later, one returned.
        var refunded = await PaidAsync(troubledSku);
        var disputed = await PaidAsync(troubledSku);
        var returned = await PaidAsync(troubledSku);
        await DeliveredAsync(troubled, refunded);
        await DeliveredAsync(troubled, disputed);
        await DeliveredAsync(troubled, returned);
        var (refundStatus, refund) = await troubled.PostWithKeyAsync($"/api/v1/orders/{refunded.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 300, currency = "USD" }, reason = "a scratch" });
        Assert.True(refundStatus == HttpStatusCode.Accepted, $"{refundStatus} {refund}");
        var (opened, dispute) = await disputed.Buyer.PostJsonAsync($"/api/v1/orders/{disputed.OrderId}/disputes",
            new { reason = "wrongItem", description = "A blue one came, I ordered red." });
        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");
        var (contested, answer) = await troubled.PostJsonAsync($"/api/v1/orders/{disputed.OrderId}/dispute/answer",
            new { decision = "contest", note = "It is red in daylight." });
        Assert.True(contested == HttpStatusCode.OK, $"{contested} {answer}");
        await Shop.AdvanceClockAsync(TimeSpan.FromHours(10));
        var (decided, verdict) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{disputed.OrderId}/dispute/verdict",
            new { outcome = "partialRefund", amount = new { amountMinor = 500, currency = "USD" }, note = "Wrong colour; the buyer keeps it." });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        var (requested, returnBody) = await returned.Buyer.PostJsonAsync($"/api/v1/orders/{returned.OrderId}/returns",
            new { reason = "noReason", description = "Changed my mind.", lines = new[] { new { skuId = troubledSku, quantity = 1 } } });
        Assert.True(requested == HttpStatusCode.Created, $"{requested} {returnBody}");
        // An order awaiting payment is no purchase yet: left out.
        var unpaidBuyerId = OrderTestShop.NewId("b");
        var (unpaid, unpaidBody) = await OrderTestShop.CheckoutAsync(await Shop.KeyAsync("buyer", unpaidBuyerId), unpaidBuyerId, OrderTestShop.NewId("key"),
            [new { skuId = troubledSku, quantity = 1 }], currency: "USD");
        Assert.True(unpaid == HttpStatusCode.Created, $"{unpaid} {unpaidBody}");

        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (read, report) = await analyst.GetJsonAsync($"/api/v1/analytics/service-scores?from={Q(start)}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {report}");

        var bad = Seller(report!, troubledId);
        Assert.Equal(4, bad["orders"]!.GetValue<long>());
        Assert.Equal(3, bad["refunded"]!.GetValue<long>()); // the refund, the verdict's refund, the compensation
        Assert.Equal(0.75, bad["refundRate"]!.GetValue<double>());
        var usd = Assert.Single(bad["amounts"]!.AsArray())!;
        Assert.Equal("USD", usd["currency"]!.GetValue<string>());
        Assert.Equal(8_000, usd["gmvMinor"]!.GetValue<long>());
        Assert.Equal(300 + 500 + compensation, usd["refundedMinor"]!.GetValue<long>());
        Assert.Equal(Math.Round((800.0 + compensation) / 8_000, 4), usd["refundedShare"]!.GetValue<double>());
        Assert.Equal(1, bad["disputes"]!.GetValue<long>());
        Assert.Equal(0.25, bad["disputeRate"]!.GetValue<double>());
        Assert.Equal(1, bad["disputesResolved"]!.GetValue<long>());
        Assert.Equal(0, bad["disputesOpen"]!.GetValue<long>());
        Assert.Equal(10.0, bad["resolutionHoursP50"]!.GetValue<double>());
        Assert.Equal(10.0, bad["resolutionHoursP90"]!.GetValue<double>());
        Assert.Equal(1, bad["disputesLost"]!.GetValue<long>());
        Assert.Equal(0, bad["slowDisputes"]!.GetValue<long>());
        Assert.Equal(1, bad["returns"]!.GetValue<long>());
        Assert.Equal(0.25, bad["returnRate"]!.GetValue<double>());
        Assert.Equal(1, bad["late"]!.GetValue<long>());
        Assert.Equal(0.25, bad["lateRate"]!.GetValue<double>());
        // 100 × (1 − (0.25·0.75 + 0.20·0.25 + 0.15·0.25 + 0.10·0 + 0.15·0.25 + 0.15·0.25))
        Assert.Equal(65.0, bad["score"]!.GetValue<double>());

        var good = Seller(report!, cleanId);
        Assert.Equal(2, good["orders"]!.GetValue<long>());
        Assert.Equal(0, good["refunded"]!.GetValue<long>());
        Assert.Null(good["resolutionHoursP50"]);
        Assert.Equal(100.0, good["score"]!.GetValue<double>());

        // Worst first; the totals are the window's (this test's orders only: the fixture's database is its own).
        Assert.Equal(troubledId, report!["sellers"]![0]!["sellerId"]!.GetValue<string>());
        Assert.Equal(2, report["sellerCount"]!.GetValue<long>());
        Assert.Null(report["totals"]!["sellerId"]);
        Assert.Equal(6, report["totals"]!["orders"]!.GetValue<long>());
        Assert.Equal(3, report["totals"]!["refunded"]!.GetValue<long>());
        Assert.Equal(12_000, report["totals"]!["amounts"]![0]!["gmvMinor"]!.GetValue<long>());

        // Paged: the second page of one holds the clean seller.
        var (paged, secondPage) = await analyst.GetJsonAsync($"/api/v1/analytics/service-scores?from={Q(start)}&page=2&pageSize=1");
        Assert.Equal(HttpStatusCode.OK, paged);
        Assert.Equal(cleanId, Assert.Single(secondPage!["sellers"]!.AsArray())!["sellerId"]!.GetValue<string>());

        // A seller's key reads its own by default and by name; another seller's is refused, and so is a buyer.
        var (own, ownReport) = await troubled.GetJsonAsync($"/api/v1/analytics/service-scores?from={Q(start)}");
        Assert.True(own == HttpStatusCode.OK, $"{own} {ownReport}");
        Assert.Equal(troubledId, Assert.Single(ownReport!["sellers"]!.AsArray())!["sellerId"]!.GetValue<string>());
        Assert.Equal(4, ownReport["totals"]!["orders"]!.GetValue<long>());
        var erp = await Shop.KeyAsync("erp", cleanId);
        var (byErp, _) = await erp.GetJsonAsync($"/api/v1/analytics/service-scores?sellerId={cleanId}");
        var (other, otherProblem) = await troubled.GetJsonAsync($"/api/v1/analytics/service-scores?sellerId={cleanId}");
        var (byBuyer, _) = await late.Buyer.GetJsonAsync("/api/v1/analytics/service-scores");
        Assert.Equal(HttpStatusCode.OK, byErp);
        Assert.Equal(HttpStatusCode.Forbidden, other);
        Assert.Contains(cleanId, otherProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);
    }

    [Fact]
    public async Task Buyers_who_order_twice_in_the_window_repeat_and_buyers_who_ordered_before_it_return()
    {
        var sellerId = OrderTestShop.NewId("s");
        var otherId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var otherSku = await Shop.SkuAsync(otherId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var loyalId = OrderTestShop.NewId("b");
        var loyal = (await Shop.KeyAsync("buyer", loyalId), loyalId);
        var newcomerId = OrderTestShop.NewId("b");
        var newcomer = (await Shop.KeyAsync("buyer", newcomerId), newcomerId);

        // Before the window: the loyal buyer's first order of the seller.
        await PaidAsync(sku, loyal);
        await Shop.AdvanceClockAsync(TimeSpan.FromHours(1));
        var start = await NowAsync();

        // In it: the loyal buyer orders twice more from the seller and once from another; a newcomer orders once.
        await PaidAsync(sku, loyal);
        await PaidAsync(sku, loyal);
        await PaidAsync(otherSku, loyal);
        await PaidAsync(sku, newcomer);

        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (read, report) = await analyst.GetJsonAsync($"/api/v1/analytics/retention?from={Q(start)}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {report}");
        var totals = report!["totals"]!;
        Assert.Equal(4, totals["orders"]!.GetValue<long>());
        Assert.Equal(2, totals["buyers"]!.GetValue<long>());
        Assert.Equal(1, totals["repeatBuyers"]!.GetValue<long>());
        Assert.Equal(0.5, totals["repeatPurchaseRate"]!.GetValue<double>());
        Assert.Equal(1, totals["returningBuyers"]!.GetValue<long>());
        Assert.Equal(0.5, totals["returningRate"]!.GetValue<double>());

        var seller = Seller(report, sellerId);
        Assert.Equal(3, seller["orders"]!.GetValue<long>());
        Assert.Equal(2, seller["buyers"]!.GetValue<long>());
        Assert.Equal(1, seller["repeatBuyers"]!.GetValue<long>());
        Assert.Equal(1, seller["returningBuyers"]!.GetValue<long>());
        // The loyal buyer had never ordered from the other seller: new there, and once only.
        var other = Seller(report, otherId);
        Assert.Equal(1, other["buyers"]!.GetValue<long>());
        Assert.Equal(0, other["repeatBuyers"]!.GetValue<long>());
        Assert.Equal(0, other["returningBuyers"]!.GetValue<long>());
        Assert.Equal(sellerId, report["sellers"]![0]!["sellerId"]!.GetValue<string>()); // most buyers first

        // The seller's own key reads its own only; the window before start holds the first order, by a buyer new then.
        var sellerKey = await Shop.KeyAsync("seller", sellerId);
        var (own, ownReport) = await sellerKey.GetJsonAsync($"/api/v1/analytics/retention?from={Q(start.AddDays(-1))}&to={Q(start)}");
        Assert.True(own == HttpStatusCode.OK, $"{own} {ownReport}");
        Assert.Equal(1, ownReport!["totals"]!["buyers"]!.GetValue<long>());
        Assert.Equal(0, ownReport["totals"]!["returningBuyers"]!.GetValue<long>());
        var (forbidden, _) = await sellerKey.GetJsonAsync($"/api/v1/analytics/retention?sellerId={otherId}");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);

        // Bad windows and pages are refused, saying which parameter is wrong.
        var (backwards, backwardsProblem) = await analyst.GetJsonAsync($"/api/v1/analytics/retention?from={Q(start)}&to={Q(start.AddDays(-1))}");
        var (tooLong, tooLongProblem) = await analyst.GetJsonAsync($"/api/v1/analytics/service-scores?from={Q(start.AddDays(-100))}&to={Q(start)}");
        var (badSeller, _) = await analyst.GetJsonAsync("/api/v1/analytics/service-scores?sellerId=no%20such%20seller");
        var (badPage, _) = await analyst.GetJsonAsync("/api/v1/analytics/retention?pageSize=0");
        Assert.Equal(HttpStatusCode.BadRequest, backwards);
        Assert.NotNull(backwardsProblem!["errors"]!["from"]);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong);
        Assert.NotNull(tooLongProblem!["errors"]!["to"]);
        Assert.Equal(HttpStatusCode.BadRequest, badSeller);
        Assert.Equal(HttpStatusCode.BadRequest, badPage);
    }
}
