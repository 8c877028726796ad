using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// The sandbox payment provider's API key and webhook secret have no value anyone could know: a silo given a placeholder or a
/// short one does not start, and a silo given none makes random ones (the sandbox then answers only its own silo).
/// </summary>
public sealed class SandboxSecretsTests
{
    [Theory]
    [InlineData("Payments__Sandbox__ApiKey", "CHANGE-ME")]
    [InlineData("Payments__Sandbox__WebhookSecret", "sandbox-webhook-secret-change-me")]
    [InlineData("Payments__Sandbox__WebhookSecret", "short-secret")]
    public async Task A_silo_given_a_placeholder_or_short_sandbox_secret_does_not_start(string setting, string value)
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "secrets-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { [setting] = value });
        });
        Assert.Contains("Payments:Sandbox:ApiKey and :WebhookSecret must be at least 16 characters", failed.Message);
    }

    [Theory]
    [InlineData("notification-secret-change-me")]
    [InlineData("too-short")]
    public async Task A_silo_given_a_placeholder_or_short_notification_signing_secret_does_not_start(string value)
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "secrets-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { ["Notifications__SigningSecret"] = value });
        });
        Assert.Contains("Notifications:SigningSecret must be at least 16 characters", failed.Message);
    }

    [Theory]
    [InlineData("http://notify.example.com/hooks/orders")]
    [InlineData("ftp://notify.example.com/orders")]
    public async Task A_silo_given_a_notification_webhook_without_tls_off_this_machine_does_not_start(string url)
    {
        // R-PAY-4: TLS on every external link; notifications carry buyers' names and addresses.
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "tls-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { ["Notifications__WebhookUrl"] = url });
        });
        Assert.Contains("Notifications:WebhookUrl must", failed.Message);
    }

    [Fact]
    public async Task A_silo_given_an_unusable_configured_exchange_rate_does_not_start()
    {
        // A zero rate started before and then refused every checkout into that currency (no rate), one at a time.
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "fx-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { ["Fx__UsdRates__EUR"] = "0" });
        });
        Assert.Contains("Fx:UsdRates:EUR: '0' is not a rate", failed.Message);
    }

    [Fact]
    public async Task Plain_http_notifications_to_another_host_start_only_when_the_operator_says_the_network_is_trusted()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "tls-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Notifications__WebhookUrl"] = "http://notifications.trade.svc.cluster.local:8080/orders",
                ["Notifications__AllowPlainHttp"] = "true",
            });
        using var client = silo.CreateClient(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Without_configured_secrets_the_old_defaults_open_nothing()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "secrets-" + Guid.NewGuid().ToString("N")[..8]);
        using var client = silo.CreateClient(apiKey: null);
        foreach (var key in new[] { "sandbox-secret-key-change-me", "CHANGE-ME", "" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/sandbox/psp/v1/bank-transfers/nothing/receive");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
        }
    }
}
