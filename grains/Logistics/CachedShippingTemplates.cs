using System.Collections.Concurrent;
using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>
/// Shipping templates as this silo last read them, so a checkout prices its shipping without a call to the seller's template grain
/// per order (a hot SKU's sale reads it once per <see cref="MaxAge"/>). A copy is at most <see cref="MaxAge"/> old (business clock);
/// the seller's grain drops its own silo's copy when a template changes, other silos see the change within that age. Copies
/// past that age are swept every <see cref="SweepEvery"/>, so a silo keeps the templates checked out lately, not every one ever.
/// </summary>
public sealed class CachedShippingTemplates(TradeClock clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(10);

    private sealed record Entry(Task<ShippingTemplate?> Read, DateTimeOffset ReadAt);

    private readonly ConcurrentDictionary<(string Seller, string Template), Entry> _entries = new();
    private readonly StaleCopySweep _sweep = new(SweepEvery, clock.GetUtcNow());

    /// <summary>Templates with a copy kept, fresh or not yet swept (for tests: it takes every lock of the dictionary).</summary>
    public int Count => _entries.Count;

    /// <summary>The template, or null when the seller has none of that id; callers that find the copy stale together share one read.</summary>
    public async ValueTask<ShippingTemplate?> GetAsync(string sellerId, string templateId, IGrainFactory grains)
    {
        var key = (sellerId, templateId);
        var now = clock.GetUtcNow();
        while (true)
        {
            if (_entries.TryGetValue(key, out var entry) && Fresh(entry, now) && !entry.Read.IsFaulted)
            {
                return await entry.Read;
            }
            var fresh = new Entry(grains.GetGrain<ISellerShippingGrain>(sellerId).Get(templateId), now);
            if (entry is null ? _entries.TryAdd(key, fresh) : _entries.TryUpdate(key, fresh, entry))
            {
                _sweep.IfDue(_entries, now, Fresh);
                return await fresh.Read;
            }
        }
    }

    /// <summary>Drops this silo's copy of a template: the next checkout reads it again.</summary>
    public void Invalidate(string sellerId, string templateId) => _entries.TryRemove((sellerId, templateId), out _);

    private static bool Fresh(Entry entry, DateTimeOffset now) => now >= entry.ReadAt && now - entry.ReadAt <= MaxAge;
}
