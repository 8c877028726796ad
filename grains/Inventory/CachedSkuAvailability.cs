using System.Collections.Concurrent;
using Orleans.Trade.Common;

namespace Orleans.Trade.Inventory;

/// <summary>
/// What this silo's checkouts last heard from each SKU (its catalog and units available), at most <see cref="MaxAge"/> old
/// (business clock), so a checkout of a SKU that had plenty a moment ago goes straight to its order instead of asking the SKU
/// first: one call less to the hottest grain of a flash sale per checkout. It is only a hint. The order's reservation is the
/// SKU's own answer: too few units left, a SKU gone or sold by another seller since are refused there, as they are when the
/// SKU is asked first (the answer names the short lines, with substitutes, or the reason). A checkout whose copy shows too few
/// units, or has none, asks the SKU and refreshes the copy, so the sold-out answer of a flash sale that is over is as before.
/// </summary>
public sealed class CachedSkuAvailability(TradeClock clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (SkuAvailability View, DateTimeOffset SeenAt)> _views = new(StringComparer.Ordinal);
    private readonly StaleCopySweep _sweep = new(SweepEvery, clock.GetUtcNow());

    /// <summary>SKUs with a copy kept, fresh or not yet swept (for tests: it takes every lock of the dictionary).</summary>
    public int Count => _views.Count;

    /// <summary>A copy not older than <see cref="MaxAge"/> that showed at least <paramref name="units"/> available.</summary>
    public bool TryGetPlenty(string skuId, long units, out SkuAvailability view)
    {
        if (_views.TryGetValue(skuId, out var seen) && Fresh(seen.SeenAt, clock.GetUtcNow()) && seen.View.Available >= units)
        {
            view = seen.View;
            return true;
        }
        view = null!;
        return false;
    }

    /// <summary>Keeps what the SKU just answered (nothing for a SKU that does not exist); now and then drops stale copies.</summary>
    public void Seen(string skuId, SkuAvailability? view)
    {
        var now = clock.GetUtcNow();
        if (view is null)
        {
            _views.TryRemove(skuId, out _);
        }
        else
        {
            _views[skuId] = (view, now);
        }
        _sweep.IfDue(_views, now, static (seen, now) => Fresh(seen.SeenAt, now));
    }

    private static bool Fresh(DateTimeOffset seenAt, DateTimeOffset now) => now >= seenAt && now - seenAt <= MaxAge;
}
