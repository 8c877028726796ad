using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Orleans.Trade.Silo;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// /metrics tells its reader the platform's order counts and GMV (trade_orders_placed_total, trade_gmv_minor_total), which the
/// analytics API keeps to admins and analysts, and every route's request count. So it is never served on the public port to
/// a caller from elsewhere: on <c>Metrics:Port</c> alone when that is set, otherwise only to a loopback caller no proxy
/// forwarded. Before 8 December anyone reaching the silo's HTTP port, ingress included, could read it without a key.
/// </summary>
public sealed class MetricsExposureTests
{
    private static string NewDatabase() =>
        Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");

    [Fact]
    public async Task Without_a_metrics_port_only_a_local_unforwarded_caller_reads_metrics()
    {
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(NewDatabase()), "metrics-" + Guid.NewGuid().ToString("N")[..8]);
        using var anonymous = silo.CreateClient(apiKey: null);

        var local = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Contains("http_server_request_duration", await local.Content.ReadAsStringAsync());

        foreach (var header in new[] { ("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=203.0.113.7") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Add(header.Item1, header.Item2);
            using var forwarded = await anonymous.SendAsync(request);
            var text = await forwarded.Content.ReadAsStringAsync();
            Assert.True(forwarded.StatusCode == HttpStatusCode.Forbidden, $"{header.Item1}: {forwarded.StatusCode} {text}");
            Assert.Equal("application/problem+json", forwarded.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Metrics:Port", JsonNode.Parse(text)!["detail"]!.GetValue<string>());
            Assert.DoesNotContain("http_server_request_duration", text);
        }
    }

    [Fact]
    public async Task With_a_metrics_port_metrics_are_served_there_alone_and_the_api_is_not()
    {
        var port = FreePorts.Next();
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(NewDatabase()), "metrics-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Metrics__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var admin = silo.CreateClient();
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/api-keys")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/metrics")).StatusCode);
        // Nor on the API port with a Host header naming the metrics port (routing's host match reads that header).
        using var forgedHost = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        forgedHost.Headers.Host = $"shop.example.com:{port}";
        Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsync(forgedHost)).StatusCode);
        var scraped = await scraper.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("http_server_request_duration", await scraped.Content.ReadAsStringAsync());
        using var onMetricsPort = new HttpRequestMessage(HttpMethod.Get, "/api/v1/api-keys");
        onMetricsPort.Headers.Add("X-Api-Key", SiloProcess.AdminKey);
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.SendAsync(onMetricsPort)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/ready")).StatusCode);
    }

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void The_metrics_port_is_added_on_the_host_of_the_first_url_and_must_be_a_port_of_its_own()
    {
        Assert.Equal(["http://127.0.0.1:5080"], SiloConfiguration.ListenUrls(Settings())!);
        Assert.Null(SiloConfiguration.ListenUrls(Settings(("urls", "http://0.0.0.0:8080"))));
        Assert.Equal(["http://0.0.0.0:8080", "http://0.0.0.0:9090"], SiloConfiguration.ListenUrls(Settings(("urls", "http://0.0.0.0:8080"), ("Metrics:Port", "9090")))!);
        Assert.Equal(["http://127.0.0.1:5080", "http://127.0.0.1:9090"], SiloConfiguration.ListenUrls(Settings(("Metrics:Port", "9090")))!);
        Assert.Equal(["http://+:8080", "http://+:9090"], SiloConfiguration.ListenUrls(Settings(("urls", "http://+:8080"), ("Metrics:Port", "9090")))!);
        Assert.Null(SiloConfiguration.ListenUrls(Settings(("Kestrel:Endpoints:Http:Url", "http://0.0.0.0:8080"), ("Metrics:Port", "9090"))));
        var same = Assert.Throws<InvalidOperationException>(() => SiloConfiguration.ListenUrls(Settings(("urls", "http://0.0.0.0:8080"), ("Metrics:Port", "8080"))));
        Assert.Contains("a port of its own", same.Message);
        Assert.Throws<InvalidOperationException>(() => SiloConfiguration.MetricsPort(Settings(("Metrics:Port", "70000"))));
    }
}
