using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>R-INV-3: an ERP's bulk load when one SKU's write cannot be stored.</summary>
public sealed class BulkStockFailureTests
{
    [Fact]
    public async Task An_item_whose_SKU_could_not_be_stored_is_reported_failed_for_sending_again_not_invalid()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("bulkfailure");
        var storage = SiloStorage.Postgres(connectionString);
        // One SKU write round trip at a time, so the writes queued behind a slow one share the next round trip.
        await using var silo = await SiloProcess.StartAsync(storage, "bulkfailure-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Storage__RoundTripsInFlight"] = "1" });
        using var admin = silo.CreateClient();
        await admin.PutJsonAsync("/api/v1/warehouses/wh-cn-1", new { name = "Shenzhen", country = "CN" });
        await TradeHttp.SeedSkuAsync(admin, "sku-stored", "seller-b");
        await TradeHttp.SeedSkuAsync(admin, "sku-broken", "seller-b");
        await TradeHttp.SeedSkuAsync(admin, "sku-slow", "seller-b");
        // The broken SKU's stock cannot be written (a storage fault of that SKU alone); the slow SKU's write takes a second.
        await storage.ExecuteAsync("""
            CREATE FUNCTION refuse_broken_sku() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER refuse_broken_sku BEFORE INSERT OR UPDATE ON sku_ledger FOR EACH ROW
                WHEN (NEW.sku_id = 'sku-broken') EXECUTE FUNCTION refuse_broken_sku();
            CREATE FUNCTION slow_sku() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$;
            CREATE TRIGGER slow_sku BEFORE INSERT OR UPDATE ON sku_ledger FOR EACH ROW
                WHEN (NEW.sku_id = 'sku-slow') EXECUTE FUNCTION slow_sku();
            """);
        object[] items =
        [
            new { skuId = "sku-stored", warehouseId = "wh-cn-1", onHand = 40, version = 1 },
            new { skuId = "sku-broken", warehouseId = "wh-cn-1", onHand = 30, version = 1 },
            new { skuId = "sku-stored", warehouseId = "wh-de-9", onHand = 1, version = 1 }, // not registered: the ERP must fix it
        ];

        // While the slow SKU's write is in flight, the bulk's two SKU writes queue and go out together: the broken one's
        // statement fails their shared round trip, and the store then writes them apart.
        var slow = admin.PutJsonAsync("/api/v1/skus/sku-slow/stock/wh-cn-1", new { onHand = 5, version = 1 });
        await Task.Delay(300);
        var (status, body) = await admin.PostJsonAsync("/api/v1/stock/bulk", new { items });
        Assert.Equal(HttpStatusCode.OK, (await slow).Status);
        Assert.True(await SiloInspection.MetricAsync(admin, "trade_storage_sku_writes_isolated_total") >= 1, "the two writes did not share a round trip");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((1, 1, 1, 0), (body!["applied"]!.GetValue<int>(), body["failed"]!.GetValue<int>(), body["invalid"]!.GetValue<int>(), body["stale"]!.GetValue<int>()));
        var results = body["results"]!.AsArray();
        Assert.Equal(["applied", "failed", "invalid"], results.Select(r => r!["status"]!.GetValue<string>()));
        Assert.Contains("send it again", results[1]!["reason"]!.GetValue<string>());
        Assert.Equal(40, (await admin.GetJsonAsync("/api/v1/skus/sku-stored")).Body!["stock"]!["totalAvailable"]!.GetValue<long>());
        Assert.Equal(0, (await admin.GetJsonAsync("/api/v1/skus/sku-broken")).Body!["stock"]!["totalAvailable"]!.GetValue<long>());

        // Sent again as it was once the fault is gone, the failed item is applied.
        await storage.ExecuteAsync("DROP TRIGGER refuse_broken_sku ON sku_ledger");
        var again = await admin.PostJsonAsync("/api/v1/stock/bulk", new { items = new[] { items[1] } });
        Assert.Equal("applied", again.Body!["results"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(30, (await admin.GetJsonAsync("/api/v1/skus/sku-broken")).Body!["stock"]!["totalAvailable"]!.GetValue<long>());
    }
}
