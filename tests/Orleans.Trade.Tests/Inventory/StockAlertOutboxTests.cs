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

    [Fact]
    public async Task An_alert_the_alert_table_refused_is_recorded_after_a_restart_though_no_one_asks_for_its_sku()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("alertrestart");
        var storage = SiloStorage.Postgres(connectionString);
        await using var silo = await SiloProcess.StartAsync(storage, "alertrestart-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                // Reminders may tick this often only below Orleans' one-minute floor, which the deadline period lowers.
                ["Orders__DeadlineCheckPeriod"] = "00:00:02",
                ["Inventory__AlertReminderPeriod"] = "00:00:05",
            });
        using var admin = silo.CreateClient();
        await TradeHttp.SeedSkuAsync(admin, "sku-sold-out", "seller-c", lowStockThreshold: 5);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutJsonAsync("/api/v1/skus/sku-sold-out/stock/wh-cn-1", new { onHand = 20, version = 1 })).Status);
        // The alert table refuses every insert (a broken migration, a full tablespace).
        await storage.ExecuteAsync("""
            CREATE FUNCTION refuse_alert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'alert table unavailable'; END $$;
            CREATE TRIGGER refuse_alert BEFORE INSERT ON stock_alerts FOR EACH ROW EXECUTE FUNCTION refuse_alert();
            """);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutJsonAsync("/api/v1/skus/sku-sold-out/stock/wh-cn-1", new { onHand = 0, version = 2 })).Status);
        // The SKU tries to record its out-of-stock alert, fails, and keeps a reminder until it has.
        const string reminders = "SELECT count(*) FROM OrleansRemindersTable WHERE ReminderName = @name";
        await Eventually.UntilAsync(async () => Convert.ToInt64(await storage.ScalarAsync(reminders, "name", "stock-alerts")), n => n == 1,
            "the SKU's alert reminder");

        // A rolling update restarts the silo; the alert table works again. Nothing asks for the sold-out SKU afterwards, and
        // the alert list reads the table only: the alert stored in the SKU's outbox must still reach it.
        silo.Terminate();
        Assert.Equal(0, await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await storage.ExecuteAsync("DROP TRIGGER refuse_alert ON stock_alerts;");
        await silo.StartAsync();

        var alerts = await Eventually.ReadAsync(async () => (await admin.GetJsonAsync("/api/v1/stock/alerts?skuId=sku-sold-out")).Body!,
            page => page["items"]!.AsArray().Count >= 1, "the out-of-stock alert to be recorded after the restart", TimeSpan.FromSeconds(60));
        Assert.Equal("outOfStock", Assert.Single(alerts["items"]!.AsArray())!["kind"]!.GetValue<string>());
        // Recorded: the reminder goes, so a SKU is not woken for ever.
        await Eventually.UntilAsync(async () => Convert.ToInt64(await storage.ScalarAsync(reminders, "name", "stock-alerts")), n => n == 0,
            "the alert reminder to be unregistered");
    }
}
