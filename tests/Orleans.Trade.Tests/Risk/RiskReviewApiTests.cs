using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Risk;

public sealed class RiskSiloFixture : IAsyncLifetime
{
    public const string SandboxKey = "sandbox-test-key-risk-0123456789";
    public SiloProcess Silo { get; private set; } = null!;
    public OrderTestShop Shop { get; private set; } = null!;
    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connectionString = ConnectionString = await PostgresServer.CreateDatabaseAsync("risk");
        Silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "risk-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
                ["Payments__ReconcilePeriod"] = "00:00:00.500",
                ["Payments__Sandbox__ApiKey"] = SandboxKey,
                ["Risk__TrustProxyHeaders"] = "true",
                // Business time runs ahead of the wall clock, as it does wherever the clock was moved on: the queue must go by it.
                ["Clock__AllowTestControl"] = "true",
                ["Clock__OffsetSeconds"] = "600",
            });
        Shop = new OrderTestShop(Silo);
        await Shop.WarehousesAsync();
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Inline risk scoring and the analysts' queue over HTTP on PostgreSQL (R-PAY-5, R-ORD-3): a payment scored for review is
/// authorized but never captured until an analyst approves it, also across a silo restart; a rejection voids it and cancels the
/// order; a blocked payment never reaches the provider.
/// </summary>
public sealed class RiskReviewApiTests(RiskSiloFixture fixture) : IClassFixture<RiskSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Bought(string OrderId, string SkuId, string BuyerId, HttpClient Buyer, string SellerId);

    private async Task PolicyAsync(object policy)
    {
        var (status, body) = await Shop.Admin.PutJsonAsync("/api/v1/risk/policy", policy);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
    }

    private async Task<Bought> OrderAsync(Bought? sameBuyer = null, long priceMinor = 3_000)
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: priceMinor, stock: [("wh-de", 10)]);
        var buyerId = sameBuyer?.BuyerId ?? OrderTestShop.NewId("b");
        var buyer = sameBuyer?.Buyer ?? await Shop.KeyAsync("buyer", buyerId);
        if (sameBuyer is null)
        {
            buyer.DefaultRequestHeaders.Add("X-Device-Fingerprint", "dev-" + buyerId);
            buyer.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
            buyer.DefaultRequestHeaders.Add("X-Client-Country", "DE");
        }
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 2 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        return new Bought(created!["orders"]![0]!["orderId"]!.GetValue<string>(), sku, buyerId, buyer, sellerId);
    }

    /// <summary>Pays as the buyer, who never sees the risk score; answers the payment as an admin sees it, score included.</summary>
    private async Task<JsonNode> PayAsync(Bought order, HttpStatusCode expected, string cardNumber = "4242 4242 4242 4242")
    {
        var (cardStatus, card) = await order.Buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = cardNumber, expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.Equal(HttpStatusCode.Created, cardStatus);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{order.OrderId}/payments")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { method = "card", cardToken = card!["token"]!.GetValue<string>() }, options: TradeHttp.Json),
        };
        request.Headers.Add("Idempotency-Key", OrderTestShop.NewId("pay"));
        using var response = await order.Buyer.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == expected, $"{response.StatusCode} {body}");
        Assert.Null(body["riskScore"]);
        var paymentId = body["paymentId"]!.GetValue<string>();
        var asBuyer = (await order.Buyer.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!;
        Assert.Null(asBuyer["riskScore"]);
        var asAdmin = (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!;
        Assert.NotNull(asAdmin["riskScore"]);
        // Nor does the payer learn the score or the signal from the message, the history or the order's timeline.
        var reasons = asAdmin["riskScore"]!["reasons"]!.AsArray().Select(r => r!["description"]!.GetValue<string>()).ToArray();
        var seenByBuyer = asBuyer.ToJsonString() + body.ToJsonString()
            + (await order.Buyer.GetJsonAsync($"/api/v1/orders/{order.OrderId}/timeline")).Body!.ToJsonString();
        Assert.All(reasons, reason => Assert.DoesNotContain(reason, seenByBuyer));
        Assert.DoesNotContain($"{asAdmin["riskScore"]!["score"]!.GetValue<int>()} (", seenByBuyer);
        Assert.Contains(asAdmin["history"]!.AsArray(), h => h!["event"]!.GetValue<string>() == "Scored" && h["detail"] is not null);
        return asAdmin;
    }

    private Task<JsonNode> OrderWhenAsync(string orderId, string status) =>
        Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == status, $"order {orderId} to be {status}");

    private Task<JsonNode> PaymentWhenAsync(string paymentId, string status) =>
        Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["status"]!.GetValue<string>() == status, $"payment {paymentId} to be {status}");

    private async Task<JsonNode> HeldAsync(Bought order, string cardNumber = "4242 4242 4242 4242")
    {
        var payment = await PayAsync(order, HttpStatusCode.Accepted, cardNumber);
        var paymentId = payment["paymentId"]!.GetValue<string>();
        var held = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["heldForReview"]!.GetValue<bool>(), "the payment to be held for review");
        Assert.Equal("authorized", held["status"]!.GetValue<string>());
        await OrderWhenAsync(order.OrderId, "riskReview");
        return held;
    }

    private HttpClient Sandbox()
    {
        var client = fixture.Silo.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RiskSiloFixture.SandboxKey);
        return client;
    }

    /// <summary>Runs the silo's <c>risk export-labels</c> command on the fixture's database; answers the CSV file it wrote.</summary>
    private async Task<string> ExportLabelsAsync()
    {
        var labels = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", $"labels-{Guid.NewGuid():N}.csv");
        await CommandRunner.RunAsync("dotnet", [RepoPaths.SiloDll, "risk", "export-labels", "--out", labels], new Dictionary<string, string>
        {
            ["Storage__Provider"] = "postgres",
            ["ConnectionStrings__Trade"] = fixture.ConnectionString,
        }, TimeSpan.FromMinutes(2));
        return labels;
    }

    [Fact]
    public async Task A_payment_scored_for_review_waits_authorized_and_a_rejection_voids_it_cancels_the_order_and_returns_the_stock()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var analyst = await Shop.KeyAsync("analyst", "ana");
        var other = await Shop.KeyAsync("analyst", "bob");

        var payment = await HeldAsync(order);
        var paymentId = payment["paymentId"]!.GetValue<string>();
        Assert.Equal(2, await Shop.ReservedAsync(order.SkuId));
        var score = payment["riskScore"]!;
        Assert.InRange(score["score"]!.GetValue<int>(), 0, 100);
        Assert.False(string.IsNullOrEmpty(score["modelVersion"]!.GetValue<string>()));

        var queue = await Eventually.ReadAsync(async () => (await analyst.GetJsonAsync("/api/v1/risk/reviews?status=open")).Body!,
            q => q["items"]!.AsArray().Any(r => r!["reviewId"]!.GetValue<string>() == paymentId), "the review in the queue");
        var listed = queue["items"]!.AsArray().Single(r => r!["reviewId"]!.GetValue<string>() == paymentId)!;
        Assert.Equal(order.OrderId, listed["opening"]!["orderId"]!.GetValue<string>());
        // Every feature the model saw, named and described for the analyst (the payment stores only their values).
        var features = listed["opening"]!["features"]!.AsArray();
        Assert.Equal(Orleans.Trade.Risk.RiskFeatures.Names, features.Select(f => f!["name"]!.GetValue<string>()));
        Assert.All(features, f => Assert.False(string.IsNullOrEmpty(f!["description"]!.GetValue<string>())));

        var unclaimed = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "stolen card" });
        Assert.Equal(HttpStatusCode.Conflict, unclaimed.Status);
        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await other.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await other.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "ok" })).Status);
        var noNote = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject" });
        Assert.Equal(HttpStatusCode.BadRequest, noNote.Status);
        Assert.NotNull(noNote.Body!["errors"]!["note"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await order.Buyer.GetJsonAsync("/api/v1/risk/reviews")).Status);

        var (decided, review) = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "card reported stolen" });

        Assert.True(decided == HttpStatusCode.OK, $"{decided} {review}");
        Assert.Equal("rejected", review!["status"]!.GetValue<string>());
        Assert.Equal(["Opened", "Claimed", "Rejected"], review["audit"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()));
        Assert.Equal("analyst:ana", review["audit"]![2]!["actor"]!.GetValue<string>());
        await OrderWhenAsync(order.OrderId, "cancelled");
        await PaymentWhenAsync(paymentId, "voided");
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
        var ledger = (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{order.SellerId}/ledger")).Body!;
        Assert.DoesNotContain(ledger["accounts"]!.AsArray(), a => a!["accountId"]!.GetValue<string>() == $"escrow:{order.OrderId}");
        using var sandbox = Sandbox();
        var atProvider = await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}");
        Assert.Contains("voided", atProvider.Body!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Conflict, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "oops" })).Status);
        // The same decision sent again (its answer lost) is answered as done, and recorded once.
        var (again, sameReview) = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "card reported stolen" });
        Assert.True(again == HttpStatusCode.OK, $"{again} {sameReview}");
        Assert.Equal(["Opened", "Claimed", "Rejected"], sameReview!["audit"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Conflict, (await other.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "card reported stolen" })).Status);
        var decidedList = (await analyst.GetJsonAsync("/api/v1/risk/reviews?status=rejected")).Body!;
        Assert.Contains(decidedList["items"]!.AsArray(), r => r!["reviewId"]!.GetValue<string>() == paymentId);

        // The decision is a label for the next model: exported with the training columns, marked fraud.
        var labels = await ExportLabelsAsync();
        var lines = await File.ReadAllLinesAsync(labels);
        var mine = lines.Single(l => l.Contains(paymentId));
        Assert.EndsWith(",1", mine);
        Assert.Equal(lines[0].Split(',').Length, mine.Split(',').Length);
    }

    /// <summary>
    /// A rejection cancels the order as any cancellation does: the buyer's other attempts still open (here a bank transfer
    /// started before the card) are voided at the provider, so a transfer sent later cannot charge the buyer for an order the
    /// analysts cancelled. Before 8 December the rejection cancelled the order without them, and the transfer was captured.
    /// </summary>
    [Fact]
    public async Task A_rejection_voids_the_orders_other_open_attempts_so_a_transfer_sent_later_is_refused()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var analyst = await Shop.KeyAsync("analyst", "ana");
        using var transferRequest = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{order.OrderId}/payments")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { method = "bankTransfer" }, options: TradeHttp.Json),
        };
        transferRequest.Headers.Add("Idempotency-Key", OrderTestShop.NewId("pay"));
        using var transferResponse = await order.Buyer.SendAsync(transferRequest);
        var transfer = JsonNode.Parse(await transferResponse.Content.ReadAsStringAsync())!;
        Assert.True(transfer["status"]?.GetValue<string>() == "awaitingTransfer", $"{transferResponse.StatusCode} {transfer}");
        var transferId = transfer["paymentId"]!.GetValue<string>();
        var paymentId = (await HeldAsync(order))["paymentId"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        var (decided, review) = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "card reported stolen" });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {review}");

        await OrderWhenAsync(order.OrderId, "cancelled");
        await PaymentWhenAsync(paymentId, "voided");
        await PaymentWhenAsync(transferId, "voided");
        using var sandbox = Sandbox();
        var received = await sandbox.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{transfer["transferReference"]}/receive", new { });
        Assert.True(received.Status == HttpStatusCode.Conflict, $"{received.Status} {received.Body}");
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
    }

    [Fact]
    public async Task A_payment_the_analysts_reject_is_a_decline_in_the_histories_the_next_payment_is_scored_on()
    {
        // Held, the payment is not yet an outcome: recorded at its hold, the rejected attempt counted as approved for good.
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var card = FreshVisaNumber();
        var first = await OrderAsync();
        var paymentId = (await HeldAsync(first, card))["paymentId"]!.GetValue<string>();
        var analyst = await Shop.KeyAsync("analyst", "ana");
        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "card testing" })).Status);
        await PaymentWhenAsync(paymentId, "voided");

        // The same buyer pays again with the same card (each try another order, until the rejection has reached the histories).
        var features = await Eventually.UntilAsync(async () =>
        {
            var next = await OrderAsync(first);
            var held = await PayAsync(next, HttpStatusCode.Accepted, card);
            var review = (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{held["paymentId"]!.GetValue<string>()}")).Body!["review"]!;
            return review["opening"]!["features"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!["value"]!.GetValue<float>());
        }, f => f["card_declines_24h"] >= 1, "the rejected payment to count as the card's decline");

        Assert.Equal(1, features["card_declines_24h"]);
        Assert.Equal(1, features["buyer_declines_24h"]);
        Assert.Equal(-1, features["amount_vs_buyer_mean"]); // no approved payment of this buyer yet
    }

    [Fact]
    public async Task A_held_payment_is_never_captured_across_a_silo_restart_until_an_analyst_approves_it()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var payment = await HeldAsync(order);
        var paymentId = payment["paymentId"]!.GetValue<string>();

        fixture.Silo.Kill();
        await fixture.Silo.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(2)); // any reconciliation the payment would do has had its chance

        Assert.Equal("authorized", (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());
        Assert.Equal("riskReview", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        using var sandbox = Sandbox();
        Assert.Contains("authorized", (await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}")).Body!.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        var decided = await Shop.Admin.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "buyer confirmed by phone" });

        Assert.True(decided.Status == HttpStatusCode.OK, $"{decided.Status} {decided.Body}");
        await PaymentWhenAsync(paymentId, "captured");
        var paid = await OrderWhenAsync(order.OrderId, "awaitingShipment");
        Assert.Equal(paymentId, paid["paidBy"]!.GetValue<string>());
        var ledger = (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{order.SellerId}/ledger")).Body!;
        Assert.Contains(ledger["accounts"]!.AsArray(), a => a!["accountId"]!.GetValue<string>() == $"escrow:{order.OrderId}" && a["pendingIn"]!.GetValue<long>() > 0);
    }

    /// <summary>Pays by bank transfer and has the money arrive at the sandbox provider; answers the payment id.</summary>
    private async Task<string> TransferArrivesAsync(Bought order)
    {
        var (status, payment) = await order.Buyer.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/payments", OrderTestShop.NewId("pay"), new { method = "bankTransfer" });
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {payment}");
        using var sandbox = Sandbox();
        var received = await sandbox.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{payment!["transferReference"]!.GetValue<string>()}/receive", new { });
        Assert.True(received.Status == HttpStatusCode.OK, $"{received.Status} {received.Body}");
        return payment["paymentId"]!.GetValue<string>();
    }

    [Theory]
    [InlineData("reject")]
    [InlineData("approve")]
    public async Task A_bank_transfer_scored_for_review_is_held_from_the_seller_until_the_analysts_decide(string decision)
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var paymentId = await TransferArrivesAsync(order);

        // The money arrived (a transfer cannot wait authorized), but the order waits in review: nothing ships, nothing is released.
        await PaymentWhenAsync(paymentId, "captured");
        var held = await OrderWhenAsync(order.OrderId, "riskReview");
        Assert.Null(held["deadlines"]!["reviewExpiresAt"]);
        var review = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body ?? new JsonObject(),
            r => r["review"]?["status"]?.GetValue<string>() == "open", "the review to open");
        Assert.Equal(order.OrderId, review["review"]!["opening"]!["orderId"]!.GetValue<string>());
        var seller = await Shop.KeyAsync("seller", order.SellerId);
        Assert.Equal(HttpStatusCode.Conflict, (await seller.PostJsonAsync($"/api/v1/orders/{order.OrderId}/ship", new { carrier = "DHL", trackingNumber = "JD9" })).Status);
        var (approvedAround, around) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{order.OrderId}/review-approval", new { reason = "looks fine" });
        Assert.Equal(HttpStatusCode.Conflict, approvedAround);
        Assert.Contains($"/api/v1/risk/reviews/{paymentId}/decision", around!["detail"]!.GetValue<string>());

        var analyst = await Shop.KeyAsync("analyst", "ana-transfers");
        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        var (decided, body) = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision, note = "checked the sender" });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {body}");

        if (decision == "approve")
        {
            await OrderWhenAsync(order.OrderId, "awaitingShipment");
            Assert.Equal(HttpStatusCode.OK, (await seller.PostJsonAsync($"/api/v1/orders/{order.OrderId}/ship", new { carrier = "DHL", trackingNumber = "JD9" })).Status);
            Assert.Equal("captured", (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());
            return;
        }
        // Rejected: the order is cancelled, its stock goes back and the buyer gets the whole transfer back.
        await OrderWhenAsync(order.OrderId, "cancelled");
        var refunded = await PaymentWhenAsync(paymentId, "refunded");
        Assert.Equal(refunded["amount"]!["amountMinor"]!.GetValue<long>(), refunded["refunded"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
    }

    [Theory]
    [InlineData("card", "approve")]
    [InlineData("card", "reject")]
    [InlineData("bankTransfer", "approve")]
    public async Task An_order_held_for_its_value_goes_to_the_analysts_queue_with_its_payment_whatever_the_score(string method, string decision)
    {
        // No score is in the review band; the order's value (2 x 60,000 USD, over the fixture's 100,000 USD) asks for review.
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101 });
        var order = await OrderAsync(priceMinor: 6_000_000);
        string paymentId;
        if (method == "card")
        {
            var held = await HeldAsync(order);
            paymentId = held["paymentId"]!.GetValue<string>();
            Assert.Equal("authorized", held["status"]!.GetValue<string>());
        }
        else
        {
            paymentId = await TransferArrivesAsync(order);
            await OrderWhenAsync(order.OrderId, "riskReview");
        }
        var payment = (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!;
        Assert.InRange(payment["riskScore"]!["score"]!.GetValue<int>(), 0, 100);
        Assert.Equal("review", payment["riskScore"]!["decision"]!.GetValue<string>());

        // The analysts find it in their queue, the order's reason first.
        var analyst = await Shop.KeyAsync("analyst", "ana-value-" + method + decision);
        var queue = await Eventually.ReadAsync(async () => (await analyst.GetJsonAsync("/api/v1/risk/reviews?status=open")).Body!,
            q => q["items"]!.AsArray().Any(r => r!["reviewId"]!.GetValue<string>() == paymentId), "the order's review in the queue");
        var listed = queue["items"]!.AsArray().Single(r => r!["reviewId"]!.GetValue<string>() == paymentId)!;
        Assert.Equal(order.OrderId, listed["opening"]!["orderId"]!.GetValue<string>());
        var first = listed["opening"]!["score"]!["reasons"]![0]!;
        Assert.Equal(Orleans.Trade.Risk.OrderReview.Feature, first["feature"]!.GetValue<string>());
        Assert.Contains("order value above 100000.00 USD", first["description"]!.GetValue<string>());
        // Decided in the queue only: the order's own approval would skip the analyst's claim (and, for a card, ship unpaid goods).
        var (around, aroundBody) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{order.OrderId}/review-approval", new { reason = "fine" });
        Assert.Equal(HttpStatusCode.Conflict, around);
        Assert.Contains($"/api/v1/risk/reviews/{paymentId}/decision", aroundBody!["detail"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        var (decided, body) = await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision, note = "called the buyer" });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {body}");

        if (decision == "approve")
        {
            await PaymentWhenAsync(paymentId, "captured");
            var shipping = await OrderWhenAsync(order.OrderId, "awaitingShipment");
            Assert.Equal(paymentId, shipping["paidBy"]!.GetValue<string>());
            Assert.Equal(2, await Shop.ReservedAsync(order.SkuId));
            return;
        }
        await OrderWhenAsync(order.OrderId, "cancelled");
        await PaymentWhenAsync(paymentId, "voided");
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
    }

    [Fact]
    public async Task A_transfer_held_in_review_and_refunded_in_full_leaves_the_analysts_queue()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var paymentId = await TransferArrivesAsync(order);
        await OrderWhenAsync(order.OrderId, "riskReview");
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body ?? new JsonObject(),
            r => r["review"]?["status"]?.GetValue<string>() == "open", "the review to open");

        var seller = await Shop.KeyAsync("seller", order.SellerId);
        var (status, body) = await seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"), new { reason = "out of stock" });
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {body}");

        // Cancelled by the refund, the order has no review left to wait for: the review is withdrawn, and a decision is refused.
        await OrderWhenAsync(order.OrderId, "cancelled");
        var review = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body!["review"]!,
            r => r["status"]!.GetValue<string>() == "withdrawn", "the review to be withdrawn");
        Assert.Contains("refunded in full", review["decisionNote"]!.GetValue<string>());
        var analyst = await Shop.KeyAsync("analyst", "ana-refunded");
        Assert.Equal(HttpStatusCode.Conflict, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
    }

    [Fact]
    public async Task A_refund_in_full_withdraws_the_review_even_when_the_review_cannot_store_the_withdrawal_at_first()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var paymentId = await TransferArrivesAsync(order);
        await OrderWhenAsync(order.OrderId, "riskReview");
        await ReviewWhenAsync(paymentId, "open");

        // The review cannot store anything for a while (a storage hiccup): the first requests to withdraw it fail.
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        await storage.ExecuteAsync("""
            CREATE SEQUENCE review_write_refusals;
            CREATE FUNCTION refuse_review_writes() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM nextval('review_write_refusals'); RAISE EXCEPTION 'the test refuses review writes'; END $$;
            CREATE TRIGGER refuse_review_writes BEFORE UPDATE ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = 'riskReview') EXECUTE FUNCTION refuse_review_writes();
            """);
        try
        {
            var seller = await Shop.KeyAsync("seller", order.SellerId);
            var (status, body) = await seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"), new { reason = "cannot ship" });
            Assert.True(status == HttpStatusCode.Accepted, $"{status} {body}");
            await OrderWhenAsync(order.OrderId, "cancelled");
            await Eventually.UntilAsync(
                async () => Convert.ToInt64(await storage.ScalarAsync("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM review_write_refusals WHERE @x = @x", "x", "x")),
                refused => refused >= 6, "the withdrawal to be asked for again and again");
            Assert.Equal("open", (await ReviewWhenAsync(paymentId, "open"))["status"]!.GetValue<string>());
        }
        finally
        {
            await storage.ExecuteAsync("DROP TRIGGER refuse_review_writes ON grain_state; DROP FUNCTION refuse_review_writes(); DROP SEQUENCE review_write_refusals");
        }

        // The payment keeps asking until the review confirms: once the review can write again, it leaves the queue.
        var review = await ReviewWhenAsync(paymentId, "withdrawn");
        Assert.Contains("refunded in full", review["decisionNote"]!.GetValue<string>());
        await Eventually.UntilAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>(),
            s => s == "refunded", "the transfer to be refunded");
    }

    [Fact]
    public async Task A_review_that_could_not_be_opened_is_opened_when_the_payment_tries_again()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        // The first write of a review's state fails (a storage hiccup); the sequence outlives the failed transaction.
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        await storage.ExecuteAsync("""
            CREATE SEQUENCE review_hiccups;
            CREATE FUNCTION refuse_first_review() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF nextval('review_hiccups') = 1 THEN RAISE EXCEPTION 'review hiccup'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_first_review BEFORE INSERT ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = 'riskReview') EXECUTE FUNCTION refuse_first_review();
            """);
        try
        {
            var payment = await PayAsync(order, HttpStatusCode.Accepted);
            var paymentId = payment["paymentId"]!.GetValue<string>();
            await OrderWhenAsync(order.OrderId, "riskReview");
            var review = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body ?? new JsonObject(),
                r => r["review"]?["status"]?.GetValue<string>() == "open", "the review to be opened after all");
            Assert.Equal(order.OrderId, review["review"]!["opening"]!["orderId"]!.GetValue<string>());
            Assert.True(Convert.ToInt64(await storage.ScalarAsync("SELECT last_value FROM review_hiccups WHERE @x = @x", "x", "x")) >= 2,
                "the first opening was not refused");
            Assert.True((await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["heldForReview"]!.GetValue<bool>());
        }
        finally
        {
            await storage.ExecuteAsync("DROP TRIGGER refuse_first_review ON grain_state; DROP FUNCTION refuse_first_review(); DROP SEQUENCE review_hiccups");
        }
    }

    [Fact]
    public async Task A_review_decided_while_its_payment_could_not_store_the_hold_is_carried_out_when_the_payment_goes_on()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        string paymentId;
        await using (var refusals = await RefusePaymentWritesWhileReviewUndecidedAsync())
        {
            // The payment does not know it is held when the analyst's decision reaches it.
            paymentId = await PayAndLoseTheHoldAsync(order, refusals);
            var decided = await Shop.Admin.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "known buyer" });
            Assert.True(decided.Status == HttpStatusCode.OK, $"{decided.Status} {decided.Body}");
        }

        // Once the payment's next try opens the review, it finds the decision and carries it out.
        await PaymentWhenAsync(paymentId, "captured");
        var paid = await OrderWhenAsync(order.OrderId, "awaitingShipment");
        Assert.Equal(paymentId, paid["paidBy"]!.GetValue<string>());
        var history = (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["history"]!.AsArray();
        Assert.Contains(history, h => h!["event"]!.GetValue<string>() == "ReviewApproved");
    }

    [Fact]
    public async Task A_review_opened_before_its_payment_lost_a_write_leaves_the_queue_when_the_order_is_cancelled()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        string paymentId;
        await using (var refusals = await RefusePaymentWritesWhileReviewUndecidedAsync())
        {
            paymentId = await PayAndLoseTheHoldAsync(order, refusals);
            // The buyer cancels while the payment does not know it is held, so the cancellation finds no review to withdraw.
            var (status, body) = await order.Buyer.PostJsonAsync($"/api/v1/orders/{order.OrderId}/cancel", new { reason = "changed my mind" });
            Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        }

        // The payment's next try finds the order cancelled: the authorization is voided and the review leaves the queue.
        await PaymentWhenAsync(paymentId, "voided");
        var review = await ReviewWhenAsync(paymentId, "withdrawn");
        Assert.Contains("can no longer take this payment", review["decisionNote"]!.GetValue<string>());
        Assert.Equal("cancelled", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        var analyst = await Shop.KeyAsync("analyst", "ana-lost-write");
        Assert.Equal(HttpStatusCode.Conflict, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
    }

    [Theory]
    [InlineData("cancel")]
    [InlineData("refund")]
    public async Task A_transfer_whose_hold_was_lost_after_its_review_opened_leaves_the_queue_when_its_order_ends(string how)
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        // As a crash between the review's opening and the payment's write of the hold would: the payment's writes that record
        // the hold are refused until it has a refund to record too (the state's trail carries both event names).
        await storage.ExecuteAsync("""
            CREATE SEQUENCE hold_write_refusals;
            CREATE FUNCTION refuse_hold_writes() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF position('HeldForReview'::bytea in NEW.payload) > 0 AND position('RefundRequested'::bytea in NEW.payload) = 0 THEN
                        PERFORM nextval('hold_write_refusals');
                        RAISE EXCEPTION 'the test refuses the payment''s write of its hold';
                    END IF;
                    RETURN NEW;
                END $$;
            CREATE TRIGGER refuse_hold_writes BEFORE UPDATE ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = 'payment') EXECUTE FUNCTION refuse_hold_writes();
            """);
        string paymentId;
        try
        {
            paymentId = await TransferArrivesAsync(order);
            await OrderWhenAsync(order.OrderId, "riskReview");
            await ReviewWhenAsync(paymentId, "open");
            await Eventually.UntilAsync(async () => await storage.ScalarAsync("SELECT is_called FROM hold_write_refusals WHERE @x = @x", "x", "x"),
                called => called is true, "the payment's write of its hold to be refused");
            Assert.False((await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["heldForReview"]!.GetValue<bool>());
            var (status, body) = how == "cancel"
                ? await order.Buyer.PostJsonAsync($"/api/v1/orders/{order.OrderId}/cancel", new { reason = "changed my mind" })
                : await (await Shop.KeyAsync("seller", order.SellerId)).PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds",
                    OrderTestShop.NewId("refund"), new { reason = "cannot ship" });
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Accepted, $"{status} {body}");
            await OrderWhenAsync(order.OrderId, "cancelled");
        }
        finally
        {
            await storage.ExecuteAsync("DROP TRIGGER refuse_hold_writes ON grain_state; DROP FUNCTION refuse_hold_writes(); DROP SEQUENCE hold_write_refusals");
        }

        // The transfer goes back in full, and the review, opened again by the payment after its money went back, leaves the queue.
        await PaymentWhenAsync(paymentId, "refunded");
        var review = await ReviewWhenAsync(paymentId, "withdrawn");
        Assert.Contains("refunded in full", review["decisionNote"]!.GetValue<string>());
    }

    /// <summary>
    /// Pays; the review is opened, but the payment's write that it is held is refused, so the payment goes back to what is stored,
    /// as after a crash between the two. Answers the payment id.
    /// </summary>
    private async Task<string> PayAndLoseTheHoldAsync(Bought order, PaymentWriteRefusals refusals)
    {
        var paymentId = (await PayAsync(order, HttpStatusCode.Accepted))["paymentId"]!.GetValue<string>();
        await ReviewWhenAsync(paymentId, "open");
        await refusals.RefusedAsync();
        Assert.False((await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["heldForReview"]!.GetValue<bool>());
        return paymentId;
    }

    private Task<JsonNode> ReviewWhenAsync(string paymentId, string status) =>
        Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body?["review"] ?? new JsonObject(),
            r => r["status"]?.GetValue<string>() == status, $"review {paymentId} to be {status}");

    /// <summary>
    /// Refuses every update of a payment's state while its review is open or claimed in the queue: the payment's write that it is
    /// held fails after the review was opened, and the payment falls back to its stored state, as a crash between the two would
    /// leave it. Disposing drops the refusal.
    /// </summary>
    private async Task<PaymentWriteRefusals> RefusePaymentWritesWhileReviewUndecidedAsync()
    {
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        await storage.ExecuteAsync("""
            CREATE SEQUENCE payment_write_refusals;
            CREATE FUNCTION refuse_held_payment_writes() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM risk_reviews r WHERE NEW.grain_id LIKE '%/' || r.payment_id AND r.status IN ('Open', 'Claimed')) THEN
                        PERFORM nextval('payment_write_refusals');
                        RAISE EXCEPTION 'the test refuses this payment''s write while its review is undecided';
                    END IF;
                    RETURN NEW;
                END $$;
            CREATE TRIGGER refuse_held_payment_writes BEFORE UPDATE ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = 'payment') EXECUTE FUNCTION refuse_held_payment_writes();
            """);
        return new PaymentWriteRefusals(storage);
    }

    private sealed class PaymentWriteRefusals(SiloStorage storage) : IAsyncDisposable
    {
        public Task RefusedAsync() => Eventually.UntilAsync(
            async () => await storage.ScalarAsync("SELECT is_called FROM payment_write_refusals WHERE @x = @x", "x", "x"),
            called => called is true, "a payment write to be refused");

        public async ValueTask DisposeAsync() => await storage.ExecuteAsync(
            "DROP TRIGGER refuse_held_payment_writes ON grain_state; DROP FUNCTION refuse_held_payment_writes(); DROP SEQUENCE payment_write_refusals");
    }

    [Fact]
    public async Task A_held_order_cannot_be_approved_around_its_payment_and_cancelling_it_voids_the_authorization()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var payment = await HeldAsync(order);
        var paymentId = payment["paymentId"]!.GetValue<string>();

        var (approved, problem) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{order.OrderId}/review-approval", new { reason = "looks fine" });
        Assert.Equal(HttpStatusCode.Conflict, approved);
        Assert.Contains($"/api/v1/risk/reviews/{paymentId}/decision", problem!["detail"]!.GetValue<string>());

        var claimer = await Shop.KeyAsync("analyst", "ana-claims");
        Assert.Equal(HttpStatusCode.OK, (await claimer.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);
        // Another analyst cannot end it around the claim by cancelling the order.
        var other = await Shop.KeyAsync("analyst", "ana-other");
        var refused = await Shop.ActAsync(other, order.OrderId, "cancel", expected: HttpStatusCode.Conflict);
        Assert.Contains($"/api/v1/risk/reviews/{paymentId}/decision", refused["detail"]!.GetValue<string>());

        await Shop.ActAsync(order.Buyer, order.OrderId, "cancel", new { reason = "changed my mind" });

        await PaymentWhenAsync(paymentId, "voided");
        Assert.Equal("cancelled", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
        // The review leaves the queue withdrawn; a decision taken on it now is refused, not answered as done.
        var review = await Eventually.ReadAsync(async () => (await claimer.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body!["review"]!,
            r => r["status"]!.GetValue<string>() == "withdrawn", "the review to be withdrawn");
        Assert.Contains("changed my mind", review["decisionNote"]!.GetValue<string>());
        var (decided, late) = await claimer.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "looks fine" });
        Assert.Equal(HttpStatusCode.Conflict, decided);
        Assert.Contains("withdrawn", late!["detail"]!.GetValue<string>());
        var open = (await claimer.GetJsonAsync("/api/v1/risk/reviews?status=claimed&pageSize=100")).Body!["items"]!.AsArray();
        Assert.DoesNotContain(open, r => r!["reviewId"]!.GetValue<string>() == paymentId);
        var withdrawn = (await claimer.GetJsonAsync("/api/v1/risk/reviews?status=withdrawn&pageSize=100")).Body!["items"]!.AsArray();
        Assert.Contains(withdrawn, r => r!["reviewId"]!.GetValue<string>() == paymentId);
        Assert.Equal("voided", (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());
    }

    /// <summary>
    /// Makes the next update of a grain state named <paramref name="stateName"/> (with <paramref name="grainIdLike"/> in its grain
    /// id) take <paramref name="seconds"/>, for the test's two calls to cross; disposing drops it again. Asserts on disposal that the
    /// slow update happened.
    /// </summary>
    private async Task<IAsyncDisposable> SlowNextUpdateAsync(string stateName, string grainIdLike, double seconds)
    {
        Assert.Matches("^[0-9A-Za-z-]*$", stateName + grainIdLike);
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        await storage.ExecuteAsync($$"""
            CREATE SEQUENCE slow_updates;
            CREATE FUNCTION slow_next_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF nextval('slow_updates') = 1 THEN PERFORM pg_sleep({{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}); END IF; RETURN NEW; END $$;
            CREATE TRIGGER slow_next_update BEFORE UPDATE ON grain_state FOR EACH ROW
                WHEN (NEW.state_name = '{{stateName}}' AND NEW.grain_id LIKE '%{{grainIdLike}}%') EXECUTE FUNCTION slow_next_update();
            """);
        return new SlowUpdate(storage);
    }

    private sealed class SlowUpdate(SiloStorage storage) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            var slowed = Convert.ToInt64(await storage.ScalarAsync("SELECT last_value FROM slow_updates WHERE @x = @x", "x", "x"));
            await storage.ExecuteAsync("DROP TRIGGER slow_next_update ON grain_state; DROP FUNCTION slow_next_update(); DROP SEQUENCE slow_updates");
            Assert.True(slowed >= 1, "the update meant to be slow did not happen");
        }
    }

    /// <summary>Sends <paramref name="first"/>, then <paramref name="second"/> while it runs; both must be answered 200 long before
    /// Orleans' 30 s call time-out, which crossed grain calls used to wait for.</summary>
    private static async Task CrossAsync(Task<(HttpStatusCode, JsonNode?)> first, Func<Task<(HttpStatusCode, JsonNode?)>> second)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(450);
        var (secondStatus, secondBody) = await second();
        var (firstStatus, firstBody) = await first;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the two calls took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(firstStatus == HttpStatusCode.OK, $"{firstStatus} {firstBody}");
        Assert.True(secondStatus == HttpStatusCode.OK, $"{secondStatus} {secondBody}");
    }

    [Fact]
    public async Task A_buyer_cancelling_while_an_analyst_decides_stalls_neither_call()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var paymentId = (await HeldAsync(order))["paymentId"]!.GetValue<string>();
        var analyst = await Shop.KeyAsync("analyst", "ana-crossing");
        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);

        // The decision's write takes a second and a half, so the cancellation reaches the payment, and the payment the review,
        // meanwhile: the review then calls the payment while the payment's cancellation asks the review.
        await using (await SlowNextUpdateAsync("riskReview", paymentId, 1.5))
        {
            await CrossAsync(analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "looks fine" }),
                () => order.Buyer.PostJsonAsync($"/api/v1/orders/{order.OrderId}/cancel", new { reason = "found it cheaper" }));
        }

        // The decision was stored first, but the order was cancelled before the payment heard of it: the money goes back.
        await PaymentWhenAsync(paymentId, "voided");
        Assert.Equal("cancelled", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
        // The analyst's decision stays on record, and its trail says the payment never acted on it.
        var review = await Eventually.ReadAsync(async () => (await analyst.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body!["review"]!,
            r => r["audit"]!.AsArray().Any(a => a!["action"]!.GetValue<string>() == "NotActedOn"), "the review's trail to record the decision was not acted on");
        Assert.Equal("approved", review["status"]!.GetValue<string>());
        Assert.Contains("found it cheaper", review["audit"]!.AsArray().Single(a => a!["action"]!.GetValue<string>() == "NotActedOn")!["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_buyer_cancelling_while_an_approved_payment_is_being_captured_stalls_neither_call()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var held = await HeldAsync(order);
        var paymentId = held["paymentId"]!.GetValue<string>();
        var analyst = await Shop.KeyAsync("analyst", "ana-capturing");
        Assert.Equal(HttpStatusCode.OK, (await analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/claim", new { })).Status);

        // The provider takes a second and a half to capture, so the cancellation reaches the order, and the order the payment,
        // meanwhile: the payment then reports the capture to the order while the order's cancellation asks the payment.
        await using (await SlowNextUpdateAsync("sandboxPspPayment", "", 1.5))
        {
            await CrossAsync(analyst.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "approve", note = "fine" }),
                () => order.Buyer.PostJsonAsync($"/api/v1/orders/{order.OrderId}/cancel", new { reason = "too slow" }));
        }

        // The order was cancelled before the capture reached it: it refuses the money and the buyer gets it all back.
        Assert.Equal("cancelled", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        var payment = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["refunds"]!.AsArray().Any(r => r!["status"]!.GetValue<string>() == "succeeded"), "the capture to be refunded");
        Assert.Equal(held["amount"]!["amountMinor"]!.GetValue<long>(),
            payment["refunds"]!.AsArray().Where(r => r!["status"]!.GetValue<string>() == "succeeded").Sum(r => r!["amount"]!["amountMinor"]!.GetValue<long>()));
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
        // The payment confirmed the cancellation, so the order stops sending it: with nothing left to do, it is no longer woken.
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        await Eventually.UntilAsync(
            async () => await storage.ScalarAsync("SELECT wake_at IS NULL FROM grain_state WHERE state_name = 'order' AND grain_id LIKE @id", "id", "%" + order.OrderId),
            done => done is true, "the cancelled order to have nothing left to wake for");
        // The approval was acted on (the capture happened, then was refunded): the review's trail does not say otherwise.
        var review = (await analyst.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body!["review"]!;
        Assert.Equal("approved", review["status"]!.GetValue<string>());
        Assert.DoesNotContain(review["audit"]!.AsArray(), a => a!["action"]!.GetValue<string>() == "NotActedOn");
    }

    [Fact]
    public async Task A_blocked_payment_fails_without_reaching_the_provider_and_a_normal_one_goes_straight_through()
    {
        var blocked = await OrderAsync();
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101, blockedBuyers = new[] { blocked.BuyerId } });
        var fine = await OrderAsync();

        var refused = await PayAsync(blocked, HttpStatusCode.Created);
        var paid = await PayAsync(fine, HttpStatusCode.Created);

        Assert.Equal("failed", refused["status"]!.GetValue<string>());
        Assert.Equal("risk_blocked", refused["declineCode"]!.GetValue<string>());
        Assert.Equal("block", refused["riskScore"]!["decision"]!.GetValue<string>());
        Assert.Contains("block list", refused["riskScore"]!["reasons"]![0]!["description"]!.GetValue<string>());
        using var sandbox = Sandbox();
        Assert.Equal(HttpStatusCode.NotFound, (await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={refused["paymentId"]}")).Status);
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(blocked.OrderId))["status"]!.GetValue<string>());
        Assert.Equal("captured", paid["status"]!.GetValue<string>());
        Assert.Equal("allow", paid["riskScore"]!["decision"]!.GetValue<string>());
        var policy = (await Shop.Admin.GetJsonAsync("/api/v1/risk/policy")).Body!;
        Assert.Contains(blocked.BuyerId, policy["blockedBuyers"]!.AsArray().Select(b => b!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.BadRequest, (await Shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 80, blockThreshold = 50 })).Status);
        var analyst = await Shop.KeyAsync("analyst", "ana");
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 1, blockThreshold = 2 })).Status);
    }

    [Fact]
    public async Task Hourly_caps_count_the_buyers_and_the_cards_earlier_payments_as_their_profile_grains_recorded_them()
    {
        // The caps read each profile grain's facts of the last hour; a fresh card number keeps other tests' payments out of its count.
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101, maxPaymentsPerBuyerPerHour = 2 });
        var first = await OrderAsync();
        var second = await OrderAsync(first);
        var third = await OrderAsync(first);
        Assert.Equal("captured", (await PayAsync(first, HttpStatusCode.Created))["status"]!.GetValue<string>());
        Assert.Equal("captured", (await PayAsync(second, HttpStatusCode.Created))["status"]!.GetValue<string>());
        var capped = await PayAsync(third, HttpStatusCode.Created);
        Assert.Equal("risk_blocked", capped["declineCode"]!.GetValue<string>());
        Assert.Equal("the buyer made 2 or more payments in the last hour", capped["riskScore"]!["reasons"]![0]!["description"]!.GetValue<string>());

        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101, maxPaymentsPerCardPerHour = 2 });
        var card = FreshVisaNumber();
        var byOthers = new[] { await OrderAsync(), await OrderAsync(), await OrderAsync() };
        Assert.Equal("captured", (await PayAsync(byOthers[0], HttpStatusCode.Created, card))["status"]!.GetValue<string>());
        Assert.Equal("captured", (await PayAsync(byOthers[1], HttpStatusCode.Created, card))["status"]!.GetValue<string>());
        var cardCapped = await PayAsync(byOthers[2], HttpStatusCode.Created, card);
        Assert.Equal("risk_blocked", cardCapped["declineCode"]!.GetValue<string>());
        Assert.Equal("the card made 2 or more payments in the last hour", cardCapped["riskScore"]!["reasons"]![0]!["description"]!.GetValue<string>());
        // Another card of the same buyer is under no cap.
        Assert.Equal("captured", (await PayAsync(byOthers[2], HttpStatusCode.Created, FreshVisaNumber()))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_hourly_cap_holds_for_payments_sent_at_once()
    {
        // Each payment read its buyer's history before any of them was recorded (that waits for the provider): all got past the cap.
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101, maxPaymentsPerBuyerPerHour = 2 });
        var first = await OrderAsync();
        var orders = new[] { first, await OrderAsync(first), await OrderAsync(first), await OrderAsync(first), await OrderAsync(first) };

        var paid = await Task.WhenAll(orders.Select(o => PayAsync(o, HttpStatusCode.Created, FreshVisaNumber())));

        Assert.Equal(2, paid.Count(p => p["status"]!.GetValue<string>() == "captured"));
        Assert.Equal(3, paid.Count(p => p["declineCode"]?.GetValue<string>() == "risk_blocked"));
    }

    [Fact]
    public async Task The_labels_export_takes_reviews_whose_device_or_category_holds_a_comma_or_a_quote()
    {
        // The device fingerprint is whatever the paying client sends, the category whatever the seller types.
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var sellerId = OrderTestShop.NewId("s");
        var skuId = OrderTestShop.NewId("sku");
        var (skuStatus, skuBody) = await Shop.Admin.PutJsonAsync($"/api/v1/skus/{skuId}", new
        {
            sellerId, title = "Puzzle", category = "toys,\"games\"", price = new { amountMinor = 3_000, currency = "USD" }, weightGrams = 500,
            hsCode = "950300", originCountry = "CN",
        });
        Assert.True(skuStatus == HttpStatusCode.Created, $"{skuStatus} {skuBody}");
        Assert.Equal(HttpStatusCode.OK, (await Shop.Admin.PutJsonAsync($"/api/v1/skus/{skuId}/stock/wh-de", new { onHand = 10, version = 1 })).Status);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        Assert.True(buyer.DefaultRequestHeaders.TryAddWithoutValidation("X-Device-Fingerprint", $"dev,\"{buyerId}\""));
        buyer.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.8");
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var order = new Bought(created!["orders"]![0]!["orderId"]!.GetValue<string>(), skuId, buyerId, buyer, sellerId);
        var paymentId = (await HeldAsync(order))["paymentId"]!.GetValue<string>();
        var (decided, review) = await Shop.Admin.PostJsonAsync($"/api/v1/risk/reviews/{paymentId}/decision", new { decision = "reject", note = "device farm" });
        Assert.True(decided == HttpStatusCode.OK, $"{decided} {review}");
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync("/api/v1/risk/reviews?status=rejected&pageSize=100")).Body!,
            q => q["items"]!.AsArray().Any(r => r!["reviewId"]!.GetValue<string>() == paymentId), "the decision in the queue's table");

        var labels = await ExportLabelsAsync();
        var lines = await File.ReadAllLinesAsync(labels);
        var mine = lines.Single(l => l.Contains(paymentId));
        Assert.Equal(lines[0].Split(',').Length, mine.Split(',').Length);
        Assert.EndsWith(",1", mine);
        // Written encoded, read back for training as they were: the same keys live scoring uses.
        Assert.Contains($"dev%2C%22{buyerId}%22", mine);
        var read = Orleans.Trade.Risk.RiskCsv.ReadFile(labels, requireLabel: true).Single(l => l.Event.PaymentId == paymentId);
        Assert.Equal($"dev,\"{buyerId}\"", read.Event.DeviceFingerprint);
        Assert.Equal("toys,\"games\"", read.Event.SkuCategory);
        Assert.True(read.IsFraud);
    }

    [Fact]
    public async Task The_queue_filters_by_age_on_the_business_clock()
    {
        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        var paymentId = (await HeldAsync(order))["paymentId"]!.GetValue<string>();
        var analyst = await Shop.KeyAsync("analyst", "ana-ages");
        await Eventually.ReadAsync(async () => (await analyst.GetJsonAsync("/api/v1/risk/reviews?status=open&pageSize=100")).Body!,
            q => q["items"]!.AsArray().Any(r => r!["reviewId"]!.GetValue<string>() == paymentId), "the review in the queue");

        // Opened a moment ago on the business clock (the fixture runs it ten minutes ahead of the wall clock).
        var anyAge = (await analyst.GetJsonAsync("/api/v1/risk/reviews?status=open&pageSize=100&minAgeMinutes=0")).Body!;
        var fiveMinutesOld = (await analyst.GetJsonAsync("/api/v1/risk/reviews?status=open&pageSize=100&minAgeMinutes=5")).Body!;

        Assert.Contains(anyAge["items"]!.AsArray(), r => r!["reviewId"]!.GetValue<string>() == paymentId);
        Assert.DoesNotContain(fiveMinutesOld["items"]!.AsArray(), r => r!["reviewId"]!.GetValue<string>() == paymentId);
    }

    [Fact]
    public async Task A_blocked_ip_is_blocked_however_the_policy_or_the_proxy_writes_it()
    {
        // An IPv6 address typed in capitals or in full, and an IPv4 one reported IPv4-mapped (a dual-stack proxy or listener).
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101, blockedIps = new[] { "2001:DB8:0:0:0:0:0:7", "198.51.100.7" } });
        var policy = (await Shop.Admin.GetJsonAsync("/api/v1/risk/policy")).Body!;
        Assert.Equal(["2001:db8::7", "198.51.100.7"], policy["blockedIps"]!.AsArray().Select(ip => ip!.GetValue<string>()));

        foreach (var forwardedFor in new[] { "2001:db8::7", "::ffff:198.51.100.7" })
        {
            var order = await OrderAsync();
            order.Buyer.DefaultRequestHeaders.Remove("X-Forwarded-For");
            order.Buyer.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
            var refused = await PayAsync(order, HttpStatusCode.Created);
            Assert.True(refused["declineCode"]?.GetValue<string>() == "risk_blocked", $"{forwardedFor}: {refused}");
            Assert.Contains("IP address is on the block list", refused["riskScore"]!["reasons"]![0]!["description"]!.GetValue<string>());
        }

        // An entry that no client address can ever equal is refused rather than silently never matching.
        var (status, body) = await Shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 60, blockThreshold = 90, blockedIps = new[] { "203.0.113.0/24" } });
        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {body}");
        Assert.NotNull(body!["errors"]!["blockedIps"]);
    }

    [Fact]
    public async Task Bank_transfers_of_different_buyers_are_not_counted_as_payments_with_one_card()
    {
        // A transfer has no card: two other buyers' transfers this hour must not put a third buyer's first one over the card cap.
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101, maxPaymentsPerCardPerHour = 2 });
        foreach (var _ in Enumerable.Range(0, 2))
        {
            await PaymentWhenAsync(await TransferArrivesAsync(await OrderAsync()), "captured");
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // their outcomes reach the risk profiles after the money

        var third = await OrderAsync();
        var (status, payment) = await third.Buyer.PostWithKeyAsync($"/api/v1/orders/{third.OrderId}/payments", OrderTestShop.NewId("pay"), new { method = "bankTransfer" });

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {payment}");
        Assert.Equal("awaitingTransfer", payment!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Clients_without_a_device_fingerprint_are_not_scored_as_one_device()
    {
        // Other buyers' clients that send no X-Device-Fingerprint pay first: none of their payments is this buyer's device's.
        await PolicyAsync(new { reviewThreshold = 101, blockThreshold = 101 });
        foreach (var _ in Enumerable.Range(0, 3))
        {
            var other = await OrderAsync();
            other.Buyer.DefaultRequestHeaders.Remove("X-Device-Fingerprint");
            Assert.Equal("captured", (await PayAsync(other, HttpStatusCode.Created, FreshVisaNumber()))["status"]!.GetValue<string>());
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // their outcomes reach the risk profiles after the provider's answer

        await PolicyAsync(new { reviewThreshold = 0, blockThreshold = 101 });
        var order = await OrderAsync();
        order.Buyer.DefaultRequestHeaders.Remove("X-Device-Fingerprint");
        var paymentId = (await HeldAsync(order))["paymentId"]!.GetValue<string>();
        var review = (await Shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body!["review"]!;

        var features = review["opening"]!["features"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!["value"]!.GetValue<float>());
        Assert.Equal(0, features["device_attempts_1h"]);
        Assert.Equal(1, features["device_distinct_cards_24h"]);
    }

    /// <summary>A Luhn-valid 16-digit Visa number no other test uses.</summary>
    private static string FreshVisaNumber()
    {
        var digits = new int[16];
        digits[0] = 4;
        for (var i = 1; i < 15; i++)
        {
            digits[i] = Random.Shared.Next(10);
        }
        var sum = 0;
        for (var i = 14; i >= 0; i--)
        {
            var d = (14 - i) % 2 == 0 ? digits[i] * 2 : digits[i];
            sum += d > 9 ? d - 9 : d;
        }
        digits[15] = (10 - sum % 10) % 10;
        return string.Concat(digits);
    }
}
