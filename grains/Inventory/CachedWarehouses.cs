using System.Collections.Concurrent;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Inventory;

/// <summary>
/// The warehouse registry as this silo last read it, and the warehouse ranking per ship-to country built from it (R-INV-4), so
/// an order ranks its warehouses without a call to the one registry grain per order. A copy is at most <see cref="MaxAge"/> old
/// (business clock); the registry grain drops its silo's copy when a warehouse is registered. A warehouse another silo has not
/// seen yet is only not preferred: a SKU still allocates its stock, after the ranked ones (see <see cref="StockAllocation"/>).
/// </summary>
public sealed class CachedWarehouses(TradeClock clock, RegionMap regions)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private sealed record Snapshot(IReadOnlyList<Warehouse> Warehouses, DateTimeOffset ReadAt)
    {
        public ConcurrentDictionary<string, IReadOnlyList<string>> RankedByCountry { get; } = new(StringComparer.Ordinal);
    }

    private readonly Lock _lock = new();
    private Snapshot? _snapshot;
    private Task<Snapshot>? _reading;
    private long _generation;

    /// <summary>Warehouse ids, nearest to <paramref name="country"/> first.</summary>
    /// <param name="readRegistry">Reads the registry when this silo's copy is missing or stale (one read at a time).</param>
    public async ValueTask<IReadOnlyList<string>> RankedForAsync(string country, Func<Task<IReadOnlyList<Warehouse>>> readRegistry)
    {
        Snapshot? snapshot;
        Task<Snapshot>? reading;
        lock (_lock)
        {
            snapshot = _snapshot;
            var now = clock.GetUtcNow();
            if (snapshot is not null && (now - snapshot.ReadAt > MaxAge || now < snapshot.ReadAt))
            {
                snapshot = null;
            }
            // One registry read at a time: callers that find the copy stale meanwhile share it.
            reading = snapshot is null ? _reading ??= ReadAsync(readRegistry, _generation) : null;
        }
        snapshot ??= await reading!;
        return snapshot.RankedByCountry.GetOrAdd(country,
            static (c, s) => WarehouseRanking.Rank(c, s.Snapshot.Warehouses.Select(w => (w.WarehouseId, w.Country)), s.Regions),
            (Snapshot: snapshot, Regions: regions));
    }

    /// <summary>Drops this silo's copy (and any read begun before): the next order reads the registry again.</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _generation++;
            _snapshot = null;
            _reading = null;
        }
    }

    private async Task<Snapshot> ReadAsync(Func<Task<IReadOnlyList<Warehouse>>> readRegistry, long generation)
    {
        await Task.Yield();
        var readAt = clock.GetUtcNow();
        try
        {
            var snapshot = new Snapshot(await readRegistry(), readAt);
            lock (_lock)
            {
                if (_generation == generation)
                {
                    _snapshot = snapshot;
                }
            }
            return snapshot;
        }
        finally
        {
            lock (_lock)
            {
                if (_generation == generation)
                {
                    _reading = null;
                }
            }
        }
    }
}
