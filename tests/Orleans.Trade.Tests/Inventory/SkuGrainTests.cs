using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>Records alerts in memory; fails the first <see cref="FailuresLeft"/> calls to exercise the grain's retry.</summary>
public sealed class RecordingAlertSink : IStockAlertSink
{
    public ConcurrentDictionary<string, StockAlert> Alerts { get; } = new();
    public int FailuresLeft;

    public Task RecordAsync(IReadOnlyList<StockAlert> alerts, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref FailuresLeft) >= 0)
        {
            throw new InvalidOperationException("alert table unavailable");
        }
        foreach (var alert in alerts)
        {
            Alerts.TryAdd(alert.AlertId, alert);
        }
        return Task.CompletedTask;
    }
}

public sealed class SkuGrainClusterFixture : IAsyncLifetime
{
    public RecordingAlertSink Sink { get; } = new();
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Trade);
            silo.Services.AddSingleton<IStockAlertSink>(Sink);
            silo.Services.AddSingleton<TimeProvider>(Clock);
            silo.Services.AddSingleton(new TradeClock(Clock));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The SKU grain on Orleans' in-process test cluster (memory storage): ownership, batching, alerts and their retry.</summary>
public sealed class SkuGrainTests(SkuGrainClusterFixture fixture) : IClassFixture<SkuGrainClusterFixture>
{
    private static SkuCatalog Catalog(string seller, int? threshold = null) =>
        new(seller, "Mug", "home", new Money(999, "EUR"), 350, "691200", "PT", threshold);

    private ISkuGrain Sku() => fixture.Cluster.Client.GetGrain<ISkuGrain>("g-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Stock_writes_need_catalog_data_first()
    {
        var result = await Sku().SetStock(new StockLevelUpdate("wh", 1, 1), null);

        Assert.Equal(StockWriteStatus.UnknownSku, result.Status);
    }

    [Fact]
    public async Task Another_seller_can_neither_take_over_nor_restock_a_sku()
    {
        var sku = Sku();
        Assert.Equal(CatalogWriteStatus.Created, (await sku.UpsertCatalog(Catalog("s1"), "s1")).Status);

        Assert.Equal(CatalogWriteStatus.Forbidden, (await sku.UpsertCatalog(Catalog("s2"), "s2")).Status);
        Assert.Equal(StockWriteStatus.Forbidden, (await sku.SetStock(new StockLevelUpdate("wh", 5, 1), "s2")).Status);
        Assert.Equal(StockWriteStatus.Forbidden, (await sku.AdjustStock(new StockAdjustment("wh", "e", 5, null), "s2")).Status);
        Assert.Equal(StockWriteStatus.Applied, (await sku.SetStock(new StockLevelUpdate("wh", 5, 1), "s1")).Status);
        Assert.Equal("s1", (await sku.Get())!.Catalog.SellerId);
    }

    [Fact]
    public async Task A_batch_applies_in_order_and_reports_each_update()
    {
        var sku = Sku();
        await sku.UpsertCatalog(Catalog("s1"), null);

        var results = await sku.SetStockBatch(
            [new StockLevelUpdate("a", 10, 2), new StockLevelUpdate("a", 7, 1), new StockLevelUpdate("b", 3, 1), new StockLevelUpdate("a", 4, 3)], null);

        Assert.Equal([StockWriteStatus.Applied, StockWriteStatus.Stale, StockWriteStatus.Applied, StockWriteStatus.Applied], results.Select(r => r.Status));
        var view = await sku.Get();
        Assert.Equal(7, view!.TotalAvailable);
        Assert.Equal(fixture.Clock.GetUtcNow(), view.UpdatedAt);
    }

    [Fact]
    public async Task Alerts_are_kept_with_the_state_and_delivered_after_the_sink_recovers()
    {
        var sku = Sku();
        await sku.UpsertCatalog(Catalog("s1", threshold: 2), null);
        await sku.SetStock(new StockLevelUpdate("wh", 10, 1), null);
        fixture.Sink.FailuresLeft = 1;

        var result = await sku.SetStock(new StockLevelUpdate("wh", 0, 2), null);

        Assert.Equal(StockWriteStatus.Applied, result.Status);
        var skuId = sku.GetPrimaryKeyString();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!fixture.Sink.Alerts.Values.Any(a => a.SkuId == skuId) && DateTime.UtcNow < deadline)
        {
            // Grain timers run on the injected clock: move it past the retry period.
            fixture.Clock.Advance(TimeSpan.FromSeconds(6));
            await Task.Delay(200);
        }
        var alert = Assert.Single(fixture.Sink.Alerts.Values, a => a.SkuId == skuId);
        Assert.Equal(StockAlertKind.OutOfStock, alert.Kind);
        Assert.True(alert.RaisedAt <= fixture.Clock.GetUtcNow());
    }
}
