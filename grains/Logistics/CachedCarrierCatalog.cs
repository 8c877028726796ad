using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>
/// The carrier registry as this silo last read it (R-LOG-2, R-LOG-3), so planning a parcel's carriers does not call the one registry
/// grain each time. A copy is at most <see cref="MaxAge"/> old (business clock); the registry drops its own silo's copy when it
/// changes, other silos see the change within that age.
/// </summary>
public sealed class CachedCarrierCatalog(TradeClock clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private sealed record Entry(Task<CarrierCatalog> Read, DateTimeOffset ReadAt);

    private Entry? _entry;

    public async ValueTask<CarrierCatalog> GetAsync(IGrainFactory grains)
    {
        var now = clock.GetUtcNow();
        while (true)
        {
            var entry = Volatile.Read(ref _entry);
            if (entry is not null && now - entry.ReadAt <= MaxAge && now >= entry.ReadAt && !entry.Read.IsFaulted)
            {
                return await entry.Read;
            }
            var fresh = new Entry(grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).Get(), now);
            if (Interlocked.CompareExchange(ref _entry, fresh, entry) == entry)
            {
                return await fresh.Read;
            }
        }
    }

    /// <summary>Drops this silo's copy: the next plan reads the registry again.</summary>
    public void Invalidate() => Volatile.Write(ref _entry, null);
}
