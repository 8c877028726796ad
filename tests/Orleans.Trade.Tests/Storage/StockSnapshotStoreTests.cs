using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Trade.Api.Analytics;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// Daily stock snapshots on real PostgreSQL and on SQLite (R-DAT-3: inventory turnover): a day is taken once from the SKU ledgers as
/// the SKU grains store them, and a window's turnover comes from its first and last snapshot and the days' mean on hand.
/// </summary>
public sealed class StockSnapshotStoreTests
{
    public static TheoryData<string> Providers => StorageTestDatabase.Providers;

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 5, 0, TimeSpan.Zero);
    private static readonly DateOnly Day1 = new(2026, 12, 1);

    private static SkuState State(string sellerId, params (string Warehouse, long OnHand, long Reserved, long Sold)[] stock) => new()
    {
        Catalog = new SkuCatalog(sellerId, "Lamp", "home", new Money(2_500, "USD"), 500, "940510", "CN", null),
        Warehouses = stock.ToDictionary(s => s.Warehouse, s => new WarehouseStock(s.Warehouse, s.OnHand, s.Reserved, 1, Now, s.Sold), StringComparer.Ordinal),
        CreatedAt = Now,
        UpdatedAt = Now,
    };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_day_is_taken_once_and_the_windows_turnover_comes_from_its_first_and_last_snapshot(string provider)
    {
        var (database, configuration) = await StorageTestDatabase.OpenAsync(provider, "stocksnapshots");
        await using var _ = database;
        var skus = new SqlSkuLedgerStore(database, configuration, StorageTestDatabase.Serializer,
            Options.Create(new ClusterOptions { ServiceId = "svc", ClusterId = "c" }), [new SqlOrderStore(database)]);
        var store = new SqlStockSnapshotStore(database);
        async Task<long> Write(string skuId, long expected, SkuState state) =>
            await skus.WriteAsync(new SkuLedgerWrite(skuId, expected, state, [], []), CancellationToken.None);

        // Day 1: the lamp has 60 in two warehouses (10 of them sold before), the slow mug 50, another seller's vase 5.
        var lamp = await Write("sku-lamp", 0, State("seller-1", ("wh-de", 40, 2, 10), ("wh-pl", 20, 0, 0)));
        var mug = await Write("sku-mug", 0, State("seller-1", ("wh-de", 50, 0, 0)));
        await Write("sku-vase", 0, State("seller-2", ("wh-de", 5, 0, 0)));
        var first = await store.TakeAsync(Day1, Now, Day1.AddDays(-400), CancellationToken.None);
        var again = await store.TakeAsync(Day1, Now.AddMinutes(5), Day1.AddDays(-400), CancellationToken.None);
        // Day 2: 30 lamps sold; day 3: 10 more lamps sold, 20 arrived; one mug sold.
        lamp = await Write("sku-lamp", lamp, State("seller-1", ("wh-de", 20, 1, 30), ("wh-pl", 10, 0, 10)));
        await store.TakeAsync(Day1.AddDays(1), Now.AddDays(1), Day1.AddDays(-399), CancellationToken.None);
        await Write("sku-lamp", lamp, State("seller-1", ("wh-de", 30, 0, 40), ("wh-pl", 10, 0, 10)));
        await Write("sku-mug", mug, State("seller-1", ("wh-de", 49, 0, 1)));
        await store.TakeAsync(Day1.AddDays(2), Now.AddDays(2), Day1.AddDays(-398), CancellationToken.None);

        var slowest = await store.TurnoverAsync(new TurnoverQuery(Day1, Day1.AddDays(2), "seller-1", null, false, 0, 10), CancellationToken.None);
        var fastest = await store.TurnoverAsync(new TurnoverQuery(Day1, Day1.AddDays(2), "seller-1", null, true, 0, 1), CancellationToken.None);
        var oneSku = await store.TurnoverAsync(new TurnoverQuery(Day1.AddDays(1), Day1.AddDays(2), null, "sku-lamp", false, 0, 10), CancellationToken.None);

        Assert.Equal(3, first);
        Assert.Null(again);
        Assert.Equal(["sku-mug", "sku-lamp"], slowest.Skus.Select(s => s.SkuId));
        Assert.Equal((2L, 41L), (slowest.SkuCount, slowest.UnitsSold));
        var lampRow = slowest.Skus[1];
        // On hand 60, 30, 40: a mean of 43.33; sold 10 -> 50: 40 units; reserved at the end 0.
        Assert.Equal(new SkuTurnoverStats("sku-lamp", "seller-1", Day1, Day1.AddDays(2), 3, 130, 60, 40, 0, 40), lampRow);
        var lampTurnover = InventoryTurnover.Of(lampRow);
        Assert.Equal((43.33, 0.92, 20.0, 2.0, 0.5), (lampTurnover.AverageOnHand, lampTurnover.Turnover, lampTurnover.SalesPerDay, lampTurnover.DaysOfCover, lampTurnover.SellThroughRate));
        Assert.Equal(43.33 + 49.67, slowest.AverageOnHand, 2);
        Assert.Equal("sku-lamp", Assert.Single(fastest.Skus).SkuId);
        Assert.Equal(2, fastest.SkuCount);
        Assert.Equal(new SkuTurnoverStats("sku-lamp", "seller-1", Day1.AddDays(1), Day1.AddDays(2), 2, 70, 30, 40, 0, 10), Assert.Single(oneSku.Skus));

        // A page past the last SKU still says how many there are and what they sold.
        var past = await store.TurnoverAsync(new TurnoverQuery(Day1, Day1.AddDays(2), "seller-1", null, false, 5, 10), CancellationToken.None);
        Assert.Empty(past.Skus);
        Assert.Equal((2L, 41L), (past.SkuCount, past.UnitsSold));
        Assert.Equal(43.33 + 49.67, past.AverageOnHand, 2);

        // A day taken far later deletes the snapshots before what is kept.
        await store.TakeAsync(Day1.AddDays(500), Now.AddDays(500), Day1.AddDays(100), CancellationToken.None);
        var old = await store.TurnoverAsync(new TurnoverQuery(Day1, Day1.AddDays(2), null, null, false, 0, 10), CancellationToken.None);
        Assert.Equal(0, old.SkuCount);
        Assert.Empty(old.Skus);
    }
}

/// <summary>The stock snapshots' settings: a check at least every hour, and more days kept than a report reads.</summary>
public sealed class StockSnapshotOptionsTests
{
    [Theory]
    [InlineData(300, 400, null)]
    [InlineData(0, 400, "StockSnapshotCheckSeconds")]
    [InlineData(3601, 400, "StockSnapshotCheckSeconds")]
    [InlineData(300, 92, "StockSnapshotRetentionDays")]
    [InlineData(300, 93, null)]
    public void Settings_out_of_range_keep_the_silo_from_starting(int checkSeconds, int retentionDays, string? named)
    {
        var problem = new StockSnapshotOptions { StockSnapshotCheckSeconds = checkSeconds, StockSnapshotRetentionDays = retentionDays }.Problem();

        if (named is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(named, problem);
        }
    }
}
