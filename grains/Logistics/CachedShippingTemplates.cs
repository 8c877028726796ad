using System.Collections.Concurrent;
using Orleans.Trade.Common;

namespace Orleans.Trade.Logistics;

/// <summary>
/// Shipping templates as this silo last read them, so a checkout prices its shipping without a call to the seller's template grain
/// per order (a hot SKU's sale reads it once per <see cref="MaxAge"/>). A copy is at most <see cref="MaxAge"/> old (business clock);
/// the seller's grain drops its own silo's copy when a template changes, other silos see the change within that age.
/// </summary>
public sealed class CachedShippingTemplates(TradeClock clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private sealed record Entry(Task<ShippingTemplate?> Read, DateTimeOffset ReadAt);

    private readonly ConcurrentDictionary<(string Seller, string Template), Entry> _entries = new();

    /// <summary>The template, or null when the seller has none of that id; callers that find the copy stale together share one read.</summary>
    public async ValueTask<ShippingTemplate?> GetAsync(string sellerId, string templateId, IGrainFactory grains)
    {
        var key = (sellerId, templateId);
        var now = clock.GetUtcNow();
        while (true)
        {
            if (_entries.TryGetValue(key, out var entry) && now - entry.ReadAt <= MaxAge && now >= entry.ReadAt && !entry.Read.IsFaulted)
            {
                return await entry.Read;
            }
            var fresh = new Entry(grains.GetGrain<ISellerShippingGrain>(sellerId).Get(templateId), now);
            if (entry is null ? _entries.TryAdd(key, fresh) : _entries.TryUpdate(key, fresh, entry))
            {
                return await fresh.Read;
            }
        }
    }

    /// <summary>Drops this silo's copy of a template: the next checkout reads it again.</summary>
    public void Invalidate(string sellerId, string templateId) => _entries.TryRemove((sellerId, templateId), out _);
}
