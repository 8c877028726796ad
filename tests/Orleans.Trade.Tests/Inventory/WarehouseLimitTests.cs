using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>R-INV-4 over HTTP: every checkout ranks the whole warehouse registry, so the registry stops where the ranking does.</summary>
public sealed class WarehouseLimitTests
{
    [Fact]
    public async Task The_registry_refuses_a_warehouse_past_what_a_checkout_can_rank_and_checkouts_go_on_at_the_limit()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("warehouses");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "warehouses-" + Guid.NewGuid().ToString("N")[..8]);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        for (var i = 3; i < 1_023; i++)
        {
            var (status, body) = await shop.Admin.PutJsonAsync($"/api/v1/warehouses/wh-{i:D4}", new { name = $"warehouse {i}", country = "FR" });
            Assert.True(status == HttpStatusCode.OK, $"warehouse {i}: {status} {body}");
        }
        // Admins registering the last free place at once: one gets it, the others a 409 (not a 500 from the registry's own check).
        var race = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            shop.Admin.PutJsonAsync($"/api/v1/warehouses/wh-last-{i:D2}", new { name = $"last {i}", country = "FR" })));
        Assert.Equal(1, race.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(race.Where(r => r.Status != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.Contains("1024 warehouses", r.Body!["detail"]!.GetValue<string>());
        });
        var (refused, problem) = await shop.Admin.PutJsonAsync("/api/v1/warehouses/wh-1024", new { name = "one too many", country = "FR" });
        Assert.Equal(HttpStatusCode.Conflict, refused);
        Assert.Contains("1024 warehouses", problem!["detail"]!.GetValue<string>());
        // An existing one can still be renamed at the limit.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PutJsonAsync("/api/v1/warehouses/wh-0003", new { name = "renamed", country = "FR" })).Status);

        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 5)]);
        var buyer = await shop.KeyAsync("buyer", "b-limit");
        var (checkout, created) = await OrderTestShop.CheckoutAsync(buyer, "b-limit", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 2 }]);
        Assert.True(checkout == HttpStatusCode.Created, $"{checkout} {created}");
        Assert.Equal(3, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_warehouse_whose_registration_fails_takes_no_stock_not_even_while_it_is_written()
    {
        // Read while its registration was being written, a warehouse whose write then failed was taken for stock, stored for good.
        var connectionString = await PostgresServer.CreateDatabaseAsync("whfail");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "whfail-" + Guid.NewGuid().ToString("N")[..8]);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 5)]);
        var refusing = await silo.Storage.RefuseStateWritesAsync("warehouse-registry");
        var register = shop.Admin.PutJsonAsync("/api/v1/warehouses/wh-new", new { name = "New", country = "PL" });
        await Task.Delay(500);
        var (stocked, stockBody) = await shop.Admin.PutJsonAsync($"/api/v1/skus/{sku}/stock/wh-new", new { onHand = 10, version = 1 });
        var (listed, list) = await shop.Admin.GetJsonAsync("/api/v1/warehouses");
        var (refused, _) = await register;
        await refusing.DisposeAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.True(stocked == HttpStatusCode.UnprocessableEntity, $"{stocked} {stockBody}");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.DoesNotContain(list!.AsArray(), w => w!["warehouseId"]!.GetValue<string>() == "wh-new");
        Assert.DoesNotContain((await shop.StockAsync(sku))["warehouses"]!.AsArray(), w => w!["warehouseId"]!.GetValue<string>() == "wh-new");
    }
}
