using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>A 2xx means durable: SIGKILL the silo right after acknowledged writes, start it again, read them back.</summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task Acknowledged_stock_survives_sigkill_and_restart_on_postgres()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("crash");
        await AssertStockSurvivesKill(SiloStorage.Postgres(connectionString));
    }

    [Fact]
    public async Task Acknowledged_stock_survives_sigkill_and_restart_on_sqlite()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        await AssertStockSurvivesKill(SiloStorage.Sqlite(path));
    }

    private static async Task AssertStockSurvivesKill(SiloStorage storage)
    {
        await using var silo = await SiloProcess.StartAsync(storage, "crash-" + Guid.NewGuid().ToString("N")[..8]);
        using (var admin = silo.CreateClient())
        {
            await TradeHttp.SeedSkuAsync(admin, "sku-crash", "seller-a", lowStockThreshold: 2);
            var writes = Enumerable.Range(0, 20).Select(i =>
                admin.PutJsonAsync($"/api/v1/skus/sku-crash-{i}", TradeHttp.Sku("seller-a"))).ToArray();
            Assert.All(await Task.WhenAll(writes), w => Assert.Equal(HttpStatusCode.Created, w.Status));
            var stock = Enumerable.Range(0, 20).Select(i =>
                admin.PutJsonAsync($"/api/v1/skus/sku-crash-{i}/stock/wh-cn-1", new { onHand = 100 + i, version = 1 })).ToArray();
            Assert.All(await Task.WhenAll(stock), w => Assert.Equal(HttpStatusCode.OK, w.Status));
            Assert.Equal(HttpStatusCode.OK, (await admin.PutJsonAsync("/api/v1/skus/sku-crash/stock/wh-cn-1", new { onHand = 3, version = 7 })).Status);
            var adjusted = await admin.PostJsonAsync("/api/v1/skus/sku-crash/stock/wh-cn-1/adjustments", new { eventId = "evt-crash", delta = -2 });
            Assert.Equal(HttpStatusCode.OK, adjusted.Status);
        }

        silo.Kill();
        await silo.StartAsync();

        using var after = silo.CreateClient();
        var (status, view) = await after.GetJsonAsync("/api/v1/skus/sku-crash");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, view!["stock"]!["totalAvailable"]!.GetValue<long>());
        Assert.Equal(7, view["stock"]!["warehouses"]![0]!["version"]!.GetValue<long>());
        for (var i = 0; i < 20; i++)
        {
            var (_, other) = await after.GetJsonAsync($"/api/v1/skus/sku-crash-{i}");
            Assert.Equal(100 + i, other!["stock"]!["totalAvailable"]!.GetValue<long>());
        }
        // The dedup memory and the version survived too.
        var replay = await after.PostJsonAsync("/api/v1/skus/sku-crash/stock/wh-cn-1/adjustments", new { eventId = "evt-crash", delta = -2 });
        Assert.Equal("duplicate", replay.Body!["outcome"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await after.PutJsonAsync("/api/v1/skus/sku-crash/stock/wh-cn-1", new { onHand = 50, version = 7 })).Status);
        // The alert raised before the crash (3 -> 1 crosses threshold 2) is listed: it was in the SKU's durable outbox, which the
        // SKU's activation after the restart (the reads above) records.
        await Eventually.ReadAsync(async () => (await after.GetJsonAsync("/api/v1/stock/alerts?skuId=sku-crash")).Body!,
            alerts => alerts["items"]!.AsArray().Any(a => a!["kind"]!.GetValue<string>() == "lowStock"), "the low-stock alert to be listed");
    }
}
