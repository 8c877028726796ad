using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// The sandbox payment provider's API key and webhook secret have no value anyone could know: a silo given a placeholder or a
/// short one does not start, and a silo given none makes random ones (the sandbox then answers only its own silo). Keys of
/// another length, configured or in a file beside the embedded database, stop the start too.
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

    [Theory]
    [InlineData(31)]
    [InlineData(33)]
    public async Task A_silo_given_a_card_fingerprint_key_of_another_length_does_not_start(int bytes)
    {
        // The key was built at the first card tokenised: the silo started and then answered every card with a 500.
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "keys-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { ["Payments__CardFingerprintKey"] = Convert.ToBase64String(new byte[bytes]) });
        });
        Assert.Contains("Payments:CardFingerprintKey must be 32 bytes, base64-encoded.", failed.Message);
    }

    [Fact]
    public async Task A_silo_given_a_card_fingerprint_key_that_is_not_base64_does_not_start()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "keys-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { ["Payments__CardFingerprintKey"] = "not base64 at all!" });
        });
        Assert.Contains("Payments:CardFingerprintKey must be 32 bytes, base64-encoded.", failed.Message);
    }

    [Theory]
    [InlineData("secrets.key", "Security:SecretsKey", 0)]
    [InlineData("secrets.key", "Security:SecretsKey", 31)]
    [InlineData("card-fingerprint.key", "Payments:CardFingerprintKey", 0)]
    [InlineData("card-fingerprint.key", "Payments:CardFingerprintKey", 31)]
    public async Task A_key_file_beside_the_embedded_database_that_is_not_32_bytes_stops_the_start(string fileName, string setting, int bytes)
    {
        // A start cut short between creating a key file and writing it left it empty: the next start took the empty key, so
        // sealing a TOTP secret failed and card fingerprints were a plain hash of the card number.
        var folder = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var keyFile = Path.Combine(folder, fileName);
        await File.WriteAllBytesAsync(keyFile, new byte[bytes]);
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(Path.Combine(folder, "trade.db")),
                "keys-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string> { ["Security__SecretsKey"] = "" });
        });
        Assert.Contains($"{keyFile} holds {bytes} bytes, not a 32-byte key for {setting}.", failed.Message);
        Assert.Equal(bytes, new FileInfo(keyFile).Length);
    }

    [Fact]
    public async Task A_first_start_on_the_embedded_database_writes_both_key_files_whole_and_keeps_them()
    {
        var folder = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"));
        var storage = SiloStorage.Sqlite(Path.Combine(folder, "trade.db"));
        var env = new Dictionary<string, string> { ["Security__SecretsKey"] = "" };
        byte[] secretsKey, cardKey;
        await using (var silo = await SiloProcess.StartAsync(storage, "keys-" + Guid.NewGuid().ToString("N")[..8], env))
        {
            // Both made at start-up, before any card is tokenised or secret sealed.
            secretsKey = await File.ReadAllBytesAsync(Path.Combine(folder, "secrets.key"));
            cardKey = await File.ReadAllBytesAsync(Path.Combine(folder, "card-fingerprint.key"));
        }
        Assert.Equal(32, secretsKey.Length);
        Assert.Equal(32, cardKey.Length);
        Assert.NotEqual(secretsKey, cardKey);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "card-fingerprint.key")));
        }

        await using (var again = await SiloProcess.StartAsync(storage, "keys-" + Guid.NewGuid().ToString("N")[..8], env))
        {
            Assert.Equal(secretsKey, await File.ReadAllBytesAsync(Path.Combine(folder, "secrets.key")));
            Assert.Equal(cardKey, await File.ReadAllBytesAsync(Path.Combine(folder, "card-fingerprint.key")));
        }
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
