using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Payments;

/// <summary>
/// A silo SIGKILLed while a card authorization is in flight: the provider has authorized (its record is durable) but our payment
/// has stored only its start, and no reminder exists for it. After a restart the payment must finish on its own, soon (not at the
/// order's payment deadline), charging the buyer once: authorized again under the same key, captured once, the order paid.
/// </summary>
public sealed class PaymentCrashTests
{
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task A_payment_cut_off_between_the_providers_authorization_and_its_capture_finishes_after_a_restart_charging_once(
        bool captureWithAuthorization, bool afterRestart)
    {
        var connection = await PostgresServer.CreateDatabaseAsync("payment_crash");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connection), "payment-crash-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
                ["Deadlines__Period"] = "00:00:01",
                ["Payments__ResumeStalledAfter"] = "00:00:02",
                // Captured in the authorizing request (the default), or authorized, locked by the order, then captured.
                ["Payments__CaptureWithAuthorization"] = captureWithAuthorization ? "true" : "false",
                ["Payments__Sandbox__ApiKey"] = PaymentsSiloFixture.SandboxKey,
                // The slow card is recorded at once and answered after 8 s; the adapter waits 20 s, so the kill lands mid-call.
                ["Payments__Sandbox__RequestTimeout"] = "00:00:20",
                ["Payments__Sandbox__SlowResponseDelay"] = "00:00:08",
                // The provider's webhooks go nowhere: our side must recover by itself, not because the provider tells it.
                ["Payments__Sandbox__WebhookUrl"] = $"http://127.0.0.1:{FreePorts.Next()}/nobody-listens",
            });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var policy = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 101, blockThreshold = 101 });
        Assert.True(policy.Status == HttpStatusCode.OK, $"{policy.Status} {policy.Body}");

        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        var (tokenStatus, token) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4000 0000 0000 0119", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(tokenStatus == HttpStatusCode.Created, $"{tokenStatus} {token}");

        // The buyer pays; the call never gets its answer, because the silo dies while the provider sits on it.
        var paying = buyer.PostWithKeyAsync($"/api/v1/orders/{orderId}/payments", OrderTestShop.NewId("pay"),
            new { method = "card", cardToken = token!["token"]!.GetValue<string>() });
        await using (var db = new Npgsql.NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            // The provider records the slow card first and answers 8 s later, so however long the first payment of a fresh silo
            // takes to reach it (JIT, the risk model's first scoring), the kill below still comes before the answer.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            long recorded;
            do
            {
                await Task.Delay(50);
                await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM grain_state WHERE state_name = 'sandboxPspPayment'", db);
                recorded = (long)(await count.ExecuteScalarAsync())!;
            }
            while (recorded == 0 && DateTime.UtcNow < deadline);
            Assert.True(recorded == 1, "the provider should have recorded the authorization (it answers the slow card after 8 s)");
            await using var ours = new Npgsql.NpgsqlCommand("SELECT count(*) FROM grain_state WHERE state_name = 'payment'", db);
            Assert.Equal(1L, (long)(await ours.ExecuteScalarAsync())!);
            await using var reminders = new Npgsql.NpgsqlCommand("SELECT count(*) FROM orleansreminderstable WHERE grainid LIKE 'payment/%'", db);
            Assert.Equal(0L, (long)(await reminders.ExecuteScalarAsync())!);
        }
        silo.Kill();
        await Assert.ThrowsAnyAsync<Exception>(() => paying);

        // The setting may change across the restart: the payment repeats the request it made (same key, same capture choice),
        // or the provider would refuse the key for a different request.
        silo.ExtraEnvironment["Payments__CaptureWithAuthorization"] = afterRestart ? "true" : "false";
        await silo.StartAsync();
        // Nothing reads the payment (that would activate it and so resume it): it must come back by itself, well before the
        // order's payment deadline (hours away), and pay the order.
        var paid = await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment",
            $"order {orderId} to be paid after the restart", TimeSpan.FromSeconds(60));
        var listed = await shop.Admin.GetJsonAsync($"/api/v1/orders/{orderId}/payments");
        Assert.True(listed.Status == HttpStatusCode.OK, $"{listed.Status} {listed.Body}");
        var payment = Assert.Single(listed.Body!["items"]!.AsArray())!;
        var paymentId = payment["paymentId"]!.GetValue<string>();
        Assert.Equal(paymentId, paid["paidBy"]!.GetValue<string>());
        Assert.Equal("captured", payment["status"]!.GetValue<string>());
        Assert.Single(payment["history"]!.AsArray(), h => h!["event"]!.GetValue<string>() == "Captured");
        // Two-step: the provider's authorization, then the order's lock, then the capture; at once: only the capture.
        Assert.Equal(!captureWithAuthorization, payment["history"]!.AsArray().Any(h => h!["event"]!.GetValue<string>() == "Authorized"));
        Assert.Equal(!captureWithAuthorization, (await shop.TimelineEventsAsync(orderId)).Contains("PaymentAuthorized"));

        // Charged once: one payment at the provider, captured, for the order's amount; the escrow holds it once.
        using var sandbox = silo.CreateClient();
        sandbox.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", PaymentsSiloFixture.SandboxKey);
        var atProvider = await sandbox.GetJsonAsync($"/sandbox/psp/v1/payments?reference={paymentId}");
        Assert.True(atProvider.Status == HttpStatusCode.OK, $"{atProvider.Status} {atProvider.Body}");
        Assert.Equal("captured", atProvider.Body!["status"]!.GetValue<string>(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(payment["amount"]!["amountMinor"]!.GetValue<long>(), atProvider.Body!["capturedMinor"]!.GetValue<long>());
        var charged = paid["totals"]!["seller"]!["amountMinor"]!.GetValue<long>() + (paid["totals"]!["tax"]?["amountMinor"]!.GetValue<long>() ?? 0);
        var ledger = (await shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        var escrow = ledger["accounts"]!.AsArray().Single(a => a!["accountId"]!.GetValue<string>() == $"escrow:{orderId}");
        Assert.Equal(charged, escrow!["pendingIn"]!.GetValue<long>());
        await using (var db = new Npgsql.NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            await using var atProviderRows = new Npgsql.NpgsqlCommand("SELECT count(*) FROM grain_state WHERE state_name = 'sandboxPspPayment'", db);
            Assert.Equal(1L, (long)(await atProviderRows.ExecuteScalarAsync())!);
        }
    }
}
