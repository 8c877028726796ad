using Orleans.Trade.Common;
using Orleans.Trade.Payments;
using Orleans.Trade.Payments.Sandbox;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Payments;

/// <summary>
/// The sandbox keeps no reminder per payment: its deadline index entry brings a payment with undelivered webhooks back after a
/// crash. A silo whose receiver is down is SIGKILLed, started again with the receiver up, and the event still arrives.
/// </summary>
public sealed class SandboxRestartTests
{
    [Fact]
    public async Task A_webhook_not_delivered_before_a_crash_is_delivered_after_the_restart_without_a_reminder()
    {
        var connection = await PostgresServer.CreateDatabaseAsync("sandbox_restart");
        await using var receiver = new WebhookReceiver(failFirstAttempt: false);
        var nobodyListens = new Uri($"http://127.0.0.1:{FreePorts.Next()}/notifications");
        var environment = SandboxPspFixture.SiloEnvironment(nobodyListens);
        environment["Deadlines__Period"] = "00:00:01";
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connection), "sandbox-restart-" + Guid.NewGuid().ToString("N")[..8], environment);
        var provider = SandboxPspFixture.ProviderOf(silo, requestTimeout: TimeSpan.FromSeconds(10));
        var paymentId = "pay-restart-" + Guid.NewGuid().ToString("N")[..8];
        var authorized = await provider.AuthorizeAsync(new ProviderAuthorizeRequest(paymentId, "idem-" + paymentId, new Money(2500, "EUR"),
            new PaymentInstrument(PaymentMethodType.Card, "card_tok", "424242", "4242")), default);
        Assert.Equal(ProviderPaymentStatus.Authorized, authorized.Status);

        // The event is in the payment's outbox, its deliveries refused; no reminder exists for it.
        await using (var db = new Npgsql.NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            await using var reminders = new Npgsql.NpgsqlCommand("SELECT count(*) FROM orleansreminderstable WHERE grainid LIKE 'sandboxpsppayment/%'", db);
            Assert.Equal(0L, (long)(await reminders.ExecuteScalarAsync())!);
            await using var wake = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FROM grain_state WHERE state_name = 'sandboxPspPayment' AND grain_id = @id AND wake_at IS NOT NULL", db);
            wake.Parameters.AddWithValue("id", "sandboxpsppayment/" + paymentId);
            Assert.Equal(1L, (long)(await wake.ExecuteScalarAsync())!);
        }
        await Task.Delay(TimeSpan.FromSeconds(1)); // a few refused attempts
        Assert.Empty(receiver.RawAttempts);

        silo.Kill();
        silo.ExtraEnvironment["Payments__Sandbox__WebhookUrl"] = receiver.Url.ToString();
        await silo.StartAsync();

        var events = await SandboxPspFixture.WaitForEventAsync(receiver, provider, paymentId, _ => true, TimeSpan.FromSeconds(30));
        var delivered = Assert.Single(events.DistinctBy(e => e.EventId));
        Assert.Equal(ProviderPaymentStatus.Authorized, delivered.Outcome.Status);
    }
}
