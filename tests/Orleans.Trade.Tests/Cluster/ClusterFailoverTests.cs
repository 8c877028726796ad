using System.Net;
using Orleans.Trade.Inventory;
using Orleans.Trade.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>Three silo processes on one PostgreSQL form one cluster; SIGKILL one and its SKUs live on elsewhere.</summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    private const int SkuCount = 30;

    [Fact]
    public async Task Skus_of_a_killed_silo_are_served_by_the_others_with_their_state_intact()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("cluster");
        var clusterId = "cluster-" + Guid.NewGuid().ToString("N")[..8];
        var storage = SiloStorage.Postgres(connectionString);
        var silos = new List<SiloProcess>();
        try
        {
            // The first start applies the schema; the others start together.
            silos.Add(await SiloProcess.StartAsync(storage, clusterId));
            silos.AddRange(await Task.WhenAll(SiloProcess.StartAsync(storage, clusterId), SiloProcess.StartAsync(storage, clusterId)));

            // Writes go through every silo: any silo answers any request.
            var clients = silos.Select(s => s.CreateClient()).ToArray();
            await TradeHttp.SeedSkuAsync(clients[0], "seed", "seller-c");
            for (var i = 0; i < SkuCount; i++)
            {
                var client = clients[i % clients.Length];
                Assert.Equal(HttpStatusCode.Created, (await client.PutJsonAsync($"/api/v1/skus/c-{i}", TradeHttp.Sku("seller-c"))).Status);
                Assert.Equal(HttpStatusCode.OK, (await client.PutJsonAsync($"/api/v1/skus/c-{i}/stock/wh-cn-1", new { onHand = 1000 + i, version = 1 })).Status);
            }

            // Ask the cluster where each SKU grain lives, then kill the silo hosting the most.
            var hosts = await SiloInspection.ActivationPortsAsync<ISkuGrain>(connectionString, clusterId, Enumerable.Range(0, SkuCount).Select(i => $"c-{i}"));
            var victim = silos.OrderByDescending(s => hosts.Count(h => h.Value == s.SiloPort)).First();
            var orphaned = hosts.Where(h => h.Value == victim.SiloPort).Select(h => h.Key).ToArray();
            output.WriteLine($"Killing silo on port {victim.SiloPort}, host of {orphaned.Length} SKUs");
            Assert.NotEmpty(orphaned);
            victim.Kill();

            var survivors = silos.Where(s => s != victim).Select(s => s.CreateClient()).ToArray();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            for (var i = 0; i < SkuCount; i++)
            {
                var client = survivors[i % survivors.Length];
                while (true)
                {
                    var (status, view) = await client.GetJsonAsync($"/api/v1/skus/c-{i}");
                    if (status == HttpStatusCode.OK)
                    {
                        Assert.Equal(1000 + i, view!["stock"]!["totalAvailable"]!.GetValue<long>());
                        break;
                    }
                    // Until membership declares the victim dead, calls to its grains time out (503): retry.
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                    Assert.True(DateTime.UtcNow < deadline, $"SKU c-{i} still unavailable after failover");
                    await Task.Delay(500);
                }
            }

            // And the moved SKUs take new writes, with their versions intact.
            foreach (var sku in orphaned)
            {
                Assert.Equal(HttpStatusCode.Conflict, (await survivors[0].PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 1, version = 1 })).Status);
                Assert.Equal(HttpStatusCode.OK, (await survivors[1].PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-cn-1", new { onHand = 1, version = 2 })).Status);
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }
}
