using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
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

    [Fact]
    public async Task Payments_scored_at_once_each_count_the_ones_reserved_before_them_until_their_outcome_is_recorded()
    {
        // Read-only facts let payments sent together all read the history before any was recorded, past a velocity cap.
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "reserve-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>());
        using var client = await SiloClients.ConnectAsync(silo);
        var profile = client.Services.GetRequiredService<IClusterClient>().GetGrain<IRiskProfileGrain>(RiskProfiles.Buyer("b-burst"));
        var now = DateTimeOffset.UtcNow;

        var burst = Enumerable.Range(0, 20).Select(i => Attempt(now, amountUsdMinor: 1_000, buyer: "b-burst", card: $"c-{i % 2}")).ToArray();
        var facts = await Task.WhenAll(burst.Select(a => profile.Reserve(a, countDistinctCards: true)));

        // Each saw the ones reserved before it, whatever the order they arrived in: 0, 1, ..., 19 attempts.
        Assert.Equal(Enumerable.Range(0, 20), facts.Select(f => f.LastHour.Attempts).Order());
        Assert.All(facts, f => Assert.Equal(f.LastHour.Attempts * 1_000L, f.LastHour.AmountUsdMinor));
        Assert.All(facts, f => Assert.Equal(0, f.LastHour.Declines));

        // Scored again (a retry), a payment does not count itself; recorded, it counts once, as its outcome.
        var again = await profile.Reserve(burst[0], countDistinctCards: true);
        Assert.Equal(19, again.LastHour.Attempts);
        Assert.Equal(2, again.DistinctCardsLastDay);
        await profile.Record(burst[0] with { Outcome = RiskOutcome.Declined });
        await profile.Record(burst[0] with { Outcome = RiskOutcome.Declined });
        var next = await profile.Reserve(Attempt(now, buyer: "b-burst", card: "c-9"), countDistinctCards: true);
        Assert.Equal(new WindowSummary(20, 20_000, 1), next.LastHour);
        Assert.Equal(20, next.Attempts);
        Assert.Equal(3, next.DistinctCardsLastDay); // c-0, c-1 and the attempt's own c-9
        // A payment recorded before it is scored again (a late retry) is not reserved a second time.
        var late = await profile.Reserve(burst[0], countDistinctCards: false);
        var fresh = await profile.Reserve(Attempt(now, buyer: "b-burst"), countDistinctCards: false);
        Assert.Equal(late.LastHour.Attempts, fresh.LastHour.Attempts);
    }

    [Fact]
    public async Task A_payment_reserved_and_not_yet_decided_still_counts_after_its_profile_left_memory()
    {
        // Kept in memory only, a payment held for the analysts stopped counting once the idle profile was collected (two minutes):
        // a card could then pass its hourly cap again.
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(path), "pending-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>());
        using var client = await SiloClients.ConnectAsync(silo);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var profile = grains.GetGrain<IRiskProfileGrain>(RiskProfiles.Card("c-held"));
        var now = DateTimeOffset.UtcNow;
        var held = new[] { Attempt(now, card: "c-held"), Attempt(now, card: "c-held"), Attempt(now, card: "c-held") };
        foreach (var attempt in held)
        {
            await profile.Reserve(attempt, countDistinctCards: false);
        }
        await profile.Record(held[0] with { Outcome = RiskOutcome.Declined }); // one decided, two still held

        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var facts = await profile.Reserve(Attempt(now, card: "c-held"), countDistinctCards: false);

        Assert.Equal(new WindowSummary(3, 15_000, 1), facts.LastHour); // the decided one, a decline, and the two held
        Assert.Equal(3, facts.Attempts);
    }
}
