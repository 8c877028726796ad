using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Payments;

/// <summary>A silo on PostgreSQL with the sandbox provider answering slow cards after 5 s and the adapter giving up after 2 s.</summary>
public sealed class PaymentsSiloFixture : IAsyncLifetime
{
    public const string SandboxKey = "sandbox-test-key-0123456789";
    public const string WebhookSecret = "sandbox-test-webhook-secret-payments";
    public SiloProcess Silo { get; private set; } = null!;
    public OrderTestShop Shop { get; private set; } = null!;
    public string ConnectionString { get; private set; } = null!;

    /// <summary>The whole silo log, kept for diagnosing a failed run.</summary>
    public string LogFile { get; } = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", $"payments-{Guid.NewGuid():N}.log");

    public async Task InitializeAsync()
    {
        var connectionString = ConnectionString = await PostgresServer.CreateDatabaseAsync("payments");
        Directory.CreateDirectory(Path.GetDirectoryName(LogFile)!);
        Silo = new SiloProcess(SiloStorage.Postgres(connectionString), "payments-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
                ["Orders__DeadlineCheckPeriod"] = "00:00:01",
                // A business day moved on by a test is snapshotted within a second (inventory turnover).
                ["Analytics__StockSnapshotCheckSeconds"] = "1",
                // A wake that failed (a ledger refusing a refund for a while) is asked again after this instead of a minute.
                ["Deadlines__FailedWakeRetry"] = "00:00:02",
                ["Payments__ReconcilePeriod"] = "00:00:00.500",
                ["Payments__InstalmentsMinUsdMinor"] = "10000",
                ["Payments__Sandbox__ApiKey"] = SandboxKey,
                ["Payments__Sandbox__WebhookSecret"] = WebhookSecret,
                ["Payments__Sandbox__RequestTimeout"] = "00:00:02",
                ["Payments__Sandbox__SlowResponseDelay"] = "00:00:05",
                ["Settlement__LogisticsFeeBps"] = "300",
            }) { LogFile = LogFile };
        await Silo.StartAsync();
        Shop = new OrderTestShop(Silo);
        await Shop.WarehousesAsync();
        // These tests are about the provider: no payment is held for review or blocked by the risk model (RiskReviewApiTests covers that).
        var policy = await Shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 });
        Assert.True(policy.Status == System.Net.HttpStatusCode.OK, $"{policy.Status} {policy.Body}");
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}


/// <summary>
/// Paying orders through the sandbox provider over real HTTP on PostgreSQL (R-PAY-1, R-PAY-3, R-SET-3): declines, 3-D Secure,
/// time-outs, bank transfers and instalments end in the right order and ledger states; refunds come out of escrow or the seller.
/// </summary>
public sealed class PaymentsApiTests(PaymentsSiloFixture fixture) : IClassFixture<PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;
    private SiloProcess Silo => fixture.Silo;

    private sealed record Bought(string OrderId, string SkuId, string BuyerId, HttpClient Buyer, string SellerId, HttpClient Seller);

    private async Task<Bought> OrderAsync(long priceMinor = 2_000, int quantity = 1, string sellerCurrency = "USD", string buyerCurrency = "EUR")
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: priceMinor, currency: sellerCurrency, stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity }], currency: buyerCurrency);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        return new Bought(created!["orders"]![0]!["orderId"]!.GetValue<string>(), sku, buyerId, buyer, sellerId, seller);
    }

    private static async Task<string> CardAsync(HttpClient buyer, string number)
    {
        var (status, token) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number, expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(status == HttpStatusCode.Created, $"{status} {token}");
        return token!["token"]!.GetValue<string>();
    }

    /// <summary>
    /// Pays and, if the provider was slow to answer (a cold silo on a busy machine can pass the adapter's time-out), waits until the
    /// payment settles, so the answer is what the payment came to. The time-out path itself has its own test.
    /// </summary>
    private async Task<(HttpStatusCode Status, JsonNode? Body)> PayAsync(Bought order, object body, string? key = null)
    {
        var (status, payment) = await order.Buyer.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/payments", key ?? OrderTestShop.NewId("pay"), body);
        if (status == HttpStatusCode.Accepted && payment!["status"]!.GetValue<string>() == "pending")
        {
            payment = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{payment["paymentId"]}")).Body!,
                p => p["status"]!.GetValue<string>() != "pending", "the payment to settle");
            status = payment["status"]!.GetValue<string>() is "captured" or "failed" ? HttpStatusCode.Created : HttpStatusCode.Accepted;
        }
        return (status, payment);
    }

    /// <summary>A SKU of a new seller (5 units at 15.00 USD) and a new buyer with a good card, for checkouts that pay inline.</summary>
    private async Task<(string SkuId, string BuyerId, HttpClient Buyer, string CardToken)> CardBuyerAsync()
    {
        var sku = await Shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1_500, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        return (sku, buyerId, buyer, await CardAsync(buyer, "4242 4242 4242 4242"));
    }

    private HttpClient Sandbox()
    {
        var client = Silo.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PaymentsSiloFixture.SandboxKey);
        return client;
    }

    private Task<JsonNode> OrderWhenAsync(string orderId, string status) =>
        Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == status, $"order {orderId} to be {status}");

    private Task<JsonNode> PaymentWhenAsync(string paymentId, string status) =>
        Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["status"]!.GetValue<string>() == status, $"payment {paymentId} to be {status}");

    private async Task<JsonNode> LedgerAsync(string sellerId) => (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;

    private static long Account(JsonNode ledger, string account, string field) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?[field]!.GetValue<long>() ?? 0;

    private static long TaxPayable(JsonNode ledger) => ledger["accounts"]!.AsArray()
        .Where(a => a!["accountId"]!.GetValue<string>().StartsWith("tax:payable:", StringComparison.Ordinal)).Sum(a => a!["posted"]!.GetValue<long>());

    private static long Charged(JsonNode order) =>
        order["totals"]!["seller"]!["amountMinor"]!.GetValue<long>() + (order["totals"]!["tax"]?["amountMinor"]!.GetValue<long>() ?? 0);

    [Fact]
    public async Task A_good_card_pays_the_order_into_escrow_and_the_same_key_gives_the_same_payment()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var key = OrderTestShop.NewId("pay");

        var (status, payment) = await PayAsync(order, new { method = "card", cardToken = card }, key);
        var (again, replay) = await PayAsync(order, new { method = "card", cardToken = card }, key);
        var (reused, reusedProblem) = await PayAsync(order, new { method = "bankTransfer" }, key);
        var (second, secondProblem) = await PayAsync(order, new { method = "card", cardToken = card });

        Assert.True(status == HttpStatusCode.Created, $"{status} {payment}");
        Assert.Equal("captured", payment!["status"]!.GetValue<string>());
        Assert.Equal("4242", payment["cardLast4"]!.GetValue<string>());
        Assert.Equal(payment["paymentId"]!.GetValue<string>(), replay!["paymentId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, again);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused);
        Assert.Contains("Idempotency-Key", reusedProblem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, second);
        Assert.Equal("awaitingShipment", secondProblem!["currentStatus"]!.GetValue<string>());
        var paid = await Shop.OrderAsync(order.OrderId);
        Assert.Equal("awaitingShipment", paid["status"]!.GetValue<string>());
        Assert.Equal(payment["paymentId"]!.GetValue<string>(), paid["paidBy"]!.GetValue<string>());
        Assert.Equal(paid["totals"]!["buyer"]!["amountMinor"]!.GetValue<long>(), payment["amount"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(Charged(paid), Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        Assert.Contains("Paid", await Shop.TimelineEventsAsync(order.OrderId));
        var other = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetJsonAsync($"/api/v1/payments/{payment["paymentId"]}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await order.Seller.GetJsonAsync($"/api/v1/payments/{payment["paymentId"]}")).Status);
    }

    [Fact]
    public async Task Copies_of_one_paid_checkout_or_one_payment_sent_at_once_charge_once()
    {
        var (sku, buyerId, buyer, card) = await CardBuyerAsync();
        var body = new { buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 1 } },
            payment = new { method = "card", cardToken = card } };
        var key = OrderTestShop.NewId("key");

        var checkouts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => buyer.PostWithKeyAsync("/api/v1/checkout", key, body)));

        Assert.All(checkouts, c => Assert.True(c.Status == HttpStatusCode.Created, $"{c.Status} {c.Body}"));
        var orderId = Assert.Single(checkouts.Select(c => c.Body!["orders"]![0]!["orderId"]!.GetValue<string>()).Distinct());
        Assert.Single(checkouts.Select(c => c.Body!["payments"]![0]!["paymentId"]!.GetValue<string>()).Distinct());
        await OrderWhenAsync(orderId, "awaitingShipment");
        Assert.Single((await buyer.GetJsonAsync($"/api/v1/orders/{orderId}/payments")).Body!["items"]!.AsArray());
        Assert.Equal(1, await Shop.ReservedAsync(sku));

        // The same for a payment of an existing order: one payment, whatever copy arrives first.
        var order = await OrderAsync();
        var payKey = OrderTestShop.NewId("pay");
        var theirCard = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var payments = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            order.Buyer.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/payments", payKey, new { method = "card", cardToken = theirCard })));
        Assert.All(payments, p => Assert.True(p.Status is HttpStatusCode.Created or HttpStatusCode.Accepted, $"{p.Status} {p.Body}"));
        Assert.Single(payments.Select(p => p.Body!["paymentId"]!.GetValue<string>()).Distinct());
        await OrderWhenAsync(order.OrderId, "awaitingShipment");
        Assert.Single((await order.Buyer.GetJsonAsync($"/api/v1/orders/{order.OrderId}/payments")).Body!["items"]!.AsArray());
        Assert.Equal(Charged(await Shop.OrderAsync(order.OrderId)), Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
    }

    [Fact]
    public async Task A_card_payment_that_goes_straight_through_is_captured_with_its_authorization_and_stored_in_two_writes()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");

        var (status, payment) = await PayAsync(order, new { method = "card", cardToken = card });

        Assert.True(status == HttpStatusCode.Created, $"{status} {payment}");
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        var events = payment["history"]!.AsArray().Select(h => h!["event"]!.GetValue<string>()).ToArray();
        // One provider request authorizes and captures (automatic capture): no separate authorization step.
        Assert.Equal(["Created", "Scored", "Captured"], events);
        // The attempt with its score, then one write for the provider's answer and what the order answered: the steps whose
        // calls are safe to repeat share the last write. Each write adds one to the row's version.
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT version, octet_length(payload) FROM grain_state WHERE state_name = 'payment' AND grain_id LIKE '%' || @id", connection);
        command.Parameters.AddWithValue("id", paymentId);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(2, reader.GetInt32(0));
            // The risk features are stored as values of a named feature set, not each with its name and description: the
            // row stays under PostgreSQL's 2 KB compression threshold (it was about 3 KB).
            Assert.InRange(reader.GetInt32(1), 1, 2_000);
        }
        Assert.Equal("awaitingShipment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_payment_the_provider_refuses_to_take_fails_at_once_instead_of_being_asked_for_ever()
    {
        // Two units of a trillion minor units: more than the sandbox provider takes in one payment, whatever the key.
        var order = await OrderAsync(priceMinor: 1_000_000_000_000, quantity: 2);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");

        var (status, payment) = await PayAsync(order, new { method = "card", cardToken = card });

        Assert.True(status == HttpStatusCode.Created, $"{status} {payment}");
        Assert.Equal("failed", payment!["status"]!.GetValue<string>());
        Assert.Equal("provider_refused_request", payment["declineCode"]!.GetValue<string>());
        Assert.Contains("amount", payment["message"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Contains("PaymentFailed", await Shop.TimelineEventsAsync(order.OrderId));
    }

    [Fact]
    public async Task A_declined_card_leaves_the_order_awaiting_payment_with_nothing_in_escrow_and_another_card_can_pay()
    {
        var order = await OrderAsync();
        var declined = await CardAsync(order.Buyer, "4000 0000 0000 0002");
        var broke = await CardAsync(order.Buyer, "4000 0000 0000 9995");
        var good = await CardAsync(order.Buyer, "5555 5555 5555 4444");

        var (status, payment) = await PayAsync(order, new { method = "card", cardToken = declined });
        var (_, poor) = await PayAsync(order, new { method = "card", cardToken = broke });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("failed", payment!["status"]!.GetValue<string>());
        Assert.Equal("card_declined", payment["declineCode"]!.GetValue<string>());
        Assert.Equal("insufficient_funds", poor!["declineCode"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        Assert.Contains("PaymentFailed", await Shop.TimelineEventsAsync(order.OrderId));

        var (paidStatus, paid) = await PayAsync(order, new { method = "card", cardToken = good });
        Assert.Equal(HttpStatusCode.Created, paidStatus);
        Assert.Equal("captured", paid!["status"]!.GetValue<string>());
        var payments = (await order.Buyer.GetJsonAsync($"/api/v1/orders/{order.OrderId}/payments")).Body!["items"]!.AsArray();
        Assert.Equal(["failed", "failed", "captured"], payments.Select(p => p!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Three_d_secure_waits_for_the_challenge_and_the_webhook_pays_the_order_or_fails_the_payment()
    {
        var order = await OrderAsync();
        var failing = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4000 0000 0000 3220");
        var failingCard = await CardAsync(failing.Buyer, "4000 0000 0000 3220");

        var (status, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var (_, failingPayment) = await PayAsync(failing, new { method = "card", cardToken = failingCard });

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("requiresAction", payment!["status"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        using var sandbox = Sandbox();
        var pass = await sandbox.PostJsonAsync(payment["actionUrl"]!.GetValue<string>(), new { result = "pass" });
        var fail = await sandbox.PostJsonAsync(failingPayment!["actionUrl"]!.GetValue<string>(), new { result = "fail" });
        Assert.True(pass.Status == HttpStatusCode.OK, $"{pass.Status} {pass.Body}");
        Assert.True(fail.Status == HttpStatusCode.OK, $"{fail.Status} {fail.Body}");

        await OrderWhenAsync(order.OrderId, "awaitingShipment");
        await PaymentWhenAsync(payment["paymentId"]!.GetValue<string>(), "captured");
        var failed = await PaymentWhenAsync(failingPayment["paymentId"]!.GetValue<string>(), "failed");
        Assert.Equal("authentication_failed", failed["declineCode"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(failing.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, Account(await LedgerAsync(failing.SellerId), $"escrow:{failing.OrderId}", "pendingIn"));
    }

    /// <summary>
    /// An order paid with the slow card: the provider records (and, captured at once, captures) it at once but answers after 5 s,
    /// past the adapter's 2 s, so the payment is answered pending and the order still awaits payment.
    /// </summary>
    private async Task<(Bought Order, string PaymentId)> PendingSlowCardPaymentAsync()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4000 0000 0000 0119");
        var (status, payment) = await order.Buyer.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "card", cardToken = card });
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("pending", payment!["status"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        return (order, payment["paymentId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_provider_time_out_leaves_the_payment_pending_and_it_completes_once_without_a_second_charge()
    {
        var (order, paymentId) = await PendingSlowCardPaymentAsync();

        var captured = await PaymentWhenAsync(paymentId, "captured");
        var paid = await OrderWhenAsync(order.OrderId, "awaitingShipment");
        Assert.Equal(paymentId, paid["paidBy"]!.GetValue<string>());
        Assert.Equal(Charged(paid), Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        Assert.Single(captured["history"]!.AsArray(), h => h!["event"]!.GetValue<string>() == "Captured");
        using var sandbox = Sandbox();
        var atProvider = await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}");
        Assert.True(atProvider.Status == HttpStatusCode.OK, $"{atProvider.Status} {atProvider.Body}");
        Assert.Contains("captured", atProvider.Body!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_payment_captured_for_an_order_cancelled_while_the_provider_answered_is_refunded_in_full()
    {
        var (order, paymentId) = await PendingSlowCardPaymentAsync();

        await Shop.ActAsync(order.Buyer, order.OrderId, "cancel", new { reason = "found it cheaper" });

        // The order cannot take the money any more: the payment gives all of it back, and the order stays cancelled.
        var refunded = await PaymentWhenAsync(paymentId, "refunded");
        Assert.Equal(refunded["amount"]!["amountMinor"]!.GetValue<long>(), refunded["refunded"]!["amountMinor"]!.GetValue<long>());
        Assert.Contains(refunded["history"]!.AsArray(), h => h!["event"]!.GetValue<string>() == "RefusedByOrder");
        var after = await Shop.OrderAsync(order.OrderId);
        Assert.Equal("cancelled", after["status"]!.GetValue<string>());
        Assert.Null(after["paidBy"]?.GetValue<string>());
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        using var sandbox = Sandbox();
        var atProvider = await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}");
        Assert.True(atProvider.Status == HttpStatusCode.OK, $"{atProvider.Status} {atProvider.Body}");
        Assert.Equal(atProvider.Body!["capturedMinor"]!.GetValue<long>(), atProvider.Body["refundedMinor"]!.GetValue<long>());
        Assert.True(atProvider.Body["capturedMinor"]!.GetValue<long>() > 0);
    }

    [Fact]
    public async Task An_imported_order_paid_through_the_platform_holds_the_money_in_escrow_releases_it_on_completion_and_refunds_it_on_cancellation()
    {
        // R-ROLE-1: captured money is held in escrow whatever the order's source. An import sent unpaid is paid here by an
        // admin; its money went to no escrow, so completing it paid the seller nothing and cancelling it refunded nothing.
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-us", 10)]);
        var erp = await Shop.KeyAsync("erp", sellerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        async Task<Bought> ImportAsync()
        {
            var (status, body) = await erp.PostJsonAsync("/api/v1/orders/import", new
            {
                platform = "shopify", externalOrderId = OrderTestShop.NewId("e"), buyerId = "shopify-buyer", currency = "USD", paid = false,
                shipTo = new { name = "John Doe", line1 = "1 Main St", city = "Springfield", postalCode = "62701", country = "US", phone = "+1 217 555 0100" },
                items = new[] { new { skuId = sku, quantity = 1 } },
            });
            Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
            var order = body!["orders"]![0]!;
            Assert.Equal("awaitingPayment", order["status"]!.GetValue<string>());
            return new Bought(order["orderId"]!.GetValue<string>(), sku, "shopify:shopify-buyer", Shop.Admin, sellerId, seller);
        }
        var completed = await ImportAsync();
        var cancelled = await ImportAsync();

        foreach (var order in new[] { completed, cancelled })
        {
            var (status, payment) = await PayAsync(order, new { method = "wallet", walletAccount = "wallet_import_01" });
            Assert.True(status == HttpStatusCode.Created && payment!["status"]!.GetValue<string>() == "captured", $"{status} {payment}");
            var paid = await Shop.OrderAsync(order.OrderId);
            Assert.Equal("awaitingShipment", paid["status"]!.GetValue<string>());
            Assert.Equal(Charged(paid), Account(await LedgerAsync(sellerId), $"escrow:{order.OrderId}", "pendingIn"));
        }

        await Shop.ActAsync(seller, completed.OrderId, "ship", new { carrier = "UPS", trackingNumber = "1Z1" });
        await Shop.ActAsync(Shop.Admin, completed.OrderId, "delivery");
        await Shop.ActAsync(Shop.Admin, completed.OrderId, "confirm-receipt");
        var released = await LedgerAsync(sellerId);
        Assert.Equal(0, Account(released, $"escrow:{completed.OrderId}", "pendingIn"));
        Assert.Equal(0, Account(released, $"escrow:{completed.OrderId}", "posted"));
        Assert.Equal(1_780, Account(released, "seller:pending:USD", "posted")); // 20.00 less the 8% commission and the 3% logistics fee

        await Shop.ActAsync(Shop.Admin, cancelled.OrderId, "cancel", new { reason = "the buyer cancelled on Shopify" });
        var refunds = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{cancelled.OrderId}/refunds")).Body!["items"]!.AsArray(),
            r => r.AsArray().Count == 1 && r[0]!["status"]!.GetValue<string>() == "succeeded", "the cancelled import's refund");
        Assert.Equal(2_000, refunds[0]!["amount"]!["amountMinor"]!.GetValue<long>());
        var voided = await LedgerAsync(sellerId);
        Assert.Equal(0, Account(voided, $"escrow:{cancelled.OrderId}", "pendingIn"));
        Assert.Equal(0, Account(voided, $"escrow:{cancelled.OrderId}", "posted"));
        Assert.Equal(1_780, Account(voided, "seller:pending:USD", "posted"));
    }

    [Fact]
    public async Task A_wallet_pays_the_order_and_a_declined_wallet_leaves_it_awaiting_payment()
    {
        var order = await OrderAsync();
        var declined = await OrderAsync();

        var (status, payment) = await PayAsync(order, new { method = "wallet", walletAccount = "wallet_anna_01" });
        var (failedStatus, failed) = await PayAsync(declined, new { method = "wallet", walletAccount = "wallet_declined_01" });
        var (missing, problem) = await PayAsync(declined, new { method = "wallet" });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("captured", payment!["status"]!.GetValue<string>());
        Assert.Equal("wallet", payment["method"]!.GetValue<string>());
        Assert.Equal("awaitingShipment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, failedStatus);
        Assert.Equal("wallet_declined", failed!["declineCode"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(declined.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.NotNull(problem!["errors"]!["walletAccount"]);
    }

    [Fact]
    public async Task A_bank_transfer_waits_until_its_pay_by_time_and_pays_the_order_when_the_money_arrives()
    {
        var order = await OrderAsync();

        var (status, payment) = await PayAsync(order, new { method = "bankTransfer" });

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("awaitingTransfer", payment!["status"]!.GetValue<string>());
        var reference = payment["transferReference"]!.GetValue<string>();
        var payBy = payment["payBy"]!.GetValue<DateTimeOffset>();
        var waiting = await Shop.OrderAsync(order.OrderId);
        Assert.Equal(payBy, waiting["deadlines"]!["paymentDueAt"]!.GetValue<DateTimeOffset>());
        Assert.True(payBy - waiting["createdAt"]!.GetValue<DateTimeOffset>() > TimeSpan.FromHours(71));

        using var sandbox = Sandbox();
        var received = await sandbox.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{reference}/receive", new { });
        Assert.True(received.Status == HttpStatusCode.OK, $"{received.Status} {received.Body}");
        await OrderWhenAsync(order.OrderId, "awaitingShipment");
        await PaymentWhenAsync(payment["paymentId"]!.GetValue<string>(), "captured");
    }

    /// <summary>
    /// Cancelling an order voids the attempts still open to its buyer: the 3-D Secure challenge and the bank-transfer reference are
    /// closed at the provider, so a buyer who goes on to pass the challenge or send the transfer is charged nothing. Left open
    /// (before 7 December), the provider took that money for a cancelled order, and it came back only by a refund after the
    /// webhook, or never when the webhook was lost.
    /// </summary>
    [Fact]
    public async Task Cancelling_an_order_voids_its_open_three_d_secure_challenge_and_bank_transfer_so_the_buyer_is_not_charged()
    {
        var challenged = await OrderAsync();
        var transferring = await OrderAsync();
        var card = await CardAsync(challenged.Buyer, "4000 0000 0000 3220");
        var (_, challenge) = await PayAsync(challenged, new { method = "card", cardToken = card });
        var (_, transfer) = await PayAsync(transferring, new { method = "bankTransfer" });
        Assert.Equal("requiresAction", challenge!["status"]!.GetValue<string>());
        Assert.Equal("awaitingTransfer", transfer!["status"]!.GetValue<string>());
        var challengeId = challenge["paymentId"]!.GetValue<string>();
        var transferId = transfer["paymentId"]!.GetValue<string>();

        await Shop.ActAsync(challenged.Buyer, challenged.OrderId, "cancel", new { reason = "changed my mind" });
        await Shop.ActAsync(Shop.Admin, transferring.OrderId, "cancel", new { reason = "the buyer asked by phone" });

        var voided = await PaymentWhenAsync(challengeId, "voided");
        await PaymentWhenAsync(transferId, "voided");
        Assert.Contains(voided["history"]!.AsArray(), h => h!["event"]!.GetValue<string>() == "OrderCancelled");
        using var sandbox = Sandbox();
        var pass = await sandbox.PostJsonAsync(challenge["actionUrl"]!.GetValue<string>(), new { result = "pass" });
        var received = await sandbox.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{transfer["transferReference"]}/receive", new { });
        Assert.True(pass.Status == HttpStatusCode.Conflict, $"{pass.Status} {pass.Body}");
        Assert.True(received.Status == HttpStatusCode.Conflict, $"{received.Status} {received.Body}");
        foreach (var (order, paymentId) in new[] { (challenged, challengeId), (transferring, transferId) })
        {
            var atProvider = await AtProviderAsync(paymentId);
            Assert.Equal("voided", atProvider["status"]!.GetValue<string>());
            Assert.Equal(0, atProvider["capturedMinor"]!.GetValue<long>());
            Assert.Equal("cancelled", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
            Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
            // The buyer hears of the cancellation, not of a failed payment besides.
            Assert.Equal(0L, Convert.ToInt64(await Silo.Storage.ScalarAsync(
                "SELECT count(*) FROM order_notifications WHERE order_id = @order AND event = 'PaymentFailed'", "order", order.OrderId)));
        }
    }

    [Fact]
    public async Task Paying_an_order_by_card_voids_its_open_bank_transfer_so_a_transfer_sent_later_cannot_charge_the_buyer_twice()
    {
        var order = await OrderAsync();
        var (_, transfer) = await PayAsync(order, new { method = "bankTransfer" });
        Assert.Equal("awaitingTransfer", transfer!["status"]!.GetValue<string>());
        var transferId = transfer["paymentId"]!.GetValue<string>();
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");

        var (paid, payment) = await PayAsync(order, new { method = "card", cardToken = card });

        Assert.True(paid == HttpStatusCode.Created && payment!["status"]!.GetValue<string>() == "captured", $"{paid} {payment}");
        await PaymentWhenAsync(transferId, "voided");
        using var sandbox = Sandbox();
        var received = await sandbox.PostJsonAsync($"/sandbox/psp/v1/bank-transfers/{transfer["transferReference"]}/receive", new { });
        Assert.True(received.Status == HttpStatusCode.Conflict, $"{received.Status} {received.Body}");
        var atProvider = await AtProviderAsync(transferId);
        Assert.Equal("voided", atProvider["status"]!.GetValue<string>());
        Assert.Equal(0, atProvider["capturedMinor"]!.GetValue<long>());
        var paidOrder = await Shop.OrderAsync(order.OrderId);
        Assert.Equal("awaitingShipment", paidOrder["status"]!.GetValue<string>());
        Assert.Equal(payment!["paymentId"]!.GetValue<string>(), paidOrder["paidBy"]!.GetValue<string>());
        Assert.Equal(Charged(paidOrder), Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
    }

    [Fact]
    public async Task Instalments_carry_a_schedule_that_adds_up_and_are_refused_below_the_threshold()
    {
        var order = await OrderAsync(priceMinor: 20_000); // 200 USD
        var small = await OrderAsync(priceMinor: 2_000);   //  20 USD
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var smallCard = await CardAsync(small.Buyer, "4242 4242 4242 4242");

        var (status, payment) = await PayAsync(order, new { method = "instalments", cardToken = card, instalments = 3 });
        var (refused, problem) = await PayAsync(small, new { method = "instalments", cardToken = smallCard, instalments = 3 });
        var (badCount, countProblem) = await PayAsync(small, new { method = "instalments", cardToken = smallCard, instalments = 5 });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("captured", payment!["status"]!.GetValue<string>());
        var schedule = payment["schedule"]!.AsArray();
        Assert.Equal(3, schedule.Count);
        Assert.Equal(payment["amount"]!["amountMinor"]!.GetValue<long>(), schedule.Sum(i => i!["amount"]!["amountMinor"]!.GetValue<long>()));
        var due = schedule.Select(i => i!["dueAt"]!.GetValue<DateTimeOffset>()).ToArray();
        Assert.Equal(due[0].AddMonths(1), due[1]);
        Assert.Equal(due[0].AddMonths(2), due[2]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused);
        Assert.Contains("at least 100.00 USD", problem!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badCount);
        Assert.Contains("3, 6, 12", countProblem!["detail"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(small.OrderId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_payment_started_inline_skips_the_storage_read_of_its_first_activation()
    {
        const int checkouts = 10;
        var sku = await Shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1_500, stock: [("wh-de", checkouts + 1)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var card = await CardAsync(buyer, "4242 4242 4242 4242");
        var body = new { buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 1 } },
            payment = new { method = "card", cardToken = card } };
        async Task<string> PaidCheckoutAsync()
        {
            var (status, created) = await buyer.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), body);
            Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
            // The answer shows the order as the payment left it; reading it again would read it back from storage, since a paid
            // order with nothing left to do leaves memory once its checkout has answered.
            Assert.Equal("awaitingShipment", created!["orders"]![0]!["status"]!.GetValue<string>());
            return created["orders"]![0]!["orderId"]!.GetValue<string>();
        }
        await PaidCheckoutAsync(); // the buyer's, card's, device's and address's risk profiles are active from here on
        var before = await SiloInspection.SettledGrainStateReadsAsync(Shop.Admin);

        for (var i = 0; i < checkouts; i++)
        {
            await PaidCheckoutAsync();
        }
        var read = await SiloInspection.SettledGrainStateReadsAsync(Shop.Admin) - before;

        // Per paid checkout: the order, first activated by its payment's callback (its SKU wrote its state), and the sandbox
        // provider's payment, which cannot know it is new. The shop's payment, registered in the SKU's write and started by this
        // request, reads nothing; were it to read, that would be a third state per checkout.
        Assert.True(read <= 2 * checkouts + checkouts / 2, $"{read} grain states read for {checkouts} paid checkouts");
        Assert.True(read >= checkouts, $"{read} grain states read for {checkouts} paid checkouts: the orders' first activations read theirs");
    }

    [Fact]
    public async Task A_checkout_whose_inline_payment_is_refused_says_why_and_its_order_awaits_a_payment()
    {
        var (sku, buyerId, buyer, card) = await CardBuyerAsync();
        var (status, created) = await buyer.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), new
        {
            buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 2 } },
            payment = new { method = "instalments", cardToken = card, instalments = 7 },
        });

        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        Assert.Empty(created["payments"]!.AsArray());
        var refusal = created["paymentRefusals"]!.AsArray().Single()!;
        Assert.Equal(orderId, refusal["orderId"]!.GetValue<string>());
        Assert.Equal(422, refusal["status"]!.GetValue<int>());
        Assert.Contains("not 7", refusal["detail"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        // The order can still be paid.
        var (paid, payment) = await buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"), new { method = "card", cardToken = card });
        Assert.True(paid is HttpStatusCode.Created or HttpStatusCode.Accepted, $"{paid} {payment}");
        await OrderWhenAsync(orderId, "awaitingShipment");
    }

    [Fact]
    public async Task Checkout_pays_inline_and_a_bad_card_token_is_refused_before_any_stock_is_reserved()
    {
        var (sku, buyerId, buyer, card) = await CardBuyerAsync();
        object Body(object payment) => new { buyerId, currency = "EUR", shipTo = OrderTestShop.Address(), items = new[] { new { skuId = sku, quantity = 2 } }, payment };

        var bad = await buyer.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), Body(new { method = "card", cardToken = "card_nope" }));
        var noMethod = await buyer.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), Body(new { cardToken = card }));
        Assert.Equal(0, await Shop.ReservedAsync(sku));
        var key = OrderTestShop.NewId("key");
        var (status, created) = await buyer.PostWithKeyAsync("/api/v1/checkout", key, Body(new { method = "card", cardToken = card }));
        var (again, replay) = await buyer.PostWithKeyAsync("/api/v1/checkout", key, Body(new { method = "card", cardToken = card }));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        Assert.Equal(HttpStatusCode.BadRequest, noMethod.Status);
        Assert.NotNull(noMethod.Body!["errors"]!["payment.method"]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var inline = created!["payments"]![0]!;
        if (inline["status"]!.GetValue<string>() == "captured")
        {
            Assert.Equal("awaitingShipment", created["orders"]![0]!["status"]!.GetValue<string>());
        }
        else
        {
            Assert.Equal("pending", inline["status"]!.GetValue<string>()); // a slow answer on a busy machine; it settles
        }
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        await OrderWhenAsync(orderId, "awaitingShipment");
        // The payment was registered in the order's placing write, and captured with its authorization: placement and payment
        // are the order's two writes.
        Assert.Equal(["Placed", "PaymentStarted", "Paid"],
            (await Shop.TimelineEventsAsync(orderId)).Where(e => e is "Placed" or "PaymentStarted" or "PaymentAuthorized" or "Paid"));
        await using (var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var version = new Npgsql.NpgsqlCommand("SELECT version FROM grain_state WHERE state_name = 'order' AND grain_id = @id", connection);
            version.Parameters.AddWithValue("id", "order/" + orderId);
            Assert.Equal(2, Convert.ToInt32(await version.ExecuteScalarAsync()));
            // A one-line cart: placed by its SKU, whose write stored the reservation firm, with the order and the checkout's key.
            await using var hold = new Npgsql.NpgsqlCommand("SELECT hold_until IS NULL FROM sku_reservations WHERE reservation_id = @id", connection);
            hold.Parameters.AddWithValue("id", orderId + ":0");
            Assert.Equal(true, await hold.ExecuteScalarAsync());
            if (inline["status"]!.GetValue<string>() == "captured")
            {
                // Straight through: the payment's start (with the risk score), then the provider's captured answer in one write.
                await using var payment = new Npgsql.NpgsqlCommand(
                    "SELECT version FROM grain_state WHERE state_name = 'payment' AND grain_id LIKE '%' || @id", connection);
                payment.Parameters.AddWithValue("id", inline["paymentId"]!.GetValue<string>());
                Assert.Equal(2, Convert.ToInt32(await payment.ExecuteScalarAsync()));
            }
        }
        Assert.Equal(HttpStatusCode.Created, again);
        Assert.Equal(created["payments"]![0]!["paymentId"]!.GetValue<string>(), replay!["payments"]![0]!["paymentId"]!.GetValue<string>());
        Assert.Single((await buyer.GetJsonAsync($"/api/v1/orders/{created["orders"]![0]!["orderId"]}/payments")).Body!["items"]!.AsArray());
    }

    [Fact]
    public async Task A_failed_payment_does_not_stop_the_payment_deadline_from_cancelling_the_order()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4000 0000 0000 0002");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        Assert.Equal("failed", payment!["status"]!.GetValue<string>());

        var moved = await Shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 31 * 60 });
        Assert.Equal(HttpStatusCode.OK, moved.Status);

        await OrderWhenAsync(order.OrderId, "cancelled");
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
    }

    [Fact]
    public async Task A_partial_refund_before_release_comes_out_of_escrow_and_release_splits_what_is_left()
    {
        var order = await OrderAsync(priceMinor: 10_000);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        var before = await Shop.OrderAsync(order.OrderId);
        var charged = Charged(before);

        var key = OrderTestShop.NewId("refund");
        var (status, refund) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", key,
            new { amount = new { amountMinor = 3_000, currency = "USD" }, reason = "one item arrived damaged" });
        var (again, _) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", key,
            new { amount = new { amountMinor = 3_000, currency = "USD" }, reason = "one item arrived damaged" });
        var (tooMuch, _) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = charged, currency = "USD" } });
        var (byBuyer, _) = await order.Buyer.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"), new { });
        var (wrongCurrency, _) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 100, currency = "EUR" } });

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {refund}");
        Assert.Equal(3_000, refund!["amount"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch);
        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongCurrency);
        var refunded = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["refunded"]!["amountMinor"]!.GetValue<long>() > 0, "the refund to reach the buyer");
        Assert.Equal(refund["buyerAmount"]!["amountMinor"]!.GetValue<long>(), refunded["refunded"]!["amountMinor"]!.GetValue<long>());
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{order.OrderId}/refunds")).Body!,
            r => r["items"]![0]!["status"]!.GetValue<string>() == "succeeded", "the order to hear the refund succeeded");
        Assert.Equal(charged - 3_000, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        Assert.Equal("awaitingShipment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());

        await Shop.ActAsync(order.Seller, order.OrderId, "ship", new { carrier = "DHL", trackingNumber = "RF1" });
        await Shop.ActAsync(order.Buyer, order.OrderId, "confirm-receipt");

        var released = await LedgerAsync(order.SellerId);
        Assert.Equal(0, Account(released, $"escrow:{order.OrderId}", "pendingIn"));
        Assert.Equal(0, Account(released, $"escrow:{order.OrderId}", "posted"));
        var legs = new[] { "platform:commission:USD", "platform:logistics:USD", "tax:payable:DE:USD", "seller:pending:USD" }.Sum(a => Account(released, a, "posted"));
        Assert.Equal(charged - 3_000, legs);
        Assert.Equal(0, released["accounts"]!.AsArray().Sum(a => a!["posted"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_return_soon_after_completion_is_paid_from_the_sales_own_net_while_it_matures()
    {
        // R-SET-3 after release (R-SET-1: the seller's net waits T+N in pending): a seller with nothing available and no
        // deposit was refused (409) until the sale's own money matured, though it sat in the books.
        var order = await OrderAsync(priceMinor: 10_000);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        await Shop.ActAsync(order.Seller, order.OrderId, "ship", new { carrier = "DHL", trackingNumber = "RT1" });
        await Shop.ActAsync(order.Buyer, order.OrderId, "confirm-receipt");
        var released = await LedgerAsync(order.SellerId);
        var pending = Account(released, "seller:pending:USD", "posted");
        Assert.True(pending > 3_000, $"pending {pending}");
        Assert.Equal(0, Account(released, "seller:available:USD", "posted"));
        Assert.Equal(0, Account(released, "seller:deposit:USD", "posted"));

        // The IOSS statement row of the order's destination (the tax account is tax:payable:{country}:USD).
        var country = released["accounts"]!.AsArray().Select(a => a!["accountId"]!.GetValue<string>()).Single(a => a.StartsWith("tax:payable:", StringComparison.Ordinal)).Split(':')[2];
        async Task<JsonNode> Ioss() => (await Shop.Admin.GetJsonAsync("/api/v1/tax/ioss-statement")).Body!.AsArray()
            .Single(r => r!["country"]!.GetValue<string>() == country && r["currency"]!.GetValue<string>() == "USD")!;
        var declared = await Ioss();

        var (status, refund) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 3_000, currency = "USD" }, reason = "returned" });

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {refund}");
        // The platform gives back its commission and the VAT in proportion (rounded down); the seller the rest.
        var charged = Charged(await Shop.OrderAsync(order.OrderId));
        var (commission, tax) = (Account(released, "platform:commission:USD", "posted"), TaxPayable(released));
        Assert.True(commission > 0 && tax > 0, $"commission {commission}, tax {tax}");
        var after = await LedgerAsync(order.SellerId);
        Assert.Equal(commission - 3_000 * commission / charged, Account(after, "platform:commission:USD", "posted"));
        Assert.Equal(tax - 3_000 * tax / charged, TaxPayable(after));
        Assert.Equal(pending - (3_000 - 3_000 * commission / charged - 3_000 * tax / charged), Account(after, "seller:pending:USD", "posted"));
        Assert.Equal(3_000, Account(after, "psp:refunds:USD", "posted"));
        // The IOSS return declares the VAT given back that much less, in the period of the refund; the release still counts.
        var redeclared = await Ioss();
        Assert.Equal(declared["amountMinor"]!.GetValue<long>() - 3_000 * tax / charged, redeclared["amountMinor"]!.GetValue<long>());
        Assert.Equal(declared["refundedMinor"]!.GetValue<long>() + 3_000 * tax / charged, redeclared["refundedMinor"]!.GetValue<long>());
        Assert.Equal(declared["orders"]!.GetValue<long>(), redeclared["orders"]!.GetValue<long>());
        Assert.Equal(0, after["accounts"]!.AsArray().Sum(a => a!["posted"]!.GetValue<long>()));
        var refunded = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["refunded"]!["amountMinor"]!.GetValue<long>() > 0, "the refund to reach the buyer");
        Assert.Equal(refund!["buyerAmount"]!["amountMinor"]!.GetValue<long>(), refunded["refunded"]!["amountMinor"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_refund_whose_booking_was_cut_off_is_booked_by_the_order_without_its_client_retrying()
    {
        var order = await OrderAsync(priceMinor: 10_000);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        var charged = Charged(await Shop.OrderAsync(order.OrderId));
        // The seller's ledger cannot store this order's refund for a moment: the request's intent is stored, its booking fails.
        await SiloStorage.Postgres(fixture.ConnectionString).ExecuteAsync($"""
            CREATE FUNCTION refuse_refund() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger hiccup'; END $$;
            CREATE TRIGGER refuse_refund BEFORE INSERT ON ledger_transfers FOR EACH ROW
                WHEN (NEW.transfer_id LIKE '{order.OrderId}:refund%') EXECUTE FUNCTION refuse_refund();
            """);
        var (status, problem) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 3_000, currency = "USD" }, reason = "damaged" });
        Assert.True((int)status >= 500, $"{status} {problem}");
        await SiloStorage.Postgres(fixture.ConnectionString).ExecuteAsync("DROP TRIGGER refuse_refund ON ledger_transfers; DROP FUNCTION refuse_refund()");

        // Nobody retries: the order books it itself, and the buyer gets the money back.
        await Eventually.ReadAsync(() => LedgerAsync(order.SellerId), l => Account(l, $"escrow:{order.OrderId}", "pendingIn") == charged - 3_000,
            "the order to book the refund", TimeSpan.FromSeconds(30));
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["refunded"]!["amountMinor"]!.GetValue<long>() > 0, "the refund to reach the buyer", TimeSpan.FromSeconds(30));
        await Shop.ActAsync(order.Seller, order.OrderId, "ship", new { carrier = "DHL", trackingNumber = "RF7" });
        await Shop.ActAsync(order.Buyer, order.OrderId, "confirm-receipt");
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
    }

    [Fact]
    public async Task A_refund_of_a_paid_order_whose_escrow_hold_was_cut_off_books_the_hold_first_instead_of_refusing()
    {
        // Found by SIGKILLing a silo under load: a payment retried after the crash answered 201 captured (the order paid), but the
        // order's escrow hold, a step carried out after its write, had not reached the seller's ledger yet; a refund asked for
        // then was refused for good (422 "the ledger holds less"), though the money was paid and held a moment later (R-SET-3).
        var order = await OrderAsync(priceMinor: 10_000);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var storage = SiloStorage.Postgres(fixture.ConnectionString);
        // The seller's ledger cannot store this order's hold for a moment, as when the silo dies between the order's write and it.
        await storage.ExecuteAsync($"""
            CREATE FUNCTION refuse_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger hiccup'; END $$;
            CREATE TRIGGER refuse_hold BEFORE INSERT ON ledger_transfers FOR EACH ROW
                WHEN (NEW.transfer_id = '{order.OrderId}:escrow') EXECUTE FUNCTION refuse_hold();
            """);
        var (paid, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        Assert.True(paid == HttpStatusCode.Created, $"{paid} {payment}");
        Assert.Equal("awaitingShipment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        await storage.ExecuteAsync("DROP TRIGGER refuse_hold ON ledger_transfers; DROP FUNCTION refuse_hold()");

        var (status, refund) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 3_000, currency = "USD" }, reason = "damaged" });

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {refund}");
        var charged = Charged(await Shop.OrderAsync(order.OrderId));
        Assert.Equal(charged - 3_000, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{payment!["paymentId"]}")).Body!,
            p => p["refunded"]!["amountMinor"]!.GetValue<long>() > 0, "the refund to reach the buyer", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_refund_worth_less_than_a_cent_of_the_buyers_currency_is_refused_and_books_nothing()
    {
        // Priced in yen, paid in dollars: 1 JPY is less than a US cent, so the buyer's share would be 0, which no provider
        // refunds. Booked anyway, it came out of escrow, then failed at the payment, and the escrow could never be released.
        var order = await OrderAsync(priceMinor: 1_000, sellerCurrency: "JPY", buyerCurrency: "USD");
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        await PayAsync(order, new { method = "card", cardToken = card });
        var charged = Charged(await Shop.OrderAsync(order.OrderId));

        var (status, problem) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 1, currency = "JPY" }, reason = "tiny" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("USD", problem!["detail"]!.GetValue<string>());
        Assert.Empty((await Shop.Admin.GetJsonAsync($"/api/v1/orders/{order.OrderId}/refunds")).Body!["items"]!.AsArray());
        Assert.Equal(charged, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        await Shop.ActAsync(order.Seller, order.OrderId, "ship", new { carrier = "DHL", trackingNumber = "RF9" });
        await Shop.ActAsync(order.Buyer, order.OrderId, "confirm-receipt");
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
    }

    [Fact]
    public async Task A_full_refund_before_shipment_cancels_the_order_returns_the_stock_and_refunds_the_payment()
    {
        var order = await OrderAsync(priceMinor: 4_000, quantity: 2);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        Assert.Equal(2, await Shop.ReservedAsync(order.SkuId));

        var (status, refund) = await Shop.Admin.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"), new { reason = "out of stock at the seller" });

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {refund}");
        Assert.Equal("cancelled", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, await Shop.ReservedAsync(order.SkuId));
        var refunded = await PaymentWhenAsync(payment!["paymentId"]!.GetValue<string>(), "refunded");
        Assert.Equal(refunded["amount"]!["amountMinor"]!.GetValue<long>(), refunded["refunded"]!["amountMinor"]!.GetValue<long>());
        var ledger = await LedgerAsync(order.SellerId);
        Assert.Equal(0, Account(ledger, $"escrow:{order.OrderId}", "pendingIn"));
        Assert.Equal(0, Account(ledger, "seller:pending:USD", "posted"));
        var (again, _) = await Shop.Admin.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"), new { });
        Assert.Equal(HttpStatusCode.Conflict, again);
    }

    [Fact]
    public async Task Cancelling_a_paid_order_voids_the_escrow_and_sends_the_whole_payment_back()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });

        await Shop.ActAsync(order.Buyer, order.OrderId, "cancel", new { reason = "changed my mind" });

        var refunded = await PaymentWhenAsync(payment!["paymentId"]!.GetValue<string>(), "refunded");
        Assert.Equal(refunded["amount"]!["amountMinor"]!.GetValue<long>(), refunded["refunded"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{order.OrderId}/refunds")).Body!,
            r => r["items"]!.AsArray().Count == 1 && r["items"]![0]!["status"]!.GetValue<string>() == "succeeded", "the cancellation refund");
    }

    [Fact]
    public async Task A_refund_after_release_beyond_the_orders_maturing_net_needs_seller_funds_and_comes_from_the_deposit_when_nothing_is_available()
    {
        var order = await OrderAsync(priceMinor: 5_000);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        await PayAsync(order, new { method = "card", cardToken = card });
        await Shop.ActAsync(order.Seller, order.OrderId, "ship", new { carrier = "DHL", trackingNumber = "RF2" });
        await Shop.ActAsync(order.Buyer, order.OrderId, "confirm-receipt");
        var charged = Charged(await Shop.OrderAsync(order.OrderId));
        var released = await LedgerAsync(order.SellerId);
        var logistics = Account(released, "platform:logistics:USD", "posted"); // the price less commission, VAT and this
        Assert.True(logistics > 0, $"logistics fee {logistics}");

        // The whole price back: the platform gives back its commission and the VAT, but the parcel was carried, so the seller
        // is charged its net and the logistics fee; the order's own net covers only the first, and the seller has nothing else.
        var (short_, problem) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = charged, currency = "USD" } });
        Assert.Equal(HttpStatusCode.Conflict, short_);
        Assert.Contains("deposit", problem!["detail"]!.GetValue<string>());

        var deposit = await Shop.Admin.PostJsonAsync($"/api/v1/sellers/{order.SellerId}/deposits",
            new { depositId = OrderTestShop.NewId("dep"), amount = new { amountMinor = 2_000, currency = "USD" } });
        Assert.True(deposit.Status is HttpStatusCode.OK or HttpStatusCode.Created, $"{deposit.Status} {deposit.Body}");
        var (status, refund) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = charged, currency = "USD" } });

        Assert.True(status == HttpStatusCode.Accepted, $"{status} {refund}");
        var ledger = await LedgerAsync(order.SellerId);
        Assert.Equal(0, Account(ledger, "seller:pending:USD", "posted"));
        Assert.Equal(2_000 - logistics, Account(ledger, "seller:deposit:USD", "posted"));
        Assert.Equal(0, Account(ledger, "platform:commission:USD", "posted"));
        Assert.Equal(0, TaxPayable(ledger));
        Assert.Equal("closed", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>()); // refunded in full
        Assert.Equal(0, ledger["accounts"]!.AsArray().Sum(a => a!["posted"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_webhook_with_a_forged_signature_is_refused()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4000 0000 0000 3220");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        using var anonymous = Silo.CreateClient();
        var body = $"{{\"eventId\":\"evt_forged\",\"reference\":\"{payment!["paymentId"]}\",\"status\":\"captured\"}}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/payments/webhooks/sandbox") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Sandbox-Signature", $"t={DateTimeOffset.UtcNow.ToUnixTimeSeconds()},v1={new string('0', 64)}");

        using var response = await anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("requiresAction", (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{payment["paymentId"]}")).Body!["status"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
    }

    /// <summary>
    /// A refund the provider refuses for good (the sandbox takes at most 100 refunds of one payment; a real provider refuses a
    /// refund past its time limit) fails and opens a ticket to pay it back by hand. It was asked again and again (thousands of
    /// calls and error logs a minute), stayed pending on the order with nobody told, and held up every later refund of the
    /// payment, while the seller's ledger had already given the money back.
    /// </summary>
    [Fact]
    public async Task A_refund_the_provider_refuses_for_good_fails_with_a_ticket_instead_of_being_asked_for_ever()
    {
        var order = await OrderAsync(priceMinor: 10_000);
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        Assert.Equal("captured", payment!["status"]!.GetValue<string>());

        for (var i = 0; i < 101; i++)
        {
            var (status, refund) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
                new { amount = new { amountMinor = 2, currency = "USD" }, reason = $"goodwill {i}" });
            Assert.True(status == HttpStatusCode.Accepted, $"refund {i}: {status} {refund}");
        }

        var refunds = await Eventually.ReadAsync(async () => (await order.Seller.GetJsonAsync($"/api/v1/orders/{order.OrderId}/refunds")).Body!,
            r => r["items"]!.AsArray().All(x => x!["status"]!.GetValue<string>() != "pending"), "every refund to settle", TimeSpan.FromSeconds(300));
        var statuses = refunds["items"]!.AsArray().Select(x => x!["status"]!.GetValue<string>()).ToArray();
        Assert.Equal(100, statuses.Count(s => s == "succeeded"));
        Assert.Equal(1, statuses.Count(s => s == "failed"));
        Assert.Contains("RefundFailed", await Shop.TimelineEventsAsync(order.OrderId));
        var tickets = await Silo.Storage.ScalarAsync("SELECT count(*) FROM service_tickets WHERE order_id = @order AND kind = 'RefundFailed'", "order", order.OrderId);
        Assert.Equal(1L, Convert.ToInt64(tickets));
    }

    /// <summary>
    /// The webhook is anonymous and takes at most 64 KB: a body sent in chunks (no Content-Length) past that is refused once it
    /// passes the limit. Read to its end first, 16 such bodies of 29 MB held 750 MB of the silo's memory before being refused.
    /// </summary>
    [Fact]
    public async Task A_chunked_webhook_body_past_its_limit_is_refused_without_reading_the_rest()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Silo.HttpPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /api/v1/payments/webhooks/sandbox HTTP/1.1\r\n" +
            $"Host: 127.0.0.1:{Silo.HttpPort}\r\nContent-Type: application/json\r\n" +
            $"Sandbox-Signature: t={DateTimeOffset.UtcNow.ToUnixTimeSeconds()},v1={new string('0', 64)}\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var chunk = new byte[16 * 1024];
        Array.Fill(chunk, (byte)'x');
        byte[] framed = [.. Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"), .. chunk, .. "\r\n"u8];
        for (var i = 0; i < 8; i++)
        {
            await stream.WriteAsync(framed); // 128 KB so far, and the body goes on (its last chunk is never sent)
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync(timeout.Token);

        Assert.StartsWith("HTTP/1.1 400", statusLine);
    }

    /// <summary>Signs and POSTs a sandbox event about <paramref name="payment"/> (the sandbox's view of it) as the provider would.</summary>
    private async Task<(HttpStatusCode Status, JsonNode? Body)> DeliverWebhookAsync(JsonObject payment, JsonObject? refund = null)
    {
        var body = new JsonObject
        {
            ["eventId"] = $"evt_{Guid.NewGuid():N}",
            ["type"] = refund is null ? $"payment.{payment["status"]}" : $"refund.{refund["status"]}",
            ["createdAt"] = DateTimeOffset.UtcNow,
            ["payment"] = payment.DeepClone(),
            ["refund"] = refund?.DeepClone(),
        }.ToJsonString();
        using var provider = Silo.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/payments/webhooks/sandbox") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Sandbox-Signature", Orleans.Trade.Payments.Sandbox.SandboxSignature.Sign(PaymentsSiloFixture.WebhookSecret,
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Encoding.UTF8.GetBytes(body)));
        using var response = await provider.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    /// <summary>The sandbox's own view of our payment, as its webhooks carry it.</summary>
    private async Task<JsonObject> AtProviderAsync(string paymentId)
    {
        using var sandbox = Sandbox();
        var (status, view) = await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}");
        Assert.True(status == HttpStatusCode.OK, $"{status} {view}");
        return view!.AsObject();
    }

    [Fact]
    public async Task A_signed_webhook_is_acknowledged_as_known_for_our_payment_and_as_unknown_for_any_other_reference()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4242 4242 4242 4242");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        Assert.Equal("captured", payment["status"]!.GetValue<string>());
        var atProvider = await AtProviderAsync(paymentId);

        async Task<JsonNode> DeliverAsync(string reference)
        {
            var view = atProvider.DeepClone().AsObject();
            view["reference"] = reference;
            var (status, ack) = await DeliverWebhookAsync(view);
            Assert.True(status == HttpStatusCode.OK, $"{status} {ack}");
            return ack!;
        }

        var ours = await DeliverAsync(paymentId);
        var unknown = await DeliverAsync(Ulid.NewUlid().ToString());
        var notAnId = await DeliverAsync("not-a-payment-id");

        Assert.True(ours["known"]!.GetValue<bool>());
        Assert.False(unknown["known"]!.GetValue<bool>());
        Assert.False(notAnId["known"]!.GetValue<bool>());
        // An event telling what the payment already knows changes nothing.
        Assert.Equal("captured", (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());
        Assert.Equal("awaitingShipment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
    }

    /// <summary>
    /// A signed event whose money is not the payment's (another amount or currency, a capture of part of it) or that names
    /// another provider payment is refused (422) and changes nothing: applied, it marked a 3-D Secure payment of 21.90 EUR
    /// captured on an event saying 0.01 USD was taken, and the order paid in full with the whole amount in escrow.
    /// </summary>
    [Fact]
    public async Task A_signed_webhook_whose_money_or_provider_payment_is_not_the_payments_is_refused_and_changes_nothing()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4000 0000 0000 3220");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        Assert.Equal("requiresAction", payment["status"]!.GetValue<string>());
        var atProvider = await AtProviderAsync(paymentId);
        var amount = atProvider["amount"]!["amountMinor"]!.GetValue<long>();
        var currency = atProvider["amount"]!["currency"]!.GetValue<string>();

        JsonObject Captured(long amountMinor, string amountCurrency, long capturedMinor, string? providerPaymentId = null)
        {
            var view = atProvider.DeepClone().AsObject();
            view["status"] = "captured";
            view["amount"] = new JsonObject { ["amountMinor"] = amountMinor, ["currency"] = amountCurrency };
            view["capturedMinor"] = capturedMinor;
            view["actionUrl"] = null;
            if (providerPaymentId is not null) view["providerPaymentId"] = providerPaymentId;
            return view;
        }

        foreach (var (what, view) in new[]
        {
            ("another amount and currency", Captured(1, "USD", 1)),
            ("another currency", Captured(amount, currency == "USD" ? "EUR" : "USD", amount)),
            ("part of the amount captured", Captured(amount, currency, amount - 1)),
            ("another provider payment", Captured(amount, currency, amount, "psp_someone_else")),
        })
        {
            var (status, body) = await DeliverWebhookAsync(view);
            Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{what}: {status} {body}");
            Assert.Equal(422, body!["status"]!.GetValue<int>());
        }

        Assert.Equal("requiresAction", (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await Shop.OrderAsync(order.OrderId))["status"]!.GetValue<string>());
        Assert.Equal(0, Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));

        // The genuine events still pay the order.
        using var sandbox = Sandbox();
        var pass = await sandbox.PostJsonAsync(payment["actionUrl"]!.GetValue<string>(), new { result = "pass" });
        Assert.True(pass.Status == HttpStatusCode.OK, $"{pass.Status} {pass.Body}");
        await PaymentWhenAsync(paymentId, "captured");
        var paid = await OrderWhenAsync(order.OrderId, "awaitingShipment");
        Assert.Equal(Charged(paid), Account(await LedgerAsync(order.SellerId), $"escrow:{order.OrderId}", "pendingIn"));
    }

    /// <summary>
    /// A signed refund event whose amount is not the refund's (or that does not say it) is refused (422) and the refund stays
    /// pending; applied, an event saying 0.01 was returned settled a refund of 5.00 as succeeded in full, on the payment and on
    /// the order. The refund is held pending by a provider that refuses it meanwhile: the test's signed event captured a
    /// 3-D Secure payment that the sandbox still holds open, so the sandbox answers the refund 409 and the payment asks again.
    /// </summary>
    [Fact]
    public async Task A_signed_refund_event_whose_amount_is_not_the_refunds_is_refused_and_the_refund_stays_pending()
    {
        var order = await OrderAsync();
        var card = await CardAsync(order.Buyer, "4000 0000 0000 3220");
        var (_, payment) = await PayAsync(order, new { method = "card", cardToken = card });
        var paymentId = payment!["paymentId"]!.GetValue<string>();
        var atProvider = await AtProviderAsync(paymentId);
        var captured = atProvider.DeepClone().AsObject();
        captured["status"] = "captured";
        captured["capturedMinor"] = atProvider["amount"]!["amountMinor"]!.GetValue<long>();
        captured["actionUrl"] = null;
        var delivered = await DeliverWebhookAsync(captured);
        Assert.True(delivered.Status == HttpStatusCode.OK, $"{delivered.Status} {delivered.Body}");
        await OrderWhenAsync(order.OrderId, "awaitingShipment");

        var (status, accepted) = await order.Seller.PostWithKeyAsync($"/api/v1/orders/{order.OrderId}/refunds", OrderTestShop.NewId("refund"),
            new { amount = new { amountMinor = 500, currency = "USD" }, reason = "one part missing" });
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {accepted}");
        var refundId = accepted!["refundId"]!.GetValue<string>();
        var asked = await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["refunds"]!.AsArray().Any(r => r!["refundId"]!.GetValue<string>() == refundId), "the payment to hold the refund");
        var amount = asked["refunds"]!.AsArray().Single(r => r!["refundId"]!.GetValue<string>() == refundId)!["amount"]!.AsObject();

        JsonObject Refund(JsonNode? returned) => new()
        {
            ["refundId"] = refundId, ["providerRefundId"] = "re_test", ["status"] = "succeeded", ["amount"] = returned?.DeepClone(),
            ["createdAt"] = DateTimeOffset.UtcNow,
        };
        foreach (var (what, refund) in new[]
        {
            ("one minor unit returned", Refund(new JsonObject { ["amountMinor"] = 1, ["currency"] = amount["currency"]!.GetValue<string>() })),
            ("another currency", Refund(new JsonObject { ["amountMinor"] = amount["amountMinor"]!.GetValue<long>(), ["currency"] = "JPY" })),
            ("no amount", Refund(null)),
        })
        {
            var (refused, problem) = await DeliverWebhookAsync(captured, refund);
            Assert.True(refused == HttpStatusCode.UnprocessableEntity, $"{what}: {refused} {problem}");
        }

        var after = (await Shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!;
        Assert.Equal("pending", after["refunds"]!.AsArray().Single(r => r!["refundId"]!.GetValue<string>() == refundId)!["status"]!.GetValue<string>());
        Assert.Equal(0, after["refunded"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal("pending", (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{order.OrderId}/refunds")).Body!["items"]![0]!["status"]!.GetValue<string>());

        // The event that says what was asked settles it.
        var genuine = await DeliverWebhookAsync(captured, Refund(amount));
        Assert.True(genuine.Status == HttpStatusCode.OK, $"{genuine.Status} {genuine.Body}");
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{order.OrderId}/refunds")).Body!,
            r => r["items"]![0]!["status"]!.GetValue<string>() == "succeeded", "the refund to succeed");
    }
}
