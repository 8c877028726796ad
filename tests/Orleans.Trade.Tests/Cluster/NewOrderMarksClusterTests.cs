using System.Net;
using Orleans.Trade.Orders;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;
using Xunit.Abstractions;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>
/// A silo that mints a new order's id skips that order's first storage read only while its first call is in flight: the call
/// may activate the order on another silo, and when that activation ends (collected, or its silo gone) the order comes back
/// wherever the next call lands, the minting silo included, and must read what was written. Two silos, orders collected
/// after 2 idle seconds, every order read again through both silos. Two-line carts go through the checkout saga (which mints
/// and marks); one-line carts, placed by their SKU without marks, are read back the same way beside them.
/// </summary>
public sealed class NewOrderMarksClusterTests(ITestOutputHelper output)
{
    private const int CheckoutsPerSilo = 30;

    [Fact]
    public async Task Orders_placed_on_either_silo_read_back_whole_after_they_come_back_on_any_silo()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("marks");
        var clusterId = "marks-" + Guid.NewGuid().ToString("N")[..8];
        var storage = SiloStorage.Postgres(connectionString);
        var env = new Dictionary<string, string>
        {
            ["Orleans__GrainCollection__CollectionQuantum"] = "00:00:01",
            [$"Orleans__GrainCollection__ClassSpecificCollectionAge__{typeof(OrderGrain).FullName}"] = "00:00:02",
        };
        var silos = new List<SiloProcess>();
        try
        {
            silos.Add(await SiloProcess.StartAsync(storage, clusterId, env));
            silos.Add(await SiloProcess.StartAsync(storage, clusterId, env));
            var shop = new OrderTestShop(silos[0]);
            await shop.WarehousesAsync();
            var skuId = await shop.SkuAsync("seller-marks", stock: ("wh-de", 1000));
            var otherSkuId = await shop.SkuAsync("seller-marks", stock: ("wh-de", 1000));
            var clients = silos.Select(s => s.CreateClient()).ToArray();

            var orderIds = (await Task.WhenAll(Enumerable.Range(0, 4 * CheckoutsPerSilo).Select(async i =>
            {
                object[] items = i < 2 * CheckoutsPerSilo
                    ? [new { skuId, quantity = 1 }, new { skuId = otherSkuId, quantity = 1 }]
                    : [new { skuId, quantity = 1 }];
                var (status, body) = await OrderTestShop.CheckoutAsync(clients[i % 2], $"buyer-{i}", OrderTestShop.NewId("key"), items);
                Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
                return body!["orders"]![0]!["orderId"]!.GetValue<string>();
            }))).ToArray();

            // Every checkout has answered, so no silo holds a mark any more (the gauge is read from a scrape cache: poll briefly).
            foreach (var client in clients)
            {
                var marks = -1L;
                for (var tries = 0; tries < 20 && (marks = await SiloInspection.MetricAsync(client, "trade_storage_new_grain_marks")) != 0; tries++)
                {
                    await Task.Delay(250);
                }
                Assert.Equal(0, marks);
            }
            var ports = await SiloInspection.ActivationPortsAsync<IOrderGrain>(connectionString, clusterId, orderIds);
            output.WriteLine($"orders on silo 0 / 1 after placement: {string.Join(" / ", silos.Select(s => ports.Values.Count(p => p == s.SiloPort)))}");

            // Three rounds: let the orders be collected, then read each through the silo it was not read through last time.
            for (var round = 0; round < 3; round++)
            {
                await Task.Delay(TimeSpan.FromSeconds(4));
                var reads = await Task.WhenAll(orderIds.Select(async (orderId, i) => (orderId, await clients[(i + round) % 2].GetJsonAsync($"/api/v1/orders/{orderId}"))));
                foreach (var (orderId, (status, order)) in reads)
                {
                    Assert.True(status == HttpStatusCode.OK, $"round {round}: order {orderId} answered {status} {order}");
                    Assert.Equal("awaitingPayment", order!["status"]!.GetValue<string>());
                    Assert.Equal(skuId, order["lines"]![0]!["skuId"]!.GetValue<string>());
                }
            }
            Assert.Equal(4 * CheckoutsPerSilo, await shop.ReservedAsync(skuId));
            Assert.Equal(2 * CheckoutsPerSilo, await shop.ReservedAsync(otherSkuId));
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
