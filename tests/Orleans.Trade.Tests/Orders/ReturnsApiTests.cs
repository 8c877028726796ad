using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Returns over real HTTP on PostgreSQL (R-DIS-4, R-DIS-5): the buyer of a delivered order asks to send goods back; the seller
/// gives a return address within 48 hours (with a prepaid label when at fault) or the return is refunded without the goods; the
/// buyer sends them; the seller confirms them (refunded at once) or reports a problem for an arbitrator. While it is open the
/// order's escrow stays held. On a silo of its own like the payment tests' (the sandbox provider, business clock run ahead).
/// </summary>
public sealed class ReturnsApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, HttpClient Buyer, string SellerId, HttpClient Seller, string PaymentId, JsonNode Order, string[] Skus)
    {
        public long Charged => Order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>() + (Order["totals"]!["tax"]?["amountMinor"]!.GetValue<long>() ?? 0);
        public string Path(string rest = "return") => $"/api/v1/orders/{OrderId}/{rest}";
    }

    /// <summary>A delivered order to Germany (IOSS VAT on top) paid by card inline: 2 × 20.00 USD of one SKU and 1 × 10.00 of another.</summary>
    private async Task<Sold> DeliveredAsync(string category = "home", bool deliver = true, long secondPriceMinor = 1_000)
    {
        var sellerId = OrderTestShop.NewId("s");
        var first = await Shop.SkuAsync(sellerId, priceMinor: 2_000, category: category, stock: [("wh-de", 5)]);
        var second = await Shop.SkuAsync(sellerId, priceMinor: secondPriceMinor, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = first, quantity = 2 }, new { skuId = second, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        var order = await OrderWhenAsync(orderId, "awaitingShipment");
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "RT" + orderId[^8..] });
        if (deliver)
        {
            order = await Shop.ActAsync(Shop.Admin, orderId, "delivery");
        }
        return new Sold(orderId, buyer, sellerId, seller, order["paidBy"]!.GetValue<string>(), order, [first, second]);
    }

    private Task<JsonNode> OrderWhenAsync(string orderId, string status) =>
        Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == status, $"order {orderId} to be {status}");

    private Task<JsonNode> ReturnWhenAsync(Sold sold, string status) =>
        Eventually.ReadAsync(async () => (await sold.Buyer.GetJsonAsync(sold.Path())).Body!, r => r["status"]!.GetValue<string>() == status,
            $"the return of order {sold.OrderId} to be {status}");

    private Task Advance(TimeSpan by) => Shop.AdvanceClockAsync(by);

    private Task<string[]> OpenTicketKindsAsync(string orderId) => Shop.OpenTicketKindsAsync(orderId);

    private async Task<long> EscrowHeldAsync(string sellerId, string orderId) =>
        OrderTestShop.LedgerAccount(await Shop.LedgerAsync(sellerId), $"escrow:{orderId}", "pendingIn");

    private Task<JsonNode> RefundedAsync(string paymentId, long amount) => Shop.RefundedAsync(paymentId, amount);

    private static object ReturnAddress => new { name = "Returns desk", line1 = "Lagerstrasse 1", city = "Hamburg", postalCode = "20095", country = "DE", phone = "+49 40 123456" };

    [Fact]
    public async Task A_no_reason_return_of_one_unit_is_refunded_its_share_with_its_vat_when_the_seller_confirms_the_goods_and_the_order_completes_at_its_own_time()
    {
        var sold = await DeliveredAsync();
        var line = sold.Order["lines"]!.AsArray().Single(l => l!["skuId"]!.GetValue<string>() == sold.Skus[0])!;
        var goods = line["lineTotal"]!["amountMinor"]!.GetValue<long>() / 2;
        var tax = sold.Order["totals"]!["tax"]!["amountMinor"]!.GetValue<long>();
        Assert.True(tax > 0, "an IOSS consignment to Germany pays VAT at checkout");
        var expected = goods + (long)Math.Floor(tax * (decimal)goods / sold.Order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>());
        var body = new { reason = "noReason", description = "Changed my mind.", lines = new[] { new { skuId = sold.Skus[0], quantity = 1 } } };

        var (requested, opened) = await sold.Buyer.PostJsonAsync(sold.Path("returns"), body);
        var (again, replay) = await sold.Buyer.PostJsonAsync(sold.Path("returns"), body);
        var (other, _) = await sold.Buyer.PostJsonAsync(sold.Path("returns"), body with { description = "And the other one." });

        Assert.True(requested == HttpStatusCode.Created, $"{requested} {opened}");
        Assert.Equal("awaitingAddress", opened!["status"]!.GetValue<string>());
        Assert.Equal(expected, opened["amount"]!["amountMinor"]!.GetValue<long>());
        Assert.False(opened["sellerPaysShipping"]!.GetValue<bool>());
        Assert.Equal(opened["requestedAt"]!.GetValue<DateTimeOffset>().AddHours(48), opened["addressDueBy"]!.GetValue<DateTimeOffset>());
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(opened["returnId"]!.GetValue<string>(), replay!["returnId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, other);
        Assert.Equal("awaitingAddress", (await Shop.OrderAsync(sold.OrderId))["return"]!["status"]!.GetValue<string>());
        Assert.Equal(new[] { "ReturnAwaitingAddress" }, await OpenTicketKindsAsync(sold.OrderId));
        // Completing would release the escrow the return is refunded from; the goods cannot be shipped back before an address.
        await Shop.ActAsync(sold.Buyer, sold.OrderId, "confirm-receipt", expected: HttpStatusCode.Conflict);
        var (early, _) = await sold.Buyer.PostJsonAsync(sold.Path("return/shipment"), new { carrier = "DHL", trackingNumber = "BACK1" });
        Assert.Equal(HttpStatusCode.Conflict, early);

        // Found in review: units of an open return refunded by lines as well were paid twice once the return was refunded.
        var (twice, twiceProblem) = await sold.Seller.PostWithKeyAsync(sold.Path("refunds"), OrderTestShop.NewId("refund"),
            new { lines = new[] { new { skuId = sold.Skus[0], quantity = 2 } }, reason = "both vases" });
        Assert.True(twice == HttpStatusCode.UnprocessableEntity, $"{twice} {twiceProblem}");
        Assert.Contains("return", twiceProblem!["detail"]!.GetValue<string>());
        Assert.Null((await Shop.OrderAsync(sold.OrderId))["refunded"]);

        var (addressed, withAddress) = await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = ReturnAddress });
        var (shipped, onItsWay) = await sold.Buyer.PostJsonAsync(sold.Path("return/shipment"), new { carrier = "DHL", trackingNumber = "BACK1" });

        Assert.True(addressed == HttpStatusCode.OK, $"{addressed} {withAddress}");
        Assert.Equal("awaitingShipment", withAddress!["status"]!.GetValue<string>());
        Assert.Equal("Hamburg", withAddress["returnAddress"]!["city"]!.GetValue<string>());
        Assert.True(shipped == HttpStatusCode.OK, $"{shipped} {onItsWay}");
        Assert.Equal("BACK1", onItsWay!["parcel"]!["trackingNumber"]!.GetValue<string>());
        Assert.NotNull(onItsWay["receiptDueBy"]);
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), kinds => kinds.Length == 0, "the address ticket to close");

        async Task<long> OnHand() => (await Shop.StockAsync(sold.Skus[0]))["warehouses"]!.AsArray()
            .Single(w => w!["warehouseId"]!.GetValue<string>() == "wh-de")!["onHand"]!.GetValue<long>();
        var onHand = await OnHand();
        var (unknownWarehouse, unknownProblem) = await sold.Seller.PostJsonAsync(sold.Path("return/receipt"), new { decision = "accept", restockWarehouseId = "wh-nowhere" });
        var (restockProblem, _) = await sold.Seller.PostJsonAsync(sold.Path("return/receipt"), new { decision = "reportProblem", note = "x", restockWarehouseId = "wh-de" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknownWarehouse);
        Assert.Equal("restockWarehouseId", unknownProblem!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, restockProblem);
        Assert.Equal("shipped", (await sold.Buyer.GetJsonAsync(sold.Path())).Body!["status"]!.GetValue<string>());

        var (confirmed, refunded) = await sold.Seller.PostJsonAsync(sold.Path("return/receipt"), new { decision = "accept", restockWarehouseId = "wh-de" });
        var (repeated, _) = await sold.Seller.PostJsonAsync(sold.Path("return/receipt"), new { decision = "accept", restockWarehouseId = "wh-de" });

        Assert.True(confirmed == HttpStatusCode.OK, $"{confirmed} {refunded}");
        Assert.Equal("refunded", refunded!["status"]!.GetValue<string>());
        Assert.Equal(expected, refunded["refund"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, repeated);
        // The unit that came back is in the warehouse's stock again, once however often the seller confirms.
        Assert.Equal(onHand + 1, await OnHand());
        Assert.True((await sold.Buyer.GetJsonAsync(sold.Path())).Body!["restocked"]!.GetValue<bool>());
        await RefundedAsync(sold.PaymentId, expected);
        var order = await Shop.OrderAsync(sold.OrderId);
        Assert.Equal("delivered", order["status"]!.GetValue<string>()); // the other goods keep their protection window
        Assert.Equal(expected, order["refunded"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(sold.Charged - expected, await EscrowHeldAsync(sold.SellerId, sold.OrderId));
        var events = await Shop.TimelineEventsAsync(sold.OrderId);
        Assert.Contains("ReturnRequested", events);
        Assert.Contains("ReturnRefunded", events);
        Assert.Contains("ReturnRestocked", events);

        await Advance(TimeSpan.FromDays(16));
        await OrderWhenAsync(sold.OrderId, "completed");
        Assert.Equal(0, await EscrowHeldAsync(sold.SellerId, sold.OrderId));
        // Found in review: an admin's close of a completed order answered 200, gave nothing back (the escrow was released) and
        // left the order closed to refunds. It is refused, saying to refund first.
        var (closed, closeProblem) = await Shop.Admin.PostJsonAsync(sold.Path("close"), new { reason = "listing taken down" });
        Assert.True(closed == HttpStatusCode.Conflict, $"{closed} {closeProblem}");
        Assert.Contains("Refund it first", closeProblem!["detail"]!.GetValue<string>());
        Assert.Equal("completed", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_return_the_seller_gives_no_address_for_in_48_hours_is_refunded_without_the_goods_and_closes_the_order_when_everything_went_back()
    {
        var sold = await DeliveredAsync();
        var (requested, opened) = await sold.Buyer.PostJsonAsync(sold.Path("returns"), new { reason = "notAsDescribed", description = "Not leather as listed." });
        Assert.True(requested == HttpStatusCode.Created, $"{requested} {opened}");
        Assert.True(opened!["sellerPaysShipping"]!.GetValue<bool>());
        Assert.Equal(sold.Charged, opened["amount"]!["amountMinor"]!.GetValue<long>()); // every unit: everything paid

        // At fault, the seller pays the shipping back: an address without a prepaid label is refused and changes nothing.
        var (noLabel, problem) = await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = ReturnAddress });
        Assert.True(noLabel == HttpStatusCode.UnprocessableEntity, $"{noLabel} {problem}");
        Assert.Equal("label", problem!["field"]!.GetValue<string>());
        Assert.Equal("awaitingAddress", (await sold.Buyer.GetJsonAsync(sold.Path())).Body!["status"]!.GetValue<string>());

        await Advance(TimeSpan.FromHours(49));
        var approved = await ReturnWhenAsync(sold, "refunded");

        Assert.Null(approved["returnAddress"]);
        Assert.Equal(sold.Charged, approved["refund"]!["amountMinor"]!.GetValue<long>());
        Assert.Contains("no return address", approved["ending"]!["note"]!.GetValue<string>());
        await OrderWhenAsync(sold.OrderId, "closed");
        await RefundedAsync(sold.PaymentId, sold.Charged);
        Assert.Equal(0, await EscrowHeldAsync(sold.SellerId, sold.OrderId));
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), kinds => kinds.Length == 0, "the address ticket to close");
        var (late, _) = await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = ReturnAddress, label = new { carrier = "DHL", trackingNumber = "L1" } });
        Assert.Equal(HttpStatusCode.Conflict, late);
    }

    [Fact]
    public async Task A_problem_the_seller_reports_goes_to_arbitration_whose_partial_verdict_is_paid_and_a_rejected_return_ends_the_matter()
    {
        var damaged = await DeliveredAsync();
        var rejected = await DeliveredAsync();
        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        foreach (var sold in new[] { damaged, rejected })
        {
            Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync(sold.Path("returns"),
                new { reason = "damaged", description = "Cracked.", lines = new[] { new { skuId = sold.Skus[1], quantity = 1 } } })).Status);
            var (addressed, withLabel) = await sold.Seller.PostJsonAsync(sold.Path("return/address"),
                new { address = ReturnAddress, label = new { carrier = "DPD", trackingNumber = "PREPAID-" + sold.OrderId[^6..] } });
            Assert.True(addressed == HttpStatusCode.OK, $"{addressed} {withLabel}");
            // The buyer sends it with the seller's prepaid label: nothing to give.
            var (shipped, onItsWay) = await sold.Buyer.SendAsync(HttpMethod.Post, sold.Path("return/shipment"));
            Assert.True(shipped == HttpStatusCode.OK, $"{shipped} {onItsWay}");
            Assert.Equal("DPD", onItsWay!["parcel"]!["carrier"]!.GetValue<string>());
        }
        var (noNote, noteProblem) = await damaged.Seller.PostJsonAsync(damaged.Path("return/receipt"), new { decision = "reportProblem" });
        var (reported, contested) = await damaged.Seller.PostJsonAsync(damaged.Path("return/receipt"), new { decision = "reportProblem", note = "Returned with a different, used item." });
        Assert.Equal(HttpStatusCode.BadRequest, noNote);
        Assert.NotNull(noteProblem!["errors"]!["note"]);
        Assert.True(reported == HttpStatusCode.OK, $"{reported} {contested}");
        Assert.Equal("underArbitration", contested!["status"]!.GetValue<string>());
        Assert.NotNull(contested["arbitrationDueAt"]);
        Assert.Equal(new[] { "ReturnArbitration" }, await Eventually.UntilAsync(() => OpenTicketKindsAsync(damaged.OrderId),
            kinds => kinds.Length == 1, "the arbitration ticket"));
        var amount = contested["amount"]!["amountMinor"]!.GetValue<long>();

        var (byBuyer, _) = await damaged.Buyer.PostJsonAsync(damaged.Path("return/verdict"), new { outcome = "refund", note = "mine" });
        var (tooMuch, _) = await analyst.PostJsonAsync(damaged.Path("return/verdict"),
            new { outcome = "partialRefund", amount = new { amountMinor = amount, currency = "USD" }, note = "all" });
        var verdict = new { outcome = "partialRefund", amount = new { amountMinor = 300, currency = "USD" }, note = "The item came back scratched." };
        var (decided, partial) = await analyst.PostJsonAsync(damaged.Path("return/verdict"), verdict);
        var (repeated, _) = await analyst.PostJsonAsync(damaged.Path("return/verdict"), verdict);
        var (changed, _) = await analyst.PostJsonAsync(damaged.Path("return/verdict"), new { outcome = "reject", note = "on second thought" });
        // Another amount or outcome with the same note is another verdict too (it was answered 200 with the first one's result).
        var (otherAmount, _) = await analyst.PostJsonAsync(damaged.Path("return/verdict"),
            new { outcome = "partialRefund", amount = new { amountMinor = 800, currency = "USD" }, note = "The item came back scratched." });
        var (otherOutcome, _) = await analyst.PostJsonAsync(damaged.Path("return/verdict"), new { outcome = "refund", note = "The item came back scratched." });

        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch);
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {partial}");
        Assert.Equal("refunded", partial!["status"]!.GetValue<string>());
        Assert.Equal(300, partial["refund"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, repeated);
        Assert.Equal(HttpStatusCode.Conflict, changed);
        Assert.Equal(HttpStatusCode.Conflict, otherAmount);
        Assert.Equal(HttpStatusCode.Conflict, otherOutcome);
        Assert.Equal("partialRefund", partial["verdict"]!.GetValue<string>());
        Assert.Equal(300, partial["verdictAmount"]!["amountMinor"]!.GetValue<long>());
        await RefundedAsync(damaged.PaymentId, 300);
        Assert.Equal(damaged.Charged - 300, await EscrowHeldAsync(damaged.SellerId, damaged.OrderId));
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(damaged.OrderId), kinds => kinds.Length == 0, "the arbitration ticket to close");
        // The verdict is final: no dispute asks again for what it kept with the seller (R-DIS-3) ...
        var (disputedPartial, partialProblem) = await damaged.Buyer.PostJsonAsync($"/api/v1/orders/{damaged.OrderId}/disputes",
            new { reason = "damaged", description = "the rest, please" });
        Assert.True(disputedPartial == HttpStatusCode.Conflict, $"{disputedPartial} {partialProblem}");
        Assert.Contains("final", partialProblem!["detail"]!.GetValue<string>());
        // ... and a refund of the other units by lines gives back their share, not the rest of the order with the withheld part:
        // two at 20.00 and 19% VAT on them, 47.60.
        var (others, othersRefund) = await damaged.Seller.PostWithKeyAsync(damaged.Path("refunds"), OrderTestShop.NewId("rf"),
            new { lines = new[] { new { skuId = damaged.Skus[0], quantity = 2 } }, reason = "the rest broke too" });
        Assert.True(others == HttpStatusCode.Accepted, $"{others} {othersRefund}");
        Assert.Equal(4_760, othersRefund!["amount"]!["amountMinor"]!.GetValue<long>());
        await RefundedAsync(damaged.PaymentId, 300 + 4_760);

        Assert.Equal(HttpStatusCode.OK, (await rejected.Seller.PostJsonAsync(rejected.Path("return/receipt"), new { decision = "reportProblem", note = "Empty box." })).Status);
        var (rejecting, ended) = await analyst.PostJsonAsync(rejected.Path("return/verdict"), new { outcome = "reject", note = "The scale shows an empty parcel." });
        Assert.True(rejecting == HttpStatusCode.OK, $"{rejecting} {ended}");
        Assert.Equal("rejected", ended!["status"]!.GetValue<string>());
        Assert.Null(ended["refund"]);
        var (disputed, disputeProblem) = await rejected.Buyer.PostJsonAsync($"/api/v1/orders/{rejected.OrderId}/disputes", new { reason = "damaged", description = "again" });
        Assert.Equal(HttpStatusCode.Conflict, disputed);
        Assert.Contains("final", disputeProblem!["detail"]!.GetValue<string>());
        Assert.Null((await Shop.OrderAsync(rejected.OrderId))["refunded"]);
    }

    [Fact]
    public async Task A_return_whose_units_became_the_last_ones_while_it_was_open_gives_back_everything_left_shipping_and_rounding_included()
    {
        // A return's amount was fixed when it was asked for: when the other units were refunded by lines meanwhile, every unit had
        // gone back but not everything paid, and the order completed with the rest released to the seller. At 10.01, the VAT's
        // shares (each rounded down) leave a cent over.
        var sold = await DeliveredAsync(secondPriceMinor: 1_001);
        Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync(sold.Path("returns"),
            new { reason = "noReason", description = "Changed my mind.", lines = new[] { new { skuId = sold.Skus[1], quantity = 1 } } })).Status);
        var (others, othersRefund) = await sold.Seller.PostWithKeyAsync(sold.Path("refunds"), OrderTestShop.NewId("rf"),
            new { lines = new[] { new { skuId = sold.Skus[0], quantity = 2 } }, reason = "out of stock after all" });
        Assert.True(others == HttpStatusCode.Accepted, $"{others} {othersRefund}");
        var first = othersRefund!["amount"]!["amountMinor"]!.GetValue<long>();
        Assert.Equal(HttpStatusCode.OK, (await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = ReturnAddress })).Status);
        Assert.Equal(HttpStatusCode.OK, (await sold.Buyer.PostJsonAsync(sold.Path("return/shipment"), new { carrier = "DHL", trackingNumber = "RB" + sold.OrderId[^8..] })).Status);

        var (confirmed, ended) = await sold.Seller.PostJsonAsync(sold.Path("return/receipt"), new { decision = "accept" });

        Assert.True(confirmed == HttpStatusCode.OK, $"{confirmed} {ended}");
        Assert.Equal(sold.Charged - first, ended!["refund"]!["amountMinor"]!.GetValue<long>());
        await RefundedAsync(sold.PaymentId, sold.Charged);
        Assert.Equal(sold.Charged, (await OrderWhenAsync(sold.OrderId, "closed"))["refunded"]!["amountMinor"]!.GetValue<long>());
    }

    [Fact]
    public async Task Goods_not_sent_back_in_time_end_the_return_and_goods_the_seller_never_confirms_are_refunded_at_the_end_of_the_receipt_window()
    {
        var lapsed = await DeliveredAsync();
        var unconfirmed = await DeliveredAsync();
        foreach (var sold in new[] { lapsed, unconfirmed })
        {
            Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync(sold.Path("returns"),
                new { reason = "noReason", description = "Too small.", lines = new[] { new { skuId = sold.Skus[1], quantity = 1 } } })).Status);
            Assert.Equal(HttpStatusCode.OK, (await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = ReturnAddress, note = "Use a padded envelope." })).Status);
        }
        var (sent, _) = await unconfirmed.Buyer.PostJsonAsync(unconfirmed.Path("return/shipment"), new { carrier = "La Poste", trackingNumber = "LP1" });
        Assert.Equal(HttpStatusCode.OK, sent);

        await Advance(TimeSpan.FromDays(8));
        var ended = await ReturnWhenAsync(lapsed, "cancelled");
        Assert.Contains("not sent back", ended["ending"]!["note"]!.GetValue<string>());
        Assert.Equal("shipped", (await unconfirmed.Buyer.GetJsonAsync(unconfirmed.Path())).Body!["status"]!.GetValue<string>());
        Assert.Equal(lapsed.Charged, await EscrowHeldAsync(lapsed.SellerId, lapsed.OrderId));

        // Past the delivered orders' 15 days: the one whose return ended completes; the one whose goods are on their way waits.
        await Advance(TimeSpan.FromDays(8));
        await OrderWhenAsync(lapsed.OrderId, "completed");
        await Task.Delay(TimeSpan.FromSeconds(3)); // three deadline check periods
        Assert.Equal("delivered", (await Shop.OrderAsync(unconfirmed.OrderId))["status"]!.GetValue<string>());

        await Advance(TimeSpan.FromDays(5));
        var refunded = await ReturnWhenAsync(unconfirmed, "refunded");
        Assert.Contains("did not confirm", refunded["ending"]!["note"]!.GetValue<string>());
        var amount = refunded["refund"]!["amountMinor"]!.GetValue<long>();
        await RefundedAsync(unconfirmed.PaymentId, amount);
        // Its protection window passed meanwhile: it completes as soon as the return ends.
        await OrderWhenAsync(unconfirmed.OrderId, "completed");
    }

    [Fact]
    public async Task Returns_say_what_is_wrong_with_a_request_and_who_may_not_ask_and_a_withdrawn_return_lets_the_order_go_on()
    {
        var sold = await DeliveredAsync();
        var giftCards = await DeliveredAsync(category: "gift_cards");
        var undelivered = await DeliveredAsync(deliver: false);
        var stranger = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));
        var path = sold.Path("returns");

        var (badReason, reasonProblem) = await sold.Buyer.PostJsonAsync(path, new { reason = "bored", description = "x" });
        var (noDescription, descriptionProblem) = await sold.Buyer.PostJsonAsync(path, new { reason = "damaged" });
        var (zero, zeroProblem) = await sold.Buyer.PostJsonAsync(path, new { reason = "damaged", description = "x", lines = new[] { new { skuId = sold.Skus[0], quantity = 0 } } });
        var (tooMany, tooManyProblem) = await sold.Buyer.PostJsonAsync(path, new { reason = "damaged", description = "x", lines = new[] { new { skuId = sold.Skus[0], quantity = 3 } } });
        var (notInOrder, notInOrderProblem) = await sold.Buyer.PostJsonAsync(path, new { reason = "damaged", description = "x", lines = new[] { new { skuId = "sku-elsewhere", quantity = 1 } } });
        var (excluded, excludedProblem) = await giftCards.Buyer.PostJsonAsync(giftCards.Path("returns"), new { reason = "noReason", description = "x" });
        var (notYours, _) = await stranger.PostJsonAsync(path, new { reason = "damaged", description = "x" });
        var (bySeller, _) = await sold.Seller.PostJsonAsync(path, new { reason = "damaged", description = "x" });
        var (notDelivered, notDeliveredProblem) = await undelivered.Buyer.PostJsonAsync(undelivered.Path("returns"), new { reason = "wrongItem", description = "x" });
        var (none, _) = await sold.Buyer.GetJsonAsync(sold.Path());
        var (noneToAddress, _) = await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = ReturnAddress });
        var (badAddress, addressProblem) = await sold.Seller.PostJsonAsync(sold.Path("return/address"), new { address = new { name = "x", line1 = "y", city = "z", postalCode = "1", country = "DE", phone = "+49 40 123456" } });

        Assert.Equal(HttpStatusCode.BadRequest, badReason);
        Assert.Contains("noReason", reasonProblem!["errors"]!["reason"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, noDescription);
        Assert.NotNull(descriptionProblem!["errors"]!["description"]);
        Assert.Equal(HttpStatusCode.BadRequest, zero);
        Assert.NotNull(zeroProblem!["errors"]!["lines[0].quantity"]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMany);
        Assert.Equal("lines[0].quantity", tooManyProblem!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notInOrder);
        Assert.Equal("lines[0].skuId", notInOrderProblem!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, excluded);
        Assert.Contains("gift_cards", excludedProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, notYours);
        Assert.Equal(HttpStatusCode.Forbidden, bySeller);
        Assert.Equal(HttpStatusCode.Conflict, notDelivered);
        Assert.Contains("notReceived", notDeliveredProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, none);
        Assert.Equal(HttpStatusCode.NotFound, noneToAddress);
        Assert.Equal(HttpStatusCode.BadRequest, badAddress);
        Assert.NotNull(addressProblem!["errors"]!["address.postalCode"]);
        // Goods of an excluded category still go back when at fault.
        Assert.Equal(HttpStatusCode.Created, (await giftCards.Buyer.PostJsonAsync(giftCards.Path("returns"), new { reason = "wrongItem", description = "A 10 instead of a 50." })).Status);

        // A dispute and a return do not run side by side.
        var disputed = await DeliveredAsync();
        Assert.Equal(HttpStatusCode.Created, (await disputed.Buyer.PostJsonAsync($"/api/v1/orders/{disputed.OrderId}/disputes", new { reason = "damaged", description = "x" })).Status);
        var (whileDisputed, _) = await disputed.Buyer.PostJsonAsync(disputed.Path("returns"), new { reason = "damaged", description = "x" });
        Assert.Equal(HttpStatusCode.Conflict, whileDisputed);

        // The refused requests wrote nothing.
        Assert.Equal(sold.Order["updatedAt"]!.GetValue<DateTimeOffset>(), (await Shop.OrderAsync(sold.OrderId))["updatedAt"]!.GetValue<DateTimeOffset>());
        Assert.Null((await Shop.OrderAsync(sold.OrderId))["return"]);
        Assert.Equal(HttpStatusCode.Created, (await sold.Buyer.PostJsonAsync(path, new { reason = "noReason", description = "x" })).Status);
        var (disputeWhileReturning, _) = await sold.Buyer.PostJsonAsync($"/api/v1/orders/{sold.OrderId}/disputes", new { reason = "damaged", description = "x" });
        var (withdrawn, cancelled) = await sold.Buyer.PostJsonAsync(sold.Path("return/withdrawal"), new { note = "Kept it after all." });
        var (again, _) = await sold.Buyer.PostJsonAsync(sold.Path("return/withdrawal"), new { note = "Kept it after all." });
        Assert.Equal(HttpStatusCode.Conflict, disputeWhileReturning);
        Assert.True(withdrawn == HttpStatusCode.OK, $"{withdrawn} {cancelled}");
        Assert.Equal("cancelled", cancelled!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, again);
        await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), kinds => kinds.Length == 0, "the address ticket to close");
        await Shop.ActAsync(sold.Buyer, sold.OrderId, "confirm-receipt");
        Assert.Equal("completed", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
    }
}
