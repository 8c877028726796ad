using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Disputes over real HTTP on PostgreSQL (R-DIS-1..3): a buyer disputes a shipped or delivered order; the seller has 72 hours to
/// accept or contest; contested or unanswered, an arbitrator decides; the verdict is carried out on the escrow, which the open
/// dispute keeps from being released when the protection window lapses. On a silo of its own like the payment tests' (the sandbox
/// provider, business clock run ahead, deadlines checked every second, a failed wake retried after 2 s).
/// </summary>
public sealed class DisputesApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, string BuyerId, HttpClient Buyer, string SellerId, HttpClient Seller, string PaymentId, long Charged);

    /// <summary>An order of 20.00 USD paid by card inline, shipped, and (unless told otherwise) delivered.</summary>
    private async Task<Sold> DeliveredAsync(bool deliver = true, bool ship = true, string? sellerId = null)
    {
        sellerId ??= OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await OrderWhenAsync(orderId, "awaitingShipment");
        var charged = order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>() + (order["totals"]!["tax"]?["amountMinor"]!.GetValue<long>() ?? 0);
        if (ship)
        {
            await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "DS" + orderId[^8..] });
        }
        if (ship && deliver)
        {
            await Shop.ActAsync(Shop.Admin, orderId, "delivery");
        }
        return new Sold(orderId, buyerId, buyer, sellerId, seller, order["paidBy"]!.GetValue<string>(), charged);
    }

    private Task<JsonNode> OrderWhenAsync(string orderId, string status) =>
        Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == status, $"order {orderId} to be {status}");

    private Task Advance(TimeSpan by) => Shop.AdvanceClockAsync(by);

    private Task<string[]> OpenTicketKindsAsync(string orderId) => Shop.OpenTicketKindsAsync(orderId);

    private Task<JsonNode> LedgerAsync(string sellerId) => Shop.LedgerAsync(sellerId);

    private static long Account(JsonNode ledger, string account, string field) => OrderTestShop.LedgerAccount(ledger, account, field);

    private static long PostedLegs(JsonNode ledger) => OrderTestShop.PostedLegs(ledger);

    private Task<JsonNode> RefundedAsync(string paymentId, long amount) => Shop.RefundedAsync(paymentId, amount);

    [Fact]
    public async Task An_unanswered_dispute_holds_the_escrow_past_the_protection_window_goes_to_arbitration_after_72_hours_and_a_partial_verdict_is_paid_from_escrow()
    {
        var sold = await DeliveredAsync();
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var body = new
        {
            reason = "damaged", description = "The lid arrived cracked.", amount = new { amountMinor = 500, currency = "USD" },
            attachments = new[] { "https://img.example/lid.jpg" },
        };

        var (opened, dispute) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes", body);
        var (again, replay) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes", body);
        var (other, _) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes", body with { description = "Also scratched." });

        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");
        Assert.Equal("awaitingSeller", dispute!["status"]!.GetValue<string>());
        Assert.Equal("damaged", dispute["reason"]!.GetValue<string>());
        Assert.Equal(500, dispute["requested"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(dispute["openedAt"]!.GetValue<DateTimeOffset>().AddHours(72), dispute["respondBy"]!.GetValue<DateTimeOffset>());
        Assert.Equal("https://img.example/lid.jpg", dispute["evidence"]![0]!["attachments"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(dispute["disputeId"]!.GetValue<string>(), replay!["disputeId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, other);
        Assert.Equal(new[] { "DisputeAwaitingSeller" }, await OpenTicketKindsAsync(sold.OrderId));
        Assert.Equal(dispute["disputeId"]!.GetValue<string>(), (await Shop.OrderAsync(sold.OrderId))["dispute"]!["disputeId"]!.GetValue<string>());
        // Completing would release the escrow the dispute may be paid from; an arbitrator waits for the seller's 72 hours.
        await Shop.ActAsync(sold.Buyer, sold.OrderId, "confirm-receipt", expected: HttpStatusCode.Conflict);
        var (early, earlyProblem) = await analyst.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", new { outcome = "close", note = "too early" });
        Assert.True(early == HttpStatusCode.Conflict, $"{early} {earlyProblem}");
        Assert.Contains("waits for the seller", earlyProblem!["detail"]!.GetValue<string>());

        // Past the seller's 72 hours and past the 15-day confirmation window after delivery: an undisputed order delivered at the
        // same time completes, the disputed one goes to arbitration and stays delivered, however often the sweeper comes by.
        var undisputed = await DeliveredAsync();
        await Advance(TimeSpan.FromDays(16));
        var escalated = await Eventually.ReadAsync(async () => (await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!,
            d => d["status"]!.GetValue<string>() == "underArbitration", "the dispute to go to arbitration");
        Assert.NotNull(escalated["arbitrationDueAt"]);
        await OrderWhenAsync(undisputed.OrderId, "completed");
        await Task.Delay(TimeSpan.FromSeconds(4)); // four deadline check periods
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), kinds => kinds.SequenceEqual(new[] { "DisputeArbitration" }), "the arbitration ticket to replace the seller's");
        Assert.Equal("delivered", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(sold.Charged, Account(await LedgerAsync(sold.SellerId), $"escrow:{sold.OrderId}", "pendingIn"));
        var events = await Shop.TimelineEventsAsync(sold.OrderId);
        Assert.Contains("DisputeEscalated", events);
        Assert.DoesNotContain("Completed", events);

        var (late, _) = await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/answer", new { decision = "accept" });
        var (evidence, withEvidence) = await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/evidence",
            new { note = "Packed in double foam; photo of the parcel at dispatch.", attachments = new[] { "https://erp.example/dispatch/1.png" } });
        var (byBuyer, _) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", new { outcome = "fullRefund", note = "mine" });
        Assert.Equal(HttpStatusCode.Conflict, late);
        Assert.True(evidence == HttpStatusCode.OK, $"{evidence} {withEvidence}");
        Assert.Equal(2, withEvidence!["evidence"]!.AsArray().Count);
        Assert.Equal($"seller:{sold.SellerId}", withEvidence["evidence"]![1]!["party"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);

        var verdictBody = new { outcome = "partialRefund", amount = new { amountMinor = 500, currency = "USD" }, note = "Lid damaged in transit; the rest is usable." };
        var (decided, verdict) = await analyst.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", verdictBody);
        var (repeated, _) = await analyst.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", verdictBody);
        var (changed, _) = await analyst.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", new { outcome = "close", note = "on second thought" });
        // Found in review: the same note with another amount was answered as the same verdict (200); it is another one.
        var (otherAmount, _) = await analyst.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", verdictBody with { amount = new { amountMinor = 700, currency = "USD" } });

        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        Assert.Equal("resolved", verdict!["status"]!.GetValue<string>());
        Assert.Equal("partialRefund", verdict["resolution"]!["outcome"]!.GetValue<string>());
        Assert.Equal(500, verdict["resolution"]!["refund"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, repeated);
        Assert.Equal(HttpStatusCode.Conflict, changed);
        Assert.Equal(HttpStatusCode.Conflict, otherAmount);
        var order = await Shop.OrderAsync(sold.OrderId);
        Assert.Equal("completed", order["status"]!.GetValue<string>());
        Assert.Equal(500, order["refunded"]!["amountMinor"]!.GetValue<long>());
        await RefundedAsync(sold.PaymentId, 500);
        var ledger = await LedgerAsync(sold.SellerId);
        Assert.Equal(0, Account(ledger, $"escrow:{sold.OrderId}", "pendingIn"));
        Assert.Equal(0, Account(ledger, $"escrow:{sold.OrderId}", "posted"));
        Assert.Equal(sold.Charged - 500, PostedLegs(ledger));
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), kinds => kinds.Length == 0, "the arbitration ticket to close");
    }

    [Fact]
    public async Task A_contested_dispute_goes_to_arbitration_at_once_and_a_full_refund_verdict_closes_the_order_and_voids_the_escrow()
    {
        var sold = await DeliveredAsync(deliver: false);
        var admin = Shop.Admin;
        Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes",
            new { reason = "notReceived", description = "Tracking has not moved for three weeks." })).Status);

        var (noNote, problem) = await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/answer", new { decision = "contest" });
        var (contested, dispute) = await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/answer",
            new { decision = "contest", note = "The carrier shows it at the buyer's post office." });

        Assert.Equal(HttpStatusCode.BadRequest, noNote);
        Assert.NotNull(problem!["errors"]!["note"]);
        Assert.True(contested == HttpStatusCode.OK, $"{contested} {dispute}");
        Assert.Equal("underArbitration", dispute!["status"]!.GetValue<string>());
        Assert.Equal(sold.Charged, dispute["requested"]!["amountMinor"]!.GetValue<long>()); // no amount asked: everything
        Assert.False(dispute["sellerResponse"]!["accepted"]!.GetValue<bool>());
        Assert.Equal(new[] { "DisputeArbitration" }, await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId),
            kinds => !kinds.Contains("DisputeAwaitingSeller"), "the seller's ticket to close"));
        var (partialTooBig, _) = await admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict",
            new { outcome = "partialRefund", amount = new { amountMinor = sold.Charged, currency = "USD" }, note = "all" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, partialTooBig);

        var (decided, verdict) = await admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict",
            new { outcome = "fullRefund", note = "No delivery scan; the carrier could not show a signature." });

        Assert.True(decided == HttpStatusCode.OK, $"{decided} {verdict}");
        Assert.Equal(sold.Charged, verdict!["resolution"]!["refund"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal("closed", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
        await RefundedAsync(sold.PaymentId, sold.Charged);
        var ledger = await LedgerAsync(sold.SellerId);
        Assert.Equal(0, Account(ledger, $"escrow:{sold.OrderId}", "pendingIn"));
        Assert.Equal(0, PostedLegs(ledger));
        Assert.Equal(new[] { "Closed", "DisputeSettled" }, (await Shop.TimelineEventsAsync(sold.OrderId)).Where(e => e is "Closed" or "DisputeSettled").Order().ToArray());
    }

    [Fact]
    public async Task A_seller_accepting_pays_the_amount_asked_and_completes_the_order_and_a_withdrawn_dispute_lets_the_order_go_on()
    {
        var accepted = await DeliveredAsync();
        Assert.Equal(HttpStatusCode.Created, (await accepted.Buyer.PostJsonAsync($"/api/v1/orders/{accepted.OrderId}/disputes",
            new { reason = "wrongItem", description = "Blue instead of red.", amount = new { amountMinor = 700, currency = "USD" } })).Status);
        var (byErp, _) = await (await Shop.KeyAsync("erp", accepted.SellerId)).PostJsonAsync($"/api/v1/orders/{accepted.OrderId}/dispute/answer", new { decision = "accept" });
        var (ok, dispute) = await accepted.Seller.PostJsonAsync($"/api/v1/orders/{accepted.OrderId}/dispute/answer", new { decision = "accept" });

        Assert.Equal(HttpStatusCode.Forbidden, byErp);
        Assert.True(ok == HttpStatusCode.OK, $"{ok} {dispute}");
        Assert.Equal("resolved", dispute!["status"]!.GetValue<string>());
        Assert.True(dispute["sellerResponse"]!["accepted"]!.GetValue<bool>());
        Assert.Equal(700, dispute["resolution"]!["refund"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal("completed", (await Shop.OrderAsync(accepted.OrderId))["status"]!.GetValue<string>());
        await RefundedAsync(accepted.PaymentId, 700);
        Assert.Equal(accepted.Charged - 700, PostedLegs(await LedgerAsync(accepted.SellerId)));
        Assert.Equal(HttpStatusCode.Conflict, (await accepted.Buyer.PostJsonAsync($"/api/v1/orders/{accepted.OrderId}/dispute/withdrawal", new { })).Status);
        // The buyer's opening sent again after the seller settled it (its answer lost) is answered with the dispute, not refused.
        var (retried, same) = await accepted.Buyer.PostJsonAsync($"/api/v1/orders/{accepted.OrderId}/disputes",
            new { reason = "wrongItem", description = "Blue instead of red.", amount = new { amountMinor = 700, currency = "USD" } });
        Assert.True(retried == HttpStatusCode.OK, $"{retried} {same}");
        Assert.Equal("resolved", same!["status"]!.GetValue<string>());

        var withdrawn = await DeliveredAsync();
        Assert.Equal(HttpStatusCode.Created, (await withdrawn.Buyer.PostJsonAsync($"/api/v1/orders/{withdrawn.OrderId}/disputes",
            new { reason = "other", description = "Parcel missing?" })).Status);
        var (bySeller, _) = await withdrawn.Seller.PostJsonAsync($"/api/v1/orders/{withdrawn.OrderId}/dispute/withdrawal", new { });
        var (gone, ended) = await withdrawn.Buyer.PostJsonAsync($"/api/v1/orders/{withdrawn.OrderId}/dispute/withdrawal", new { note = "Found it at the neighbour's." });

        Assert.Equal(HttpStatusCode.Forbidden, bySeller);
        Assert.True(gone == HttpStatusCode.OK, $"{gone} {ended}");
        Assert.Equal("withdrawn", ended!["status"]!.GetValue<string>());
        Assert.Null(ended["resolution"]!["outcome"]);
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(withdrawn.OrderId), kinds => kinds.Length == 0, "the seller's ticket to close");
        Assert.Equal(HttpStatusCode.Conflict, (await withdrawn.Buyer.PostJsonAsync($"/api/v1/orders/{withdrawn.OrderId}/disputes",
            new { reason = "other", description = "Parcel missing after all" })).Status);
        await Shop.ActAsync(withdrawn.Buyer, withdrawn.OrderId, "confirm-receipt");
        Assert.Equal(withdrawn.Charged, PostedLegs(await LedgerAsync(withdrawn.SellerId)));
    }

    [Fact]
    public async Task A_verdict_whose_refund_could_not_be_booked_is_booked_and_carried_out_by_the_order_without_anyone_retrying()
    {
        var sold = await DeliveredAsync();
        Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes",
            new { reason = "damaged", description = "Handle broken off." })).Status);
        Assert.Equal(HttpStatusCode.OK, (await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/answer",
            new { decision = "contest", note = "Broken by the buyer." })).Status);
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        // The seller's ledger cannot store this order's refund for a while: the verdict and its refund's intent are stored, the
        // booking fails, and the arbitrator hears 503.
        await storage.ExecuteAsync($"""
            CREATE FUNCTION refuse_dispute_refund() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger hiccup'; END $$;
            CREATE TRIGGER refuse_dispute_refund BEFORE INSERT ON ledger_transfers FOR EACH ROW
                WHEN (NEW.transfer_id LIKE '{sold.OrderId}:refund%') EXECUTE FUNCTION refuse_dispute_refund();
            """);
        var verdict = new { outcome = "partialRefund", amount = new { amountMinor = 600, currency = "USD" }, note = "Shared fault." };
        var (status, problem) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", verdict);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{status} {problem}");
        // Meanwhile the order's confirmation window lapses: it must not complete (release the escrow) before the refund is booked.
        await Advance(TimeSpan.FromDays(16));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("delivered", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
        await storage.ExecuteAsync("DROP TRIGGER refuse_dispute_refund ON ledger_transfers; DROP FUNCTION refuse_dispute_refund()");

        await OrderWhenAsync(sold.OrderId, "completed");
        await RefundedAsync(sold.PaymentId, 600);
        var ledger = await LedgerAsync(sold.SellerId);
        Assert.Equal(0, Account(ledger, $"escrow:{sold.OrderId}", "pendingIn"));
        Assert.Equal(sold.Charged - 600, PostedLegs(ledger));
        // The arbitrator's retry of the same verdict is answered with the dispute it decided.
        var (again, dispute) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", verdict);
        Assert.True(again == HttpStatusCode.OK, $"{again} {dispute}");
        Assert.Equal(600, dispute!["resolution"]!["refund"]!["amountMinor"]!.GetValue<long>());
    }

    [Fact]
    public async Task The_ticket_queue_pages_by_keyset_says_what_is_overdue_and_the_history_shows_who_closed_each_ticket()
    {
        var sellerId = OrderTestShop.NewId("s");
        var orders = new List<Sold>();
        for (var i = 0; i < 3; i++)
        {
            var sold = await DeliveredAsync(sellerId: sellerId);
            Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes",
                new { reason = "other", description = $"Question {i}" })).Status);
            orders.Add(sold);
        }
        var seller = orders[0].Seller;
        async Task<JsonArray> Page(HttpClient client, string query) => (await client.GetJsonAsync($"/api/v1/service-tickets?{query}")).Body!.AsArray();

        var first = await Page(seller, "limit=2");
        var second = await Page(seller, $"limit=2&after={first[1]!["ticketId"]}");
        var beyond = await Page(seller, $"limit=2&after={second[0]!["ticketId"]}");
        Assert.Equal(2, first.Count);
        Assert.Single(second);
        Assert.Empty(beyond);
        Assert.Equal(orders.Select(o => o.OrderId).Order(), first.Concat(second).Select(t => t!["orderId"]!.GetValue<string>()).Order());
        Assert.All(first.Concat(second), t =>
        {
            Assert.Equal("DisputeAwaitingSeller", t!["kind"]!.GetValue<string>());
            Assert.Equal("open", t["status"]!.GetValue<string>());
            Assert.False(t["overdue"]!.GetValue<bool>());
        });
        var byOrder = await Page(Shop.Admin, $"orderId={orders[1].OrderId}");
        Assert.Equal(orders[1].OrderId, Assert.Single(byOrder)!["orderId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.GetJsonAsync("/api/v1/service-tickets?status=pending")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.GetJsonAsync("/api/v1/service-tickets?kind=Late%20Shipment")).Status);

        // The seller answers none: each dispute goes to arbitration (its seller ticket closed by the system), and the arbitration
        // tickets, 7 working days later, are overdue.
        await Advance(TimeSpan.FromDays(4));
        await Eventually.UntilAsync(() => Page(seller, "kind=DisputeArbitration"), page => page.Count == 3, "the three disputes to go to arbitration");
        await Advance(TimeSpan.FromDays(12));
        var overdue = await Page(seller, "kind=DisputeArbitration");
        Assert.All(overdue, t => Assert.True(t!["overdue"]!.GetValue<bool>()));
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (closedByHand, _) = await analyst.PostJsonAsync($"/api/v1/service-tickets/{overdue[0]!["ticketId"]}/closure", new { note = "called both parties" });
        Assert.Equal(HttpStatusCode.OK, closedByHand);

        var history = await Page(seller, "status=closed&limit=10");
        Assert.Equal(4, history.Count);
        Assert.Equal(history.Select(t => t!["ticketId"]!.GetValue<string>()).OrderDescending(StringComparer.Ordinal), history.Select(t => t!["ticketId"]!.GetValue<string>()));
        var byHand = Assert.Single(history, t => t!["kind"]!.GetValue<string>() == "DisputeArbitration")!;
        Assert.Equal("called both parties", byHand["closedNote"]!.GetValue<string>());
        Assert.StartsWith("analyst", byHand["closedBy"]!.GetValue<string>());
        Assert.All(history.Where(t => t!["kind"]!.GetValue<string>() == "DisputeAwaitingSeller"), t =>
        {
            Assert.Equal("system", t!["closedBy"]!.GetValue<string>());
            Assert.NotNull(t["closedAt"]);
            Assert.Equal("closed", t["status"]!.GetValue<string>());
        });
        var historyPage2 = await Page(seller, $"status=closed&limit=10&after={history[1]!["ticketId"]}");
        Assert.Equal(history.Skip(2).Select(t => t!["ticketId"]!.GetValue<string>()), historyPage2.Select(t => t!["ticketId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_admin_closing_a_disputed_order_ends_the_dispute_with_everything_refunded()
    {
        var sold = await DeliveredAsync();
        Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes",
            new { reason = "notAsDescribed", description = "Plastic, not ceramic." })).Status);

        await Shop.ActAsync(Shop.Admin, sold.OrderId, "close", new { reason = "counterfeit listing taken down" });

        var dispute = (await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!;
        Assert.Equal("resolved", dispute["status"]!.GetValue<string>());
        Assert.Equal("fullRefund", dispute["resolution"]!["outcome"]!.GetValue<string>());
        await RefundedAsync(sold.PaymentId, sold.Charged);
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), kinds => kinds.Length == 0, "the seller's ticket to close");
    }

    [Fact]
    public async Task Disputes_say_what_is_wrong_with_a_request_and_who_may_not_open_one()
    {
        var sold = await DeliveredAsync();
        var unshipped = await DeliveredAsync(ship: false);
        var stranger = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));
        string Path(Sold s) => $"/api/v1/orders/{s.OrderId}/disputes";

        var (badReason, reasonProblem) = await sold.Buyer.PostJsonAsync(Path(sold), new { reason = "angry", description = "x" });
        var (noDescription, descriptionProblem) = await sold.Buyer.PostJsonAsync(Path(sold), new { reason = "damaged" });
        var (badLink, linkProblem) = await sold.Buyer.PostJsonAsync(Path(sold), new { reason = "damaged", description = "x", attachments = new[] { "ftp://files.example/a" } });
        var (wrongCurrency, _) = await sold.Buyer.PostJsonAsync(Path(sold), new { reason = "damaged", description = "x", amount = new { amountMinor = 100, currency = "EUR" } });
        var (tooMuch, tooMuchProblem) = await sold.Buyer.PostJsonAsync(Path(sold), new { reason = "damaged", description = "x", amount = new { amountMinor = sold.Charged + 1, currency = "USD" } });
        var (notYours, _) = await stranger.PostJsonAsync(Path(sold), new { reason = "damaged", description = "x" });
        var (bySeller, _) = await sold.Seller.PostJsonAsync(Path(sold), new { reason = "damaged", description = "x" });
        var (notShipped, notShippedProblem) = await unshipped.Buyer.PostJsonAsync(Path(unshipped), new { reason = "notReceived", description = "x" });
        var (none, _) = await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute");
        var (noneToAnswer, _) = await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/answer", new { decision = "accept" });

        Assert.Equal(HttpStatusCode.BadRequest, badReason);
        Assert.Contains("notAsDescribed", reasonProblem!["errors"]!["reason"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, noDescription);
        Assert.NotNull(descriptionProblem!["errors"]!["description"]);
        Assert.Equal(HttpStatusCode.BadRequest, badLink);
        Assert.NotNull(linkProblem!["errors"]!["attachments[0]"]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongCurrency);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch);
        Assert.Contains($"At most {sold.Charged} USD", tooMuchProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, notYours);
        Assert.Equal(HttpStatusCode.Forbidden, bySeller);
        Assert.Equal(HttpStatusCode.Conflict, notShipped);
        Assert.Contains("cancel it instead", notShippedProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, none);
        Assert.Equal(HttpStatusCode.NotFound, noneToAnswer);

        Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync(Path(sold), new { reason = "damaged", description = "x" })).Status);
        var (noAmount, _) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict", new { outcome = "partialRefund", note = "half" });
        var (amountOnClose, _) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict",
            new { outcome = "close", amount = new { amountMinor = 1, currency = "USD" }, note = "n" });
        var (tooManyLinks, _) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/evidence",
            new { note = "photos", attachments = Enumerable.Range(0, 11).Select(i => $"https://img.example/{i}.jpg").ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, noAmount);
        Assert.Equal(HttpStatusCode.BadRequest, amountOnClose);
        Assert.Equal(HttpStatusCode.BadRequest, tooManyLinks);
        // Nothing was written by the refused requests: the dispute holds no evidence and waits for the seller.
        var dispute = (await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!;
        Assert.Equal("awaitingSeller", dispute["status"]!.GetValue<string>());
        Assert.Empty(dispute["evidence"]!.AsArray());
    }
}
