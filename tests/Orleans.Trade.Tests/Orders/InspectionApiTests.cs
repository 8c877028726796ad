using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Third-party inspections of disputed goods over real HTTP on PostgreSQL (R-DIS-6): an admin orders one on a dispute under
/// arbitration, the verdict waits for its report, a refund verdict on high-value or fragile goods that are not as described or
/// damaged needs one, and the party at fault pays the fee when the verdict is carried out (the seller from its deposit first, the
/// buyer out of its refund, the platform the rest). On a silo of its own like the dispute tests' (the sandbox provider, business
/// clock run ahead, deadlines checked every second), with the default Disputes settings (above 1,000.00 USD; glassware is fragile).
/// </summary>
public sealed class InspectionApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, HttpClient Buyer, string SellerId, HttpClient Seller, string PaymentId, long Charged);

    /// <summary>An order paid by card inline in USD, shipped and delivered, disputed by its buyer and contested by its seller: under arbitration.</summary>
    private async Task<Sold> ArbitratedAsync(string reason = "notAsDescribed", long priceMinor = 2_000, string category = "home")
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: priceMinor, category: category, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", "the order to be paid");
        var charged = order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>() + (order["totals"]!["tax"]?["amountMinor"]!.GetValue<long>() ?? 0);
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "IN" + orderId[^8..] });
        await Shop.ActAsync(Shop.Admin, orderId, "delivery");
        var (opened, dispute) = await buyer.PostJsonAsync($"/api/v1/orders/{orderId}/disputes",
            new { reason, description = "The vase arrived in pieces and is not the glaze shown.", attachments = new[] { "https://img.example/vase.jpg" } });
        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");
        var (contested, answer) = await seller.PostJsonAsync($"/api/v1/orders/{orderId}/dispute/answer",
            new { decision = "contest", note = "It left our warehouse whole; the packing photos show it." });
        Assert.True(contested == HttpStatusCode.OK, $"{contested} {answer}");
        return new Sold(orderId, buyer, sellerId, seller, order["paidBy"]!.GetValue<string>(), charged);
    }

    private static string Inspection(Sold sold) => $"/api/v1/orders/{sold.OrderId}/dispute/inspection";

    private static string Report(Sold sold) => $"/api/v1/orders/{sold.OrderId}/dispute/inspection/report";

    private static string Verdict(Sold sold) => $"/api/v1/orders/{sold.OrderId}/dispute/verdict";

    private static object Fee(long amountMinor, string currency = "USD") => new { amountMinor, currency };

    private async Task FundDeposit(string sellerId, long amountMinor)
    {
        var (status, body) = await Shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits",
            new { depositId = OrderTestShop.NewId("dep"), amount = new { amountMinor, currency = "USD" } });
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
    }

    private async Task<JsonNode> OrderInspectionAsync(Sold sold, long fee)
    {
        var (status, dispute) = await Shop.Admin.PostJsonAsync(Inspection(sold),
            new { inspector = "Canton Goods Inspection Ltd.", fee = Fee(fee), note = "Check the glaze and the breakage against the listing." });
        Assert.True(status == HttpStatusCode.Created, $"{status} {dispute}");
        return dispute!;
    }

    private async Task<JsonNode> ReportAsync(Sold sold, string finding)
    {
        var (status, dispute) = await Shop.Admin.PostJsonAsync(Report(sold),
            new { finding, summary = $"Inspected on site: {finding}.", attachments = new[] { "https://inspect.example/reports/r-1.pdf" } });
        Assert.True(status == HttpStatusCode.OK, $"{status} {dispute}");
        return dispute!;
    }

    private static long Account(JsonNode ledger, string account, string field) => OrderTestShop.LedgerAccount(ledger, account, field);

    /// <summary>Every account's posted balance (credits less debits) in USD: a balanced ledger's add up to zero.</summary>
    private static long PostedSum(JsonNode ledger) => ledger["accounts"]!.AsArray()
        .Where(a => a!["currency"]!.GetValue<string>() == "USD").Sum(a => a!["posted"]!.GetValue<long>());

    [Fact]
    public async Task An_ordered_inspection_holds_the_verdict_until_its_report_and_a_seller_at_fault_pays_its_fee_from_the_deposit()
    {
        var sold = await ArbitratedAsync();
        await FundDeposit(sold.SellerId, 2_000);
        var body = new { inspector = "Canton Goods Inspection Ltd.", fee = Fee(1_500), note = "Check the glaze." };

        var (ordered, dispute) = await Shop.Admin.PostJsonAsync(Inspection(sold), body);
        var (again, replay) = await Shop.Admin.PostJsonAsync(Inspection(sold), body);
        var (other, _) = await Shop.Admin.PostJsonAsync(Inspection(sold), body with { fee = Fee(900) });

        Assert.True(ordered == HttpStatusCode.Created, $"{ordered} {dispute}");
        var inspection = dispute!["inspection"]!;
        var inspectionId = inspection["inspectionId"]!.GetValue<string>();
        Assert.Equal("Canton Goods Inspection Ltd.", inspection["inspector"]!.GetValue<string>());
        Assert.Equal(1_500, inspection["fee"]!["amountMinor"]!.GetValue<long>());
        var orderedAt = inspection["orderedAt"]!.GetValue<DateTimeOffset>();
        var dueAt = inspection["dueAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(dueAt - orderedAt, TimeSpan.FromDays(5), TimeSpan.FromDays(9)); // 5 working days
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(inspectionId, replay!["inspection"]!["inspectionId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, other);
        Assert.Equal(inspectionId, (await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!["inspection"]!["inspectionId"]!.GetValue<string>());

        // No verdict before the report, whatever the outcome.
        var note = "The inspector found the glaze differs from the listing.";
        var (early, earlyProblem) = await Shop.Admin.PostJsonAsync(Verdict(sold), new { outcome = "fullRefund", note });
        var (earlyClose, _) = await Shop.Admin.PostJsonAsync(Verdict(sold), new { outcome = "close", note });
        Assert.True(early == HttpStatusCode.Conflict, $"{early} {earlyProblem}");
        Assert.Contains("report", earlyProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, earlyClose);

        var reported = await ReportAsync(sold, "sellerAtFault");
        var (reportAgain, _) = await Shop.Admin.PostJsonAsync(Report(sold),
            new { finding = "sellerAtFault", summary = "Inspected on site: sellerAtFault.", attachments = new[] { "https://inspect.example/reports/r-1.pdf" } });
        var (otherReport, _) = await Shop.Admin.PostJsonAsync(Report(sold),
            new { finding = "buyerAtFault", summary = "Changed my mind.", attachments = new[] { "https://inspect.example/reports/r-2.pdf" } });
        Assert.Equal("sellerAtFault", reported["inspection"]!["report"]!["finding"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, reportAgain);
        Assert.Equal(HttpStatusCode.Conflict, otherReport);

        var (decided, verdict) = await Shop.Admin.PostJsonAsync(Verdict(sold), new { outcome = "fullRefund", note });

        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        var fee = verdict!["resolution"]!["inspectionFee"]!;
        Assert.Equal("seller", fee["paidBy"]!.GetValue<string>());
        Assert.Equal(1_500, fee["fromSeller"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0, fee["borneByPlatform"]!["amountMinor"]!.GetValue<long>());
        Assert.True(fee["booked"]!.GetValue<bool>());
        Assert.Equal(1_500, fee["funding"]!["fromDeposit"]!["amountMinor"]!.GetValue<long>());
        // The buyer has everything back; the seller's deposit paid the inspector, and the ledger balances.
        Assert.Equal("closed", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
        await Shop.RefundedAsync(sold.PaymentId, sold.Charged);
        var ledger = await Shop.LedgerAsync(sold.SellerId);
        Assert.Equal(500, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(1_500, Account(ledger, "platform:fees:USD", "posted"));
        Assert.Equal(0, Account(ledger, $"escrow:{sold.OrderId}", "pendingIn"));
        Assert.Equal(0, PostedSum(ledger));
        var statement = await sold.Seller.GetStringAsync($"/api/v1/sellers/{sold.SellerId}/statement.csv");
        Assert.Contains($",{sold.OrderId}:fee:{inspectionId}:deposit,Posted,seller:deposit:USD,platform:fees:USD,1500,USD", statement);
        var events = await Shop.TimelineEventsAsync(sold.OrderId);
        Assert.Equal(["InspectionOrdered", "InspectionReported", "DisputeSettled", "InspectionFeeCharged"],
            events.Where(e => e is "InspectionOrdered" or "InspectionReported" or "DisputeSettled" or "InspectionFeeCharged").ToArray());
        // A retry of the verdict books nothing twice.
        var (retried, _) = await Shop.Admin.PostJsonAsync(Verdict(sold), new { outcome = "fullRefund", note });
        Assert.Equal(HttpStatusCode.OK, retried);
        Assert.Equal(500, Account(await Shop.LedgerAsync(sold.SellerId), "seller:deposit:USD", "posted"));
    }

    [Fact]
    public async Task A_buyer_at_fault_pays_the_inspection_fee_out_of_a_partial_refund_and_the_escrow_releases_the_rest_to_the_seller()
    {
        var sold = await ArbitratedAsync(reason: "damaged");
        await OrderInspectionAsync(sold, 300);
        await ReportAsync(sold, "buyerAtFault");

        var (decided, verdict) = await Shop.Admin.PostJsonAsync(Verdict(sold),
            new { outcome = "partialRefund", amount = new { amountMinor = 800, currency = "USD" }, note = "Partly damaged in the buyer's hands; part of the glaze claim holds." });

        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        var fee = verdict!["resolution"]!["inspectionFee"]!;
        Assert.Equal("buyer", fee["paidBy"]!.GetValue<string>());
        Assert.Equal(300, fee["fromBuyerRefund"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0, fee["fromSeller"]!["amountMinor"]!.GetValue<long>());
        Assert.True(fee["booked"]!.GetValue<bool>());
        Assert.Equal(800, verdict["resolution"]!["refund"]!["amountMinor"]!.GetValue<long>()); // what the seller gives up
        // The buyer gets the refund less the fee; the escrow gave up 800, and the seller has the rest at completion.
        await Shop.RefundedAsync(sold.PaymentId, 500);
        var order = await Eventually.ReadAsync(() => Shop.OrderAsync(sold.OrderId), o => o["status"]!.GetValue<string>() == "completed", "the order to complete");
        Assert.Equal(800, order["refunded"]!["amountMinor"]!.GetValue<long>());
        var ledger = await Eventually.ReadAsync(() => Shop.LedgerAsync(sold.SellerId), l => OrderTestShop.PostedLegs(l) == sold.Charged - 800, "the rest of the escrow to be released");
        Assert.Equal(300, Account(ledger, "platform:fees:USD", "posted"));
        Assert.Equal(0, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(0, PostedSum(ledger));
        Assert.Contains("InspectionFeeCharged", await Shop.TimelineEventsAsync(sold.OrderId));
        // A refund of the rest later pays back the rest of what the buyer paid, not the fee kept from the verdict's refund.
        await FundDeposit(sold.SellerId, 5_000);
        var (more, moreBody) = await sold.Seller.PostWithKeyAsync($"/api/v1/orders/{sold.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = sold.Charged - 800, currency = "USD" }, reason = "goodwill" });
        Assert.True(more == HttpStatusCode.Accepted, $"{more} {moreBody}");
        await Shop.RefundedAsync(sold.PaymentId, sold.Charged - 300);
    }

    [Fact]
    public async Task A_buyer_at_fault_with_nothing_refunded_and_an_inconclusive_report_leave_the_fee_to_the_platform()
    {
        var closed = await ArbitratedAsync(reason: "damaged");
        await OrderInspectionAsync(closed, 400);
        await ReportAsync(closed, "buyerAtFault");
        var (decided, verdict) = await Shop.Admin.PostJsonAsync(Verdict(closed), new { outcome = "close", note = "Damaged after delivery." });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        Assert.Equal("platform", verdict!["resolution"]!["inspectionFee"]!["paidBy"]!.GetValue<string>());
        Assert.Equal(400, verdict["resolution"]!["inspectionFee"]!["borneByPlatform"]!["amountMinor"]!.GetValue<long>());
        Assert.Contains("InspectionFeeBorne", await Shop.TimelineEventsAsync(closed.OrderId));

        var unclear = await ArbitratedAsync();
        await OrderInspectionAsync(unclear, 400);
        await ReportAsync(unclear, "inconclusive");
        var (refunded, refundVerdict) = await Shop.Admin.PostJsonAsync(Verdict(unclear),
            new { outcome = "partialRefund", amount = new { amountMinor = 600, currency = "USD" }, note = "Split the difference." });
        Assert.True(refunded == HttpStatusCode.OK, $"{refunded} {refundVerdict}");
        Assert.Equal("platform", refundVerdict!["resolution"]!["inspectionFee"]!["paidBy"]!.GetValue<string>());
        await Shop.RefundedAsync(unclear.PaymentId, 600); // the whole refund reaches the buyer
        foreach (var sold in new[] { closed, unclear })
        {
            var ledger = await Eventually.ReadAsync(() => Shop.LedgerAsync(sold.SellerId), l => OrderTestShop.PostedLegs(l) > 0, "the escrow to be released");
            Assert.Equal(0, Account(ledger, "platform:fees:USD", "posted"));
            Assert.Equal(0, PostedSum(ledger));
        }
    }

    [Fact]
    public async Task A_refund_verdict_on_high_value_or_fragile_goods_not_as_described_needs_an_inspection_and_a_seller_who_cannot_pay_its_fee_changes_nothing()
    {
        // 1,500.00 USD of goods, above the 1,000.00 USD of Disputes:InspectionRequiredAboveUsdMinor.
        var valuable = await ArbitratedAsync(priceMinor: 150_000);
        var (refund, problem) = await Shop.Admin.PostJsonAsync(Verdict(valuable),
            new { outcome = "partialRefund", amount = new { amountMinor = 10_000, currency = "USD" }, note = "Part of it." });
        Assert.True(refund == HttpStatusCode.Conflict, $"{refund} {problem}");
        Assert.Contains("high-value", problem!["detail"]!.GetValue<string>());
        Assert.Contains("inspection", problem["detail"]!.GetValue<string>());
        var (close, _) = await Shop.Admin.PostJsonAsync(Verdict(valuable), new { outcome = "close", note = "As listed." });
        Assert.Equal(HttpStatusCode.OK, close); // a verdict for the seller needs none

        var fragile = await ArbitratedAsync(reason: "damaged", category: "glassware");
        var (full, fragileProblem) = await Shop.Admin.PostJsonAsync(Verdict(fragile), new { outcome = "fullRefund", note = "Broken." });
        Assert.True(full == HttpStatusCode.Conflict, $"{full} {fragileProblem}");
        Assert.Contains("fragile", fragileProblem!["detail"]!.GetValue<string>());
        await OrderInspectionAsync(fragile, 700);
        await ReportAsync(fragile, "sellerAtFault");

        // The seller has no deposit and no available balance: the verdict is refused and nothing moves.
        var (unfunded, unfundedProblem) = await Shop.Admin.PostJsonAsync(Verdict(fragile), new { outcome = "fullRefund", note = "Broken in packing." });
        Assert.True(unfunded == HttpStatusCode.Conflict, $"{unfunded} {unfundedProblem}");
        Assert.Contains("deposit", unfundedProblem!["detail"]!.GetValue<string>());
        var dispute = (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{fragile.OrderId}/dispute")).Body!;
        Assert.Equal("underArbitration", dispute["status"]!.GetValue<string>());
        var order = await Shop.OrderAsync(fragile.OrderId);
        Assert.Equal("delivered", order["status"]!.GetValue<string>());
        Assert.Null(order["refunded"]);
        Assert.DoesNotContain("DisputeSettled", await Shop.TimelineEventsAsync(fragile.OrderId));

        await FundDeposit(fragile.SellerId, 1_000);
        var (decided, verdict) = await Shop.Admin.PostJsonAsync(Verdict(fragile), new { outcome = "fullRefund", note = "Broken in packing." });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        await Shop.RefundedAsync(fragile.PaymentId, fragile.Charged);
        var ledger = await Shop.LedgerAsync(fragile.SellerId);
        Assert.Equal(300, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(700, Account(ledger, "platform:fees:USD", "posted"));
        Assert.Equal(0, PostedSum(ledger));
    }

    [Fact]
    public async Task A_verdict_whose_inspection_fee_could_not_be_booked_is_carried_out_by_the_order_itself_fee_first_and_once()
    {
        var sold = await ArbitratedAsync(reason: "damaged");
        await FundDeposit(sold.SellerId, 1_000);
        var inspectionId = (await OrderInspectionAsync(sold, 600))["inspection"]!["inspectionId"]!.GetValue<string>();
        await ReportAsync(sold, "sellerAtFault");
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        // The seller's ledger cannot store this order's fee for a while: the verdict is stored, the booking fails, the arbitrator hears 503.
        await storage.ExecuteAsync($"""
            CREATE FUNCTION refuse_inspection_fee() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger hiccup'; END $$;
            CREATE TRIGGER refuse_inspection_fee BEFORE INSERT ON ledger_transfers FOR EACH ROW
                WHEN (NEW.transfer_id LIKE '{sold.OrderId}:fee%') EXECUTE FUNCTION refuse_inspection_fee();
            """);
        var body = new { outcome = "partialRefund", amount = new { amountMinor = 1_000, currency = "USD" }, note = "Packed without padding." };
        var (status, problem) = await Shop.Admin.PostJsonAsync(Verdict(sold), body);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{status} {problem}");
        await Task.Delay(TimeSpan.FromSeconds(3)); // deadline checks come by every second, and a failed wake every two
        var waiting = await Shop.OrderAsync(sold.OrderId);
        Assert.Equal("delivered", waiting["status"]!.GetValue<string>()); // neither refunded nor completed before the fee is booked
        var decided = (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!;
        Assert.Equal("resolved", decided["status"]!.GetValue<string>());
        Assert.False(decided["resolution"]!["inspectionFee"]!["booked"]!.GetValue<bool>());
        Assert.Equal(1_000, Account(await Shop.LedgerAsync(sold.SellerId), "seller:deposit:USD", "posted"));
        await storage.ExecuteAsync("DROP TRIGGER refuse_inspection_fee ON ledger_transfers; DROP FUNCTION refuse_inspection_fee()");

        await Eventually.ReadAsync(() => Shop.OrderAsync(sold.OrderId), o => o["status"]!.GetValue<string>() == "completed", "the order to complete");
        Assert.True((await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!["resolution"]!["inspectionFee"]!["booked"]!.GetValue<bool>());
        await Shop.RefundedAsync(sold.PaymentId, 1_000);
        var (again, dispute) = await Shop.Admin.PostJsonAsync(Verdict(sold), body);
        Assert.True(again == HttpStatusCode.OK, $"{again} {dispute}");
        var ledger = await Eventually.ReadAsync(() => Shop.LedgerAsync(sold.SellerId), l => OrderTestShop.PostedLegs(l) == sold.Charged - 1_000, "the rest of the escrow to be released");
        Assert.Equal(400, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(600, Account(ledger, "platform:fees:USD", "posted"));
        Assert.Equal(0, PostedSum(ledger));
        Assert.Single(await Shop.TimelineEventsAsync(sold.OrderId), e => e == "InspectionFeeCharged");
        var statement = await sold.Seller.GetStringAsync($"/api/v1/sellers/{sold.SellerId}/statement.csv");
        Assert.Single(statement.Split("\r\n"), l => l.Contains($"{sold.OrderId}:fee:{inspectionId}:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_inspection_not_reported_by_its_due_time_opens_a_ticket_that_its_report_closes()
    {
        var sold = await ArbitratedAsync(reason: "damaged");
        var dueAt = (await OrderInspectionAsync(sold, 500))["inspection"]!["dueAt"]!.GetValue<DateTimeOffset>();
        var now = (await Shop.AdvanceClockAsync(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();

        await Shop.AdvanceClockAsync(dueAt - now + TimeSpan.FromHours(1));

        await Eventually.UntilAsync(() => Shop.OpenTicketKindsAsync(sold.OrderId), k => k.Contains("InspectionOverdue"), "the overdue inspection's ticket");
        Assert.Contains("InspectionOverdue", await Shop.TimelineEventsAsync(sold.OrderId));
        var dispute = (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!;
        Assert.True(dispute["inspection"]!["overdue"]!.GetValue<bool>());
        Assert.Equal("underArbitration", dispute["status"]!.GetValue<string>());

        await ReportAsync(sold, "inconclusive");

        await Eventually.UntilAsync(() => Shop.OpenTicketKindsAsync(sold.OrderId), k => !k.Contains("InspectionOverdue"), "the overdue ticket to close");
        Assert.Single(await Shop.TimelineEventsAsync(sold.OrderId), e => e == "InspectionOverdue");
    }

    [Fact]
    public async Task Inspection_requests_say_what_is_wrong_and_only_an_admin_orders_or_reports_one()
    {
        var sold = await ArbitratedAsync();
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));

        var (zeroFee, zeroProblem) = await Shop.Admin.PostJsonAsync(Inspection(sold), new { inspector = "Agency", fee = Fee(0) });
        var (negativeFee, _) = await Shop.Admin.PostJsonAsync(Inspection(sold), new { inspector = "Agency", fee = Fee(-5) });
        // A fee near long.MaxValue was taken, and overflowed the verdict's sums later (a 500, and a dispute never decided).
        var (hugeFee, hugeProblem) = await Shop.Admin.PostJsonAsync(Inspection(sold), new { inspector = "Agency", fee = Fee(long.MaxValue) });
        var (noFee, noFeeProblem) = await Shop.Admin.PostJsonAsync(Inspection(sold), new { inspector = "Agency" });
        var (noInspector, inspectorProblem) = await Shop.Admin.PostJsonAsync(Inspection(sold), new { fee = Fee(100) });
        var (wrongCurrency, currencyProblem) = await Shop.Admin.PostJsonAsync(Inspection(sold), new { inspector = "Agency", fee = Fee(100, "EUR") });
        var (byAnalyst, analystProblem) = await analyst.PostJsonAsync(Inspection(sold), new { inspector = "Agency", fee = Fee(100) });
        var (bySeller, _) = await sold.Seller.PostJsonAsync(Inspection(sold), new { inspector = "Agency", fee = Fee(100) });
        var (reportFirst, reportFirstProblem) = await Shop.Admin.PostJsonAsync(Report(sold),
            new { finding = "sellerAtFault", summary = "x", attachments = new[] { "https://inspect.example/r.pdf" } });

        Assert.True(zeroFee == HttpStatusCode.BadRequest, $"{zeroFee} {zeroProblem}");
        Assert.NotNull(zeroProblem!["errors"]!["fee.amountMinor"]);
        Assert.Equal(HttpStatusCode.BadRequest, negativeFee);
        Assert.True(hugeFee == HttpStatusCode.BadRequest, $"{hugeFee} {hugeProblem}");
        Assert.NotNull(hugeProblem!["errors"]!["fee.amountMinor"]);
        Assert.Equal(HttpStatusCode.BadRequest, noFee);
        Assert.NotNull(noFeeProblem!["errors"]!["fee"]);
        Assert.Equal(HttpStatusCode.BadRequest, noInspector);
        Assert.NotNull(inspectorProblem!["errors"]!["inspector"]);
        Assert.True(wrongCurrency == HttpStatusCode.UnprocessableEntity, $"{wrongCurrency} {currencyProblem}");
        Assert.Contains("USD", currencyProblem!["detail"]!.GetValue<string>());
        Assert.True(byAnalyst == HttpStatusCode.Forbidden, $"{byAnalyst} {analystProblem}");
        Assert.Equal(HttpStatusCode.Forbidden, bySeller);
        Assert.True(reportFirst == HttpStatusCode.Conflict, $"{reportFirst} {reportFirstProblem}");
        Assert.Contains("order one first", reportFirstProblem!["detail"]!.GetValue<string>());
        Assert.Null((await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!["inspection"]);

        await OrderInspectionAsync(sold, 100);
        var (badFinding, findingProblem) = await Shop.Admin.PostJsonAsync(Report(sold),
            new { finding = "nobody", summary = "x", attachments = new[] { "https://inspect.example/r.pdf" } });
        var (noLinks, linksProblem) = await Shop.Admin.PostJsonAsync(Report(sold), new { finding = "inconclusive", summary = "x", attachments = Array.Empty<string>() });
        var (badLink, badLinkProblem) = await Shop.Admin.PostJsonAsync(Report(sold), new { finding = "inconclusive", summary = "x", attachments = new[] { "ftp://x/r.pdf" } });
        var (reportByAnalyst, _) = await analyst.PostJsonAsync(Report(sold), new { finding = "inconclusive", summary = "x", attachments = new[] { "https://inspect.example/r.pdf" } });
        Assert.Equal(HttpStatusCode.BadRequest, badFinding);
        Assert.NotNull(findingProblem!["errors"]!["finding"]);
        Assert.Equal(HttpStatusCode.BadRequest, noLinks);
        Assert.NotNull(linksProblem!["errors"]!["attachments"]);
        Assert.Equal(HttpStatusCode.BadRequest, badLink);
        Assert.NotNull(badLinkProblem!["errors"]!["attachments[0]"]);
        Assert.Equal(HttpStatusCode.Forbidden, reportByAnalyst);
        Assert.Null((await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!["inspection"]!["report"]);

        // None on an order with no dispute, nor on a dispute the seller has not answered yet (not escalated).
        var (noDispute, notEscalated, notEscalatedProblem) = await UnansweredAsync();
        Assert.Equal(HttpStatusCode.NotFound, noDispute);
        Assert.True(notEscalated == HttpStatusCode.Conflict, $"{notEscalated} {notEscalatedProblem}");
        Assert.Contains("under arbitration", notEscalatedProblem!["detail"]!.GetValue<string>());
    }

    /// <summary>
    /// A shipped order: an inspection ordered before it is disputed, then after its buyer disputed it and before the seller answered;
    /// answers the two statuses and the second's problem.
    /// </summary>
    [Fact]
    public async Task A_compensation_verdict_needs_the_seller_to_cover_it_and_the_inspection_fee_together_or_it_changes_nothing()
    {
        // Found in review: each was checked against the deposit alone; the verdict then booked the fee, failed on the compensation
        // and answered 409 "changed nothing" with the fee taken, later recorded as borne by the platform.
        var sold = await ArbitratedAsync(reason: "lateOrFakeTracking");
        await FundDeposit(sold.SellerId, 300);
        await OrderInspectionAsync(sold, 200);
        await ReportAsync(sold, "sellerAtFault");
        var compensation = sold.Charged / 10;
        Assert.InRange(compensation, 101, 300); // each fits a deposit of 300 alone, not both
        var verdict = new { outcome = "compensate", compensationPercent = 10, note = "The tracking never moved." };

        var (refused, problem) = await Shop.Admin.PostJsonAsync(Verdict(sold), verdict);
        Assert.True(refused == HttpStatusCode.Conflict, $"{refused} {problem}");
        Assert.Contains("both", problem!["detail"]!.GetValue<string>());
        var ledger = await Shop.LedgerAsync(sold.SellerId);
        Assert.Equal(300, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(0, Account(ledger, "platform:fees:USD", "posted"));
        Assert.Equal("underArbitration", (await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!["status"]!.GetValue<string>());

        await FundDeposit(sold.SellerId, 200);
        var (decided, body) = await Shop.Admin.PostJsonAsync(Verdict(sold), verdict);
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {body}");
        ledger = await Shop.LedgerAsync(sold.SellerId);
        Assert.Equal(500 - 200 - compensation, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(200, Account(ledger, "platform:fees:USD", "posted"));
    }

    private async Task<(HttpStatusCode NoDispute, HttpStatusCode NotEscalated, JsonNode? Problem)> UnansweredAsync()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", "the order to be paid");
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "UN" + orderId[^8..] });
        var order = new { inspector = "Agency", fee = Fee(100) };
        var (noDispute, _) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{orderId}/dispute/inspection", order);
        var (opened, dispute) = await buyer.PostJsonAsync($"/api/v1/orders/{orderId}/disputes", new { reason = "notReceived", description = "Nothing came." });
        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");
        var (notEscalated, problem) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{orderId}/dispute/inspection", order);
        return (noDispute, notEscalated, problem);
    }
}
