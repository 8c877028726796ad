using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Orleans.Trade.Silo;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// Settings that used to start a silo that looked ready and then failed the requests that needed them (every payment, every
/// order, or a VAT charged wrong) now stop the start, naming the setting. Checked by starting the silo as an operator would.
/// </summary>
public sealed class StartupSettingsTests
{
    [Theory]
    [InlineData("Payments__Provider", "stripe", "this build has one payment provider, 'sandbox'")]
    [InlineData("Orders__VatRates__DE", "0.19", "Orders:VatRates:DE is a rate in percent")]
    [InlineData("Orders__VatRates__GB", "20", "IOSS VAT rates are for EU member states")]
    [InlineData("Allocation__CountryRegions__UK", "EU", "'UK' is not an ISO 3166-1 alpha-2 code")]
    [InlineData("Risk__BlockThreshold", "50", "must satisfy 0 ≤ review (60) ≤ block (50) ≤ 100")]
    [InlineData("Risk__ModelPath", "/nonexistent/risk-model.zip", "Risk settings:")]
    public async Task A_silo_given_a_setting_its_requests_could_not_use_does_not_start(string setting, string value, string message)
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "settings-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { [setting] = value });
        });
        Assert.Contains(message, failed.Message);
    }

    /// <summary>
    /// The sandbox provider calls its own silo back (payments, webhooks) at the first plain-http address Kestrel listens on, never
    /// the metrics port: that one serves /metrics alone, so every payment would have been refused 404.
    /// </summary>
    [Fact]
    public void The_sandboxs_own_address_is_never_the_metrics_port()
    {
        var server = new ListeningServer("http://0.0.0.0:9090", "https://0.0.0.0:5443", "http://[::]:8080");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Metrics:Port", "9090")]).Build();

        Assert.Equal(new Uri("http://127.0.0.1:8080/"), new ServerSelfHttpAddress(server, configuration).BaseUrl);
        Assert.Equal(new Uri("http://127.0.0.1:9090/"), new ServerSelfHttpAddress(server, new ConfigurationBuilder().Build()).BaseUrl);
    }

    private sealed class ListeningServer : IServer
    {
        public ListeningServer(params string[] addresses)
        {
            var feature = new ServerAddressesFeature();
            foreach (var address in addresses)
            {
                feature.Addresses.Add(address);
            }
            Features.Set<IServerAddressesFeature>(feature);
        }

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
