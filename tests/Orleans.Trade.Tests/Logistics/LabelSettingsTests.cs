using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>A carrier adapter that could not book safely stops the silo at start, naming the setting and never echoing the secret.</summary>
public sealed class LabelSettingsTests
{
    [Theory]
    [InlineData("https://carrier.example/book", "short-secret", "Labels:Carriers:dhl:Secret must be at least 16 characters")]
    [InlineData("http://carrier.example/book", "carrier-secret-0123456789", "Labels:Carriers:dhl:Url must use https")]
    public async Task A_silo_given_an_http_carrier_without_tls_or_with_a_short_secret_does_not_start(string url, string secret, string expected)
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "labels-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string>
                {
                    ["Labels__Carriers__dhl__Adapter"] = "http",
                    ["Labels__Carriers__dhl__Url"] = url,
                    ["Labels__Carriers__dhl__Secret"] = secret,
                });
        });
        Assert.Contains(expected, failed.Message);
        Assert.DoesNotContain(secret, failed.Message);
    }
}
