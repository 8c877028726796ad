using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Trade.Risk;
using Orleans.Trade.Tests.Infrastructure;
using static Orleans.Trade.Tests.Risk.RiskTestData;

namespace Orleans.Trade.Tests.Risk;

/// <summary>
/// A risk profile grain in a real silo, called from another process (an Orleans client) the way another silo calls it: the facts
/// this release scores from, and the whole history the previous release's silos still ask for during a rolling update.
/// </summary>
public sealed class RiskProfileGrainTests
{
    [Fact]
    public async Task A_profile_answers_facts_of_what_it_recorded_and_a_history_copy_that_later_records_leave_alone()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "profile-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>());
        using var client = Host.CreateDefaultBuilder()
            .UseOrleansClient(c => c.UseLocalhostClustering(silo.GatewayPort, silo.ClusterId, silo.ClusterId))
            .Build();
        await client.StartAsync();
        var profile = client.Services.GetRequiredService<IClusterClient>().GetGrain<IRiskProfileGrain>(RiskProfiles.Device("d-test"));
        var now = DateTimeOffset.UtcNow;
        var first = Attempt(now.AddMinutes(-90), amountUsdMinor: 1_000, card: "c-1", device: "d-test");
        var second = Attempt(now.AddMinutes(-20), amountUsdMinor: 2_000, outcome: RiskOutcome.Declined, card: "c-2", device: "d-test");
        await profile.Record(first);
        await profile.Record(second);
        await profile.Record(second); // the same payment twice is recorded once

        var current = Attempt(now, card: "c-3", device: "d-test");
        var facts = await profile.Facts(current, countDistinctCards: true);
        var before = (await profile.History()).Value;
        await profile.Record(Attempt(now.AddMinutes(-5), card: "c-4", device: "d-test"));
        var after = (await profile.History()).Value;

        Assert.Equal(new WindowSummary(1, 2_000, 1), facts.LastHour);
        Assert.Equal(new WindowSummary(2, 3_000, 1), facts.LastDay);
        Assert.Equal(3, facts.DistinctCardsLastDay); // c-1, c-2 and the attempt's own c-3
        Assert.Equal(2, facts.Attempts);
        Assert.True(facts.KnowsDevice);
        Assert.False(facts.KnowsCard);
        Assert.Equal(facts, before.Facts(current, countDistinctCards: true));
        Assert.Equal(2, before.Recent.Count);
        Assert.Equal(3, after.Recent.Count);
        Assert.Equal(3, after.Attempts);
    }
}
