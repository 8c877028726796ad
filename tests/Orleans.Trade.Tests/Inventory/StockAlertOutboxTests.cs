using System.Diagnostics;
using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>R-INV-2: a SKU's alerts go out from its durable outbox, after the change that raised them is answered.</summary>
public sealed class StockAlertOutboxTests
{
    [Fact]
    public async Task A_slow_alert_table_holds_no_stock_write_and_an_alert_raised_while_one_is_recorded_follows_it()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("alertoutbox");
        var storage = SiloStorage.Postgres(connectionString);
        await using var silo = await SiloProcess.StartAsync(storage, "alertoutbox-" + Guid.NewGuid().ToString("N")[..8]);
        using var admin = silo.CreateClient();
        await admin.PutJsonAsync("/api/v1/warehouses/wh-cn-1", new { name = "Shenzhen", country = "CN" });
        await TradeHttp.SeedSkuAsync(admin, "sku-alerting", "seller-c", lowStockThreshold: 5);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutJsonAsync("/api/v1/skus/sku-alerting/stock/wh-cn-1", new { onHand = 20, version = 1 })).Status);
        // Recording an alert takes three seconds (a table under a lock, a slow disk).
        await storage.ExecuteAsync("""
            CREATE FUNCTION slow_alert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
            CREATE TRIGGER slow_alert BEFORE INSERT ON stock_alerts FOR EACH ROW EXECUTE FUNCTION slow_alert();
            """);

        var clock = Stopwatch.StartNew();
        var crossing = await admin.PutJsonAsync("/api/v1/skus/sku-alerting/stock/wh-cn-1", new { onHand = 4, version = 2 }); // low stock
        var crossingTook = clock.Elapsed;
        // Sold out while the low-stock alert is being recorded: its alert must not wait for a write that may never come.
        var next = await admin.PutJsonAsync("/api/v1/skus/sku-alerting/stock/wh-cn-1", new { onHand = 0, version = 3 });
        var bothTook = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, crossing.Status);
        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.True(crossingTook < TimeSpan.FromSeconds(2), $"the write that raised the alert took {crossingTook.TotalSeconds:F1} s");
        Assert.True(bothTook < TimeSpan.FromSeconds(2), $"the two writes took {bothTook.TotalSeconds:F1} s");
        var alerts = await Eventually.ReadAsync(async () => (await admin.GetJsonAsync("/api/v1/stock/alerts?skuId=sku-alerting")).Body!,
            page => page["items"]!.AsArray().Count >= 2, "both alerts to be recorded");
        var items = alerts["items"]!.AsArray();
        Assert.Equal(["outOfStock", "lowStock"], items.Select(a => a!["kind"]!.GetValue<string>())); // newest first
        Assert.Equal(4, items[1]!["available"]!.GetValue<long>());
    }
}
