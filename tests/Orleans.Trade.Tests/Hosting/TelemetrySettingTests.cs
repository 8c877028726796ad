using System.Net;
using Orleans.Trade.Silo;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// ASP.NET Core's per-request and per-buffer instruments (memory pool, routing, authentication, authorization) cost about 1.5%
/// of a hot checkout's CPU and are off by default (the shared API contract checks <c>/metrics</c> without them);
/// <c>Telemetry:DetailedAspNetCoreMetrics</c> brings them back.
/// </summary>
public sealed class TelemetrySettingTests
{
    [Theory]
    [InlineData("aspnetcore.memory_pool.rented", true)]
    [InlineData("aspnetcore.routing.match_attempts", true)]
    [InlineData("aspnetcore.authentication.authenticate.duration", true)]
    [InlineData("aspnetcore.authorization.attempts", true)]
    [InlineData("http.server.request.duration", false)]
    [InlineData("http.server.active_requests", false)]
    [InlineData("kestrel.active_connections", false)]
    [InlineData("aspnetcore.diagnostics.exceptions", false)]
    [InlineData("trade.storage.round_trip.duration", false)]
    public void Only_per_request_framework_detail_is_left_out(string instrument, bool detailed) =>
        Assert.Equal(detailed, SiloConfiguration.IsDetailedAspNetCoreInstrument(instrument));

    [Fact]
    public async Task Detailed_metrics_on_expose_the_framework_instruments_of_the_requests_served()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "otel-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Telemetry__DetailedAspNetCoreMetrics"] = "true" });
        using var admin = silo.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/api-keys")).StatusCode);

        var metrics = await admin.GetStringAsync("/metrics");
        Assert.Contains("aspnetcore_memory_pool_rented_bytes_total", metrics);
        Assert.Contains("aspnetcore_routing_match_attempts_total", metrics);
        Assert.Contains("aspnetcore_authorization_attempts_total", metrics);
        Assert.Contains("aspnetcore_authentication_authenticate_duration_seconds", metrics);
        Assert.Contains("http_server_request_duration_seconds", metrics);
    }
}
