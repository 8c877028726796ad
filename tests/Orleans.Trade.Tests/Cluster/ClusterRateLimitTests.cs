using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>A buyer's request limit holds across the silos of a cluster, not once per silo.</summary>
public sealed class ClusterRateLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_buyer_spreading_requests_over_two_silos_gets_one_burst_not_two()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("ratelimit");
        var clusterId = "rl-cluster-" + Guid.NewGuid().ToString("N")[..8];
        var storage = SiloStorage.Postgres(connectionString);
        // 8 a second, a burst of 16: leases grow to 2 tokens, so a silo may hold tokens the other cannot spend.
        var limits = new Dictionary<string, string> { ["RateLimits__BuyerPermitsPerSecond"] = "8", ["RateLimits__BuyerBurst"] = "16" };
        await using var first = await SiloProcess.StartAsync(storage, clusterId, limits);
        await using var second = await SiloProcess.StartAsync(storage, clusterId, limits);
        using var admin = first.CreateClient();
        var key = await TradeHttp.IssueKeyAsync(admin, "buyer", "rl-spread");
        using var viaFirst = first.CreateClient(key);
        using var viaSecond = second.CreateClient(key);

        // Both silos know the key (and have joined the cluster) before the count starts.
        foreach (var (client, which) in new[] { (viaSecond, "second"), (viaFirst, "first") })
        {
            await Eventually.UntilAsync(async () => (await client.GetAsync("/api/v1/buyers/rl-spread/orders")).StatusCode,
                status => status == HttpStatusCode.OK, $"the {which} silo serving the buyer", TimeSpan.FromSeconds(30));
        }
        await Task.Delay(TimeSpan.FromSeconds(5)); // the warm-up's leases lapse and the bucket refills to its burst

        var started = DateTime.UtcNow;
        var served = new int[2];
        for (var i = 0; i < 48; i++)
        {
            var answer = await (i % 2 == 0 ? viaFirst : viaSecond).GetAsync("/api/v1/buyers/rl-spread/orders");
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                served[i % 2]++;
            }
            else
            {
                TradeHttp.AssertTooManyRequests(answer);
            }
        }
        var elapsed = DateTime.UtcNow - started;
        output.WriteLine($"served {served[0]} + {served[1]} in {elapsed.TotalSeconds:0.00} s");

        // One burst and what refilled meanwhile, however the requests were spread (counted per silo it was 16 + 16 and more);
        // a token or so per silo may be left in a lease the other silo could not spend.
        var total = served[0] + served[1];
        Assert.InRange(total, 13, 16 + (int)Math.Ceiling(8 * elapsed.TotalSeconds));
        Assert.True(served[0] > 0 && served[1] > 0, "both silos served the buyer");

        // Every lease reached the budget's grain: neither silo fell back to counting alone (the metric exists and is 0).
        foreach (var silo in new[] { first, second })
        {
            using var staff = silo.CreateClient();
            Assert.Equal(0, await SiloInspection.MetricAsync(staff, "trade_rate_limit_lease_failures_total"));
        }
    }
}
