using System.Text.Json.Nodes;
using System.Net;
using System.Net.Http.Headers;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Payments;

/// <summary>
/// A silo process on PostgreSQL whose sandbox webhooks never arrive (the URL is a port nobody listens on): a payment that waited
/// on the buyer learns the outcome by asking the provider when the order's payment deadline passes.
/// </summary>
public sealed class LostWebhookTests
{
    private const string SandboxKey = "sandbox-test-key-lost-webhooks";

    private static async Task<SiloProcess> StartSilo(string deadlineCheckPeriod = "00:00:01") =>
        await SiloProcess.StartAsync(SiloStorage.Postgres(await PostgresServer.CreateDatabaseAsync("lostwebhooks")),
            "lost-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = deadlineCheckPeriod,
                ["Payments__ReconcilePeriod"] = "00:00:00.500",
                ["Payments__Sandbox__ApiKey"] = SandboxKey,
                ["Payments__Sandbox__WebhookUrl"] = $"http://127.0.0.1:{FreePorts.Next()}/nobody-listens",
            });

    /// <summary>An order of one unit paid with a card that asks for 3-D Secure: the payment waits on the buyer (202).</summary>
    private static async Task<(OrderTestShop Shop, string OrderId, JsonNode Payment)> PayWithThreeDSecureAsync(SiloProcess silo)
    {
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 })).Status);
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 2_000, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (_, token) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards", new { number = "4000 0000 0000 3220", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        var (status, payment) = await buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "card", cardToken = token!["token"]!.GetValue<string>() });
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {payment}");
        return (shop, orderId, payment!);
    }

    [Fact]
    public async Task A_buyer_who_tries_three_d_secure_after_the_deadline_finds_the_challenge_closed_and_is_charged_nothing()
    {
        await using var silo = await StartSilo();
        var (shop, orderId, payment) = await PayWithThreeDSecureAsync(silo);
        var paymentId = payment["paymentId"]!.GetValue<string>();

        // The deadline passes first: the order cancels, and its open attempt asks the provider (nothing yet), then is voided.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromMinutes(31).TotalSeconds })).Status);
        await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "cancelled", "the order to cancel");
        await Eventually.ReadAsync(async () => (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["status"]!.GetValue<string>() == "voided", "the open attempt to be voided");

        // The buyer comes back to the challenge late: the provider no longer takes it, and nothing was captured.
        using var sandbox = silo.CreateClient(apiKey: null);
        sandbox.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SandboxKey);
        var pass = await sandbox.PostJsonAsync(payment["actionUrl"]!.GetValue<string>(), new { result = "pass" });
        Assert.True(pass.Status == HttpStatusCode.Conflict, $"{pass.Status} {pass.Body}");
        var atProvider = (await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}")).Body!;
        Assert.Equal("voided", atProvider["status"]!.GetValue<string>());
        Assert.Equal(0, atProvider["capturedMinor"]!.GetValue<long>());
        Assert.Equal("cancelled", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
    }

    /// <summary>
    /// The buyer passes the challenge (the provider takes the money, its webhook is lost), then cancels the order: the void
    /// comes too late, so the payment asks where it stands, finds the money taken, and the cancelled order gives it back. With
    /// nothing asking (before 7 December only the payment deadline did, and a cancelled order has none), the money was kept.
    /// </summary>
    [Fact]
    public async Task A_buyer_who_cancels_after_passing_three_d_secure_whose_webhook_was_lost_gets_the_money_back()
    {
        await using var silo = await StartSilo();
        var (shop, orderId, payment) = await PayWithThreeDSecureAsync(silo);
        var paymentId = payment["paymentId"]!.GetValue<string>();
        using var sandbox = silo.CreateClient(apiKey: null);
        sandbox.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SandboxKey);
        var pass = await sandbox.PostJsonAsync(payment["actionUrl"]!.GetValue<string>(), new { result = "pass" });
        Assert.True(pass.Status == HttpStatusCode.OK, $"{pass.Status} {pass.Body}");
        Assert.Equal("captured", pass.Body!["status"]!.GetValue<string>());
        var order = await shop.OrderAsync(orderId);
        using var buyer = await shop.KeyAsync("buyer", order["buyerId"]!.GetValue<string>());

        await shop.ActAsync(buyer, orderId, "cancel", new { reason = "changed my mind" });

        var atProvider = await Eventually.ReadAsync(async () => (await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}")).Body!,
            p => p["refundedMinor"]!.GetValue<long>() > 0, "the captured money to go back to the buyer", TimeSpan.FromSeconds(30));
        Assert.Equal(atProvider["capturedMinor"]!.GetValue<long>(), atProvider["refundedMinor"]!.GetValue<long>());
        var refunded = await Eventually.ReadAsync(async () => (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["status"]!.GetValue<string>() == "refunded", "the payment to say the money went back");
        Assert.Contains(refunded["history"]!.AsArray(), h => h!["event"]!.GetValue<string>() == "RefusedByOrder");
        Assert.Equal("cancelled", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
    }

    /// <summary>
    /// The buyer passes the challenge in time and the provider takes the money, but its webhook is lost: at the payment deadline
    /// the order asks its open attempt to look the payment up and waits for the answer, so the order is paid, not cancelled.
    /// Before 8 December it cancelled in the same turn it asked (the answer came after), and the money the buyer paid within
    /// the window was always given back and the stock released.
    /// </summary>
    [Fact]
    public async Task A_three_d_secure_payment_captured_in_time_whose_webhook_was_lost_pays_the_order_at_the_deadline()
    {
        await using var silo = await StartSilo();
        var (shop, orderId, payment) = await PayWithThreeDSecureAsync(silo);
        Assert.Equal("requiresAction", payment["status"]!.GetValue<string>());
        var paymentId = payment["paymentId"]!.GetValue<string>();

        // The buyer passes the challenge and the provider takes the money; its webhook never arrives.
        using var sandbox = silo.CreateClient(apiKey: null);
        sandbox.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SandboxKey);
        var pass = await sandbox.PostJsonAsync(payment["actionUrl"]!.GetValue<string>(), new { result = "pass" });
        Assert.True(pass.Status == HttpStatusCode.OK, $"{pass.Status} {pass.Body}");
        Assert.Equal("captured", pass.Body!["status"]!.GetValue<string>());
        Assert.Equal("requiresAction", (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());

        // At the payment deadline the open attempt asks the provider, finds the money taken, and pays the order.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromMinutes(31).TotalSeconds })).Status);
        var paid = await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() != "awaitingPayment",
            "the order to leave awaiting payment");
        Assert.Equal("awaitingShipment", paid["status"]!.GetValue<string>());
        Assert.Equal(paymentId, paid["paidBy"]!.GetValue<string>());
        var captured = (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!;
        Assert.Equal("captured", captured["status"]!.GetValue<string>());
        // Well past the wait for the lookup, it stays paid and nothing went back to the buyer.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 5 })).Status);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("awaitingShipment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        var atProvider = (await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}")).Body!;
        Assert.Equal(0, atProvider["refundedMinor"]!.GetValue<long>());
    }

    /// <summary>
    /// While the order waits for its open attempts' lookups past the deadline, no other payment is taken: an admin's manual
    /// confirmation is refused as it would be once the order is cancelled (here the sweeper comes every ten minutes, so the
    /// confirmation meets the deadline first and starts the wait).
    /// </summary>
    [Fact]
    public async Task Past_the_deadline_a_manual_confirmation_is_refused_while_the_open_attempts_are_looked_up()
    {
        await using var silo = await StartSilo(deadlineCheckPeriod: "00:10:00");
        var (shop, orderId, _) = await PayWithThreeDSecureAsync(silo);
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromMinutes(31).TotalSeconds })).Status);

        var refused = await shop.ActAsync(shop.Admin, orderId, "payment-confirmations", expected: HttpStatusCode.Conflict);

        Assert.Equal("awaitingPayment", refused["currentStatus"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
    }
}
