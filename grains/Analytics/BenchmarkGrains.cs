using Microsoft.Extensions.Options;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Analytics;

[GenerateSerializer]
public sealed class SkuBenchmarkState
{
    [Id(0)] public Dictionary<string, CompetitorPrice> Prices { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Competitors' prices of one SKU (R-DAT-3): the latest observation per competitor, compared with the SKU's price as it is when
/// asked, at the platform's current rates.
/// </summary>
public sealed class SkuBenchmarkGrain(
    [PersistentState(stateName: "sku-benchmark", storageName: StorageNames.Trade)] IPersistentState<SkuBenchmarkState> state,
    IFxRates fxRates,
    IOptions<SalesAnomalyOptions> options,
    TradeClock clock) : Grain, ISkuBenchmarkGrain
{
    public async Task<BenchmarkWriteStatus> Record(CompetitorPrice price)
    {
        var prices = state.State.Prices;
        if (prices.TryGetValue(price.Competitor, out var stored))
        {
            if (stored.ObservedAt > price.ObservedAt)
            {
                return BenchmarkWriteStatus.Older;
            }
            if (stored.ObservedAt == price.ObservedAt && stored.Price == price.Price && stored.Shipping == price.Shipping && stored.Url == price.Url)
            {
                return BenchmarkWriteStatus.Unchanged;
            }
        }
        else if (prices.Count >= PriceBenchmarks.MaxCompetitors)
        {
            // The competitor seen longest ago makes room, unless this observation is older still.
            var stalest = prices.Values.MinBy(p => p.ObservedAt)!;
            if (stalest.ObservedAt > price.ObservedAt)
            {
                return BenchmarkWriteStatus.Older;
            }
            prices.Remove(stalest.Competitor);
        }
        prices[price.Competitor] = price;
        await state.WriteOrReloadAsync(this);
        return BenchmarkWriteStatus.Recorded;
    }

    public async Task<PriceBenchmark?> Get()
    {
        var catalog = await GrainFactory.GetGrain<ISkuGrain>(this.GetPrimaryKeyString()).GetCatalog();
        return catalog is null ? null : PriceBenchmarks.Compare(this.GetPrimaryKeyString(), catalog.SellerId, catalog.Price, state.State.Prices.Values,
            clock.GetUtcNow(), TimeSpan.FromDays(options.Value.BenchmarkMaxAgeDays), fxRates.TryConvert);
    }
}

[GenerateSerializer]
public sealed class SellerBenchmarksState
{
    /// <summary>The seller's benchmarked SKUs, with when the first competitor's price of each was recorded.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Skus { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Which of a seller's SKUs have competitors' prices (R-DAT-3), in id order, to page their benchmarks.</summary>
public sealed class SellerBenchmarksGrain(
    [PersistentState(stateName: "seller-benchmarks", storageName: StorageNames.Trade)] IPersistentState<SellerBenchmarksState> state,
    TradeClock clock) : Grain, ISellerBenchmarksGrain
{
    private string[]? _sorted;

    public async Task Add(string skuId)
    {
        if (state.State.Skus.TryAdd(skuId, clock.GetUtcNow()))
        {
            _sorted = null;
            await state.WriteOrReloadAsync(this);
        }
    }

    public Task<IReadOnlyList<string>> List(string? after, int limit)
    {
        var sorted = _sorted ??= state.State.Skus.Keys.Order(StringComparer.Ordinal).ToArray();
        var start = after is null ? 0 : Array.BinarySearch(sorted, after, StringComparer.Ordinal) is var i && i >= 0 ? i + 1 : ~i;
        return Task.FromResult<IReadOnlyList<string>>(sorted.Skip(start).Take(limit).ToArray());
    }
}
