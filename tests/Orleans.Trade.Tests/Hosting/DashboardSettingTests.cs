using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// The Orleans dashboard is an operator's opt-in (<c>Dashboard:Enabled</c>): it has no login and polls every metric each second.
/// Off, <c>/dashboard</c> is not there at all (the shared API contract checks the default); on, it serves its page and counters.
/// </summary>
public sealed class DashboardSettingTests
{
    [Fact]
    public async Task Enabled_dashboard_serves_its_page_and_counters()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "dash-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Dashboard__Enabled"] = "true" });
        using var anonymous = silo.CreateClient(apiKey: null);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/dashboard/")).StatusCode);
        var counters = await anonymous.GetAsync("/dashboard/DashboardCounters");
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Contains("totalActivationCount", await counters.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
