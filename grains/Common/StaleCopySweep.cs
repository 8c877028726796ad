using System.Collections.Concurrent;

namespace Orleans.Trade.Common;

/// <summary>
/// Drops a silo's cached copies that are no longer fresh, at most once per <paramref name="every"/> (business clock), so a cache
/// keyed by ids it may see only once (a SKU, a seller's template) does not keep every copy it ever read. The sweep runs on the
/// caller that claims it, without a lock; a clock that went back claims one at once.
/// </summary>
public sealed class StaleCopySweep(TimeSpan every, DateTimeOffset start)
{
    private long _lastTicks = start.UtcTicks;

    /// <summary>
    /// When a sweep is due and this caller wins it, removes the copies <paramref name="fresh"/> rejects at <paramref name="now"/>;
    /// a copy replaced meanwhile is left alone.
    /// </summary>
    public void IfDue<TKey, TValue>(ConcurrentDictionary<TKey, TValue> copies, DateTimeOffset now, Func<TValue, DateTimeOffset, bool> fresh)
        where TKey : notnull
    {
        var last = Interlocked.Read(ref _lastTicks);
        if ((now.UtcTicks - last <= every.Ticks && now.UtcTicks >= last)
            || Interlocked.CompareExchange(ref _lastTicks, now.UtcTicks, last) != last)
        {
            return;
        }
        foreach (var copy in copies)
        {
            if (!fresh(copy.Value, now))
            {
                copies.TryRemove(copy);
            }
        }
    }
}
