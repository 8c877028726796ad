using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Logistics;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>The platform adapter's tracking numbers are unique across the silos of a cluster, each of which issues its own.</summary>
public sealed class LabelClusterTests
{
    [Fact]
    public async Task Two_silos_labelling_at_once_never_issue_the_same_tracking_number()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("labelcluster");
        var clusterId = "lb-cluster-" + Guid.NewGuid().ToString("N")[..8];
        var storage = SiloStorage.Postgres(connectionString);
        var settings = new Dictionary<string, string> { ["Orders__RiskReviewAboveUsdMinor"] = "100000" };
        await using var first = await SiloProcess.StartAsync(storage, clusterId, settings);
        await using var second = await SiloProcess.StartAsync(storage, clusterId, settings);
        var shop = new OrderTestShop(first);
        await shop.WarehousesAsync();
        var carrierId = OrderTestShop.NewId("c");
        var (put, carrier) = await shop.Admin.PutJsonAsync($"/api/v1/carriers/{carrierId}", new
        {
            name = "Post", service = "postal", currency = "USD", maxWeightGrams = 2_000, tracked = true,
            lanes = new object[] { new { countries = new[] { "DE" }, transitDaysMin = 5, transitDaysMax = 12, baseFeeMinor = 300, perKgFeeMinor = 800 } },
        });
        Assert.True(put == HttpStatusCode.Created, $"{put} {carrier}");
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, stock: [("wh-de", 100)]);
        var key = await TradeHttp.IssueKeyAsync(shop.Admin, "seller", sellerId);
        using var viaFirst = first.CreateClient(key);
        using var viaSecond = second.CreateClient(key);
        // Ten at a time: more first lookups of new keys than the failed-key budget's burst (30) in flight at once from one address
        // are refused 429 (RateLimits:FailedAuthenticationBurst), which is not this test's matter.
        var placed = new List<string>();
        foreach (var ten in Enumerable.Range(0, 40).Chunk(10))
        {
            placed.AddRange(await Task.WhenAll(ten.Select(PlaceAsync)));
        }
        var orders = placed.ToArray();

        async Task<string> PlaceAsync(int _)
        {
            var buyerId = OrderTestShop.NewId("b");
            var buyer = await shop.KeyAsync("buyer", buyerId);
            var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
            Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
            var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
            await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
            return orderId;
        }

        async Task<string[]> Label(HttpClient client, string[] batch)
        {
            var (status, body) = await client.PostJsonAsync($"/api/v1/sellers/{sellerId}/labels", new { orderIds = batch, carrierId });
            Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
            Assert.All(body!["results"]!.AsArray(), r => Assert.Equal("labelled", r!["status"]!.GetValue<string>()));
            return body["results"]!.AsArray().Select(r => r!["trackingNumber"]!.GetValue<string>()).ToArray();
        }
        var numbers = (await Task.WhenAll(Label(viaFirst, orders[..20]), Label(viaSecond, orders[20..]))).SelectMany(n => n).ToArray();

        Assert.Equal(40, numbers.Distinct().Count());
        Assert.All(numbers, n => Assert.True(S10TrackingNumbers.IsValid(n), n));
        foreach (var (order, number) in orders.Zip(numbers))
        {
            var shipped = (await shop.OrderAsync(order))["shipment"]!;
            Assert.Equal((carrierId, number), (shipped["carrier"]!.GetValue<string>(), shipped["trackingNumber"]!.GetValue<string>()));
        }
    }
}
