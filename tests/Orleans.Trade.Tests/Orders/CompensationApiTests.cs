using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Compensations for a late shipment or fake tracking over real HTTP on PostgreSQL (R-ORD-1, R-DIS-4): a late order compensates its
/// buyer when it ships (Orders:LateShipmentCompensationPercent, 5 by default), an arbitrator's verdict on a lateOrFakeTracking dispute
/// may award 5-30% of the order's value; both are paid by the seller's deposit first, go back to the buyer's payment at the provider,
/// and leave the escrow whole for the seller at completion. On a silo of its own like the dispute tests' (the sandbox provider,
/// business clock run ahead, deadlines checked every second).
/// </summary>
public sealed class CompensationApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, string BuyerId, HttpClient Buyer, string SellerId, HttpClient Seller, string PaymentId, long Charged);

    /// <summary>An order of 20.00 USD paid by card inline, awaiting shipment; marked late (its ship-by time passed) unless told otherwise.</summary>
    private async Task<Sold> PaidAsync(bool late = true)
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", "the order to be paid");
        if (late)
        {
            var shipBy = order["deadlines"]!["shipBy"]!.GetValue<DateTimeOffset>();
            var now = (await Advance(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();
            await Advance(shipBy - now + TimeSpan.FromHours(1));
            order = await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["late"]!.GetValue<bool>(), "the order to be marked late");
        }
        var charged = order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>() + (order["totals"]!["tax"]?["amountMinor"]!.GetValue<long>() ?? 0);
        return new Sold(orderId, buyerId, buyer, sellerId, seller, order["paidBy"]!.GetValue<string>(), charged);
    }

    /// <summary>Moves the business clock on; answers the clock (its <c>now</c>).</summary>
    private Task<JsonNode> Advance(TimeSpan by) => Shop.AdvanceClockAsync(by);

    private Task Ship(Sold sold) => Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = "CP" + sold.OrderId[^8..] });

    private async Task FundDeposit(string sellerId, long amountMinor)
    {
        var (status, body) = await Shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits",
            new { depositId = OrderTestShop.NewId("dep"), amount = new { amountMinor, currency = "USD" } });
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
    }

    /// <summary>The buyer disputes the shipped order for late shipment or fake tracking; the seller contests it, so it goes to arbitration.</summary>
    private async Task Arbitrated(Sold sold, string reason = "lateOrFakeTracking")
    {
        var (opened, dispute) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes",
            new { reason, description = "Shipped a week late, and the tracking number showed nothing for days." });
        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");
        var (contested, answer) = await sold.Seller.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/answer",
            new { decision = "contest", note = "The carrier collected it within the handling time." });
        Assert.True(contested == HttpStatusCode.OK, $"{contested} {answer}");
    }

    private Task<JsonNode> LedgerAsync(string sellerId) => Shop.LedgerAsync(sellerId);

    private static long Account(JsonNode ledger, string account, string field) => OrderTestShop.LedgerAccount(ledger, account, field);

    private static long PostedLegs(JsonNode ledger) => OrderTestShop.PostedLegs(ledger);

    private Task<JsonNode> RefundedAsync(string paymentId, long amount) => Shop.RefundedAsync(paymentId, amount);

    private Task<string[]> OpenTicketKindsAsync(string orderId) => Shop.OpenTicketKindsAsync(orderId);

    [Fact]
    public async Task A_late_order_compensates_its_buyer_when_it_ships_and_a_late_shipment_verdict_adds_a_compensation_from_the_deposit_leaving_the_escrow_whole()
    {
        var sold = await PaidAsync();
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        await FundDeposit(sold.SellerId, 150);
        var atShipping = sold.Charged * 5 / 100;

        // Shipped late: 5% of the order's value goes to the buyer at once, from the seller's deposit.
        await Ship(sold);
        var shipped = await Shop.OrderAsync(sold.OrderId);
        var automatic = Assert.Single(shipped["compensations"]!.AsArray())!;
        Assert.Equal("compensation", automatic["kind"]!.GetValue<string>());
        Assert.Equal(5, automatic["compensationPercent"]!.GetValue<int>());
        Assert.Equal(atShipping, automatic["amount"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(atShipping, automatic["fundedFrom"]!["fromDeposit"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0, automatic["fundedFrom"]!["fromAvailable"]!["amountMinor"]!.GetValue<long>());
        Assert.Null(shipped["refunded"]);
        Assert.Contains("Compensated", await Shop.TimelineEventsAsync(sold.OrderId));
        await RefundedAsync(sold.PaymentId, atShipping);

        await Arbitrated(sold);
        var verdict = $"/api/v1/orders/{sold.OrderId}/dispute/verdict";
        const string note = "Shipped eight days after the ship-by time; the first carrier scan came four days after the label.";
        // Refused inputs, each naming its field, change nothing.
        foreach (var (body, field) in new (object Body, string Field)[]
        {
            (new { outcome = "compensate", compensationPercent = 4, note }, "compensationPercent"),
            (new { outcome = "compensate", compensationPercent = 31, note }, "compensationPercent"),
            (new { outcome = "compensate", note }, "compensationPercent"),
            (new { outcome = "close", compensationPercent = 10, note }, "compensationPercent"),
            (new { outcome = "compensate", compensationPercent = 10, amount = new { amountMinor = 100, currency = "USD" }, note }, "amount"),
        })
        {
            var (status, problem) = await analyst.PostJsonAsync(verdict, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{status} {problem}");
            Assert.NotNull(problem!["errors"]![field]);
        }
        // The deposit has 150 less what the shipment took; no available balance: the 10% is refused, and nothing moves.
        var ledgerBefore = await LedgerAsync(sold.SellerId);
        var (unfunded, unfundedProblem) = await analyst.PostJsonAsync(verdict, new { outcome = "compensate", compensationPercent = 10, note });
        Assert.True(unfunded == HttpStatusCode.Conflict, $"{unfunded} {unfundedProblem}");
        Assert.Contains("deposit", unfundedProblem!["detail"]!.GetValue<string>());
        var dispute = (await sold.Buyer.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!;
        Assert.Equal("underArbitration", dispute["status"]!.GetValue<string>());
        Assert.Single((await Shop.OrderAsync(sold.OrderId))["compensations"]!.AsArray());
        Assert.Equal(Account(ledgerBefore, "seller:deposit:USD", "posted"), Account(await LedgerAsync(sold.SellerId), "seller:deposit:USD", "posted"));
        Assert.DoesNotContain("DisputeSettled", await Shop.TimelineEventsAsync(sold.OrderId));

        await FundDeposit(sold.SellerId, 1_000);
        var body10 = new { outcome = "compensate", compensationPercent = 10, note };
        var (decided, resolved) = await analyst.PostJsonAsync(verdict, body10);
        var (repeated, replay) = await analyst.PostJsonAsync(verdict, body10);
        var (changed, _) = await analyst.PostJsonAsync(verdict, new { outcome = "compensate", compensationPercent = 20, note });

        var byVerdict = sold.Charged * 10 / 100;
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {resolved}");
        Assert.Equal("resolved", resolved!["status"]!.GetValue<string>());
        Assert.Equal("compensate", resolved["resolution"]!["outcome"]!.GetValue<string>());
        Assert.Equal(10, resolved["resolution"]!["compensationPercent"]!.GetValue<int>());
        Assert.Equal(byVerdict, resolved["resolution"]!["compensation"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, repeated);
        Assert.Equal(resolved["resolution"]!["refundId"]!.GetValue<string>(), replay!["resolution"]!["refundId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, changed);

        // The buyer keeps the goods: the order completes, and the escrow goes whole to the seller, whose deposit paid the buyer.
        var order = await Eventually.ReadAsync(() => Shop.OrderAsync(sold.OrderId), o => o["status"]!.GetValue<string>() == "completed", "the order to complete");
        Assert.Equal(2, order["compensations"]!.AsArray().Count);
        Assert.Equal(byVerdict, order["compensations"]![1]!["fundedFrom"]!["fromDeposit"]!["amountMinor"]!.GetValue<long>());
        Assert.Null(order["refunded"]);
        await RefundedAsync(sold.PaymentId, atShipping + byVerdict);
        var ledger = await Eventually.ReadAsync(() => LedgerAsync(sold.SellerId), l => PostedLegs(l) == sold.Charged, "the escrow to be released whole");
        Assert.Equal(0, Account(ledger, $"escrow:{sold.OrderId}", "pendingIn"));
        Assert.Equal(1_150 - atShipping - byVerdict, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(atShipping + byVerdict, Account(ledger, "psp:refunds:USD", "posted"));
        var events = await Shop.TimelineEventsAsync(sold.OrderId);
        Assert.Equal(2, events.Count(e => e == "Compensated"));
        Assert.Contains("DisputeSettled", events);
        Assert.Contains("Completed", events);
        await Eventually.UntilAsync(() => Shop.TimelineEventsAsync(sold.OrderId), e => e.Count(x => x == "CompensationPaid") == 2, "both compensations to reach the buyer");
        // Both show on the seller's statement under the compensation's id.
        var statement = await sold.Seller.GetStringAsync($"/api/v1/sellers/{sold.SellerId}/statement.csv");
        Assert.Equal(2, statement.Split("\r\n").Count(l => l.Contains($"{sold.OrderId}:compensation:", StringComparison.Ordinal)
            && l.Contains(",seller:deposit:USD,psp:refunds:USD,", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_late_order_whose_seller_cannot_pay_opens_a_ticket_and_a_verdict_compensates_only_what_the_buyer_has_not_had_back()
    {
        var sold = await PaidAsync();

        await Ship(sold); // no deposit, no available balance
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), k => k.Contains("CompensationUnfunded"), "the unpaid compensation's ticket");
        var shipped = await Shop.OrderAsync(sold.OrderId);
        Assert.Null(shipped["compensations"]);
        Assert.Equal("shipped", shipped["status"]!.GetValue<string>());
        Assert.Contains("CompensationRefused", await Shop.TimelineEventsAsync(sold.OrderId));

        // The seller refunds most of the order; a compensation may then give back only what is left of what the buyer paid.
        var refunded = sold.Charged - sold.Charged * 20 / 100;
        var (refundStatus, refund) = await sold.Seller.PostWithKeyAsync($"/api/v1/orders/{sold.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = refunded, currency = "USD" }, reason = "goodwill for the delay" });
        Assert.True(refundStatus == HttpStatusCode.Accepted, $"{refundStatus} {refund}");
        await FundDeposit(sold.SellerId, 5_000);
        await Arbitrated(sold);
        var verdict = $"/api/v1/orders/{sold.OrderId}/dispute/verdict";

        var (tooMuch, problem) = await Shop.Admin.PostJsonAsync(verdict, new { outcome = "compensate", compensationPercent = 30, note = "30%" });
        var (fits, resolved) = await Shop.Admin.PostJsonAsync(verdict, new { outcome = "compensate", compensationPercent = 20, note = "20%" });

        Assert.True(tooMuch == HttpStatusCode.UnprocessableEntity, $"{tooMuch} {problem}");
        Assert.Contains("compensationPercent", problem!["detail"]!.GetValue<string>());
        Assert.True(fits == HttpStatusCode.OK, $"{fits} {resolved}");
        await RefundedAsync(sold.PaymentId, sold.Charged); // everything the buyer paid, and no more
        var order = await Eventually.ReadAsync(() => Shop.OrderAsync(sold.OrderId), o => o["status"]!.GetValue<string>() == "completed", "the order to complete");
        Assert.Equal(refunded, order["refunded"]!["amountMinor"]!.GetValue<long>());
        // The escrow held what was not refunded; it goes to the seller, whose deposit paid the compensation.
        var ledger = await Eventually.ReadAsync(() => LedgerAsync(sold.SellerId), l => PostedLegs(l) == sold.Charged - refunded, "the rest of the escrow to be released");
        Assert.Equal(5_000 - (sold.Charged - refunded), Account(ledger, "seller:deposit:USD", "posted"));
        // A refund asked for now finds nothing left: the buyer had everything back.
        var (more, _) = await sold.Seller.PostWithKeyAsync($"/api/v1/orders/{sold.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 1, currency = "USD" } });
        Assert.NotEqual(HttpStatusCode.Accepted, more);
    }

    [Fact]
    public async Task A_compensation_is_refused_for_a_dispute_about_anything_but_late_shipment_or_fake_tracking()
    {
        var sold = await PaidAsync(late: false);
        await Ship(sold);
        await FundDeposit(sold.SellerId, 5_000);
        await Arbitrated(sold, reason: "damaged");

        var (status, problem) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute/verdict",
            new { outcome = "compensate", compensationPercent = 10, note = "not for this" });

        Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{status} {problem}");
        Assert.Contains("compensate", problem!["detail"]!.GetValue<string>());
        Assert.Equal("underArbitration", (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/dispute")).Body!["status"]!.GetValue<string>());
        Assert.Null((await Shop.OrderAsync(sold.OrderId))["compensations"]);
        Assert.Equal(5_000, Account(await LedgerAsync(sold.SellerId), "seller:deposit:USD", "posted"));
    }
    [Fact]
    public async Task A_compensation_verdict_whose_booking_failed_is_booked_and_carried_out_by_the_order_and_a_retry_books_nothing_twice()
    {
        var sold = await PaidAsync(late: false); // fake tracking: shipped in time, but the number showed another parcel
        await Ship(sold);
        await FundDeposit(sold.SellerId, 1_000);
        await Arbitrated(sold);
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        // The seller's ledger cannot store this order's compensation for a while: the verdict and the compensation's intent are
        // stored, the booking fails, and the arbitrator hears 503.
        await storage.ExecuteAsync($"""
            CREATE FUNCTION refuse_compensation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger hiccup'; END $$;
            CREATE TRIGGER refuse_compensation BEFORE INSERT ON ledger_transfers FOR EACH ROW
                WHEN (NEW.transfer_id LIKE '{sold.OrderId}:compensation%') EXECUTE FUNCTION refuse_compensation();
            """);
        var verdict = $"/api/v1/orders/{sold.OrderId}/dispute/verdict";
        var body = new { outcome = "compensate", compensationPercent = 15, note = "The tracking number belongs to another parcel." };
        var (status, problem) = await Shop.Admin.PostJsonAsync(verdict, body);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{status} {problem}");
        await Task.Delay(TimeSpan.FromSeconds(3)); // deadline checks come by every second, and a failed wake every two
        Assert.Equal("shipped", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>()); // not completed before it is booked
        Assert.Equal(1_000, Account(await LedgerAsync(sold.SellerId), "seller:deposit:USD", "posted"));
        await storage.ExecuteAsync("DROP TRIGGER refuse_compensation ON ledger_transfers; DROP FUNCTION refuse_compensation()");

        var order = await Eventually.ReadAsync(() => Shop.OrderAsync(sold.OrderId), o => o["status"]!.GetValue<string>() == "completed", "the order to complete");
        var amount = sold.Charged * 15 / 100;
        var compensation = Assert.Single(order["compensations"]!.AsArray())!;
        Assert.Equal(amount, compensation["fundedFrom"]!["fromDeposit"]!["amountMinor"]!.GetValue<long>());
        await RefundedAsync(sold.PaymentId, amount);
        var (again, dispute) = await Shop.Admin.PostJsonAsync(verdict, body);
        Assert.True(again == HttpStatusCode.OK, $"{again} {dispute}");
        Assert.Equal(compensation["refundId"]!.GetValue<string>(), dispute!["resolution"]!["refundId"]!.GetValue<string>());
        var ledger = await Eventually.ReadAsync(() => LedgerAsync(sold.SellerId), l => PostedLegs(l) == sold.Charged, "the escrow to be released whole");
        Assert.Equal(1_000 - amount, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(amount, Account(ledger, "psp:refunds:USD", "posted"));
        Assert.Single((await Shop.OrderAsync(sold.OrderId))["compensations"]!.AsArray());
        await RefundedAsync(sold.PaymentId, amount);
    }

    [Fact]
    public async Task A_return_of_every_unit_after_a_compensation_refunds_only_what_the_buyer_has_not_had_back()
    {
        var sold = await PaidAsync();
        await FundDeposit(sold.SellerId, 1_000);
        await Ship(sold);
        var compensated = await Eventually.ReadAsync(() => Shop.OrderAsync(sold.OrderId),
            o => o["compensations"] is JsonArray { Count: 1 }, "the late shipment's compensation");
        var compensation = compensated["compensations"]![0]!["amount"]!["amountMinor"]!.GetValue<long>();
        Assert.True(compensation > 0);
        await Shop.ActAsync(Shop.Admin, sold.OrderId, "delivery");

        var (requested, opened) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/returns", new { reason = "notAsDescribed", description = "Wrong colour." });

        Assert.True(requested == HttpStatusCode.Created, $"{requested} {opened}");
        Assert.Equal(sold.Charged - compensation, opened!["amount"]!["amountMinor"]!.GetValue<long>());
    }
}
