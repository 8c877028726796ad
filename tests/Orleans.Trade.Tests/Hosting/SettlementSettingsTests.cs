using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>
/// R-SET-1: a settlement split that takes more than the goods value, or a default cycle outside T+1 to T+30, stops the silo at
/// start-up; otherwise every escrow release under it was refused and retried for ever, and the sellers were never paid.
/// </summary>
public sealed class SettlementSettingsTests
{
    [Theory]
    [InlineData("Settlement__DefaultCommissionRateBps", "12000", "Settlement:DefaultCommissionRateBps must be 0 to 10000")]
    [InlineData("Settlement__CategoryCommissionRateBps__luxury", "9500", "Settlement:CategoryCommissionRateBps:luxury (9500) and Settlement:LogisticsFeeBps (600)")]
    [InlineData("Settlement__DefaultCycleDays", "0", "Settlement:DefaultCycleDays must be 1 to 30")]
    public async Task A_silo_given_a_settlement_split_or_cycle_no_release_could_follow_does_not_start(string setting, string value, string message)
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var silo = await SiloProcess.StartAsync(storage, "settlement-" + Guid.NewGuid().ToString("N")[..8],
                new Dictionary<string, string> { [setting] = value, ["Settlement__LogisticsFeeBps"] = "600" });
        });
        Assert.Contains(message, failed.Message);
    }
}
