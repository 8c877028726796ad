namespace Orleans.Trade.Common;

/// <summary>
/// One value as this silo last read it, at most <paramref name="maxAge"/> old on the business clock: callers that find the copy
/// stale together share one read, and a failed read is not kept. The grain that owns the value drops its own silo's copy when it
/// changes (<see cref="Invalidate"/>); other silos see the change within the age.
/// </summary>
public sealed class CachedRead<T>(TradeClock clock, TimeSpan maxAge)
{
    private sealed record Entry(Task<T> Read, DateTimeOffset ReadAt);

    private Entry? _entry;

    public async ValueTask<T> GetAsync(Func<Task<T>> read)
    {
        var now = clock.GetUtcNow();
        while (true)
        {
            var entry = Volatile.Read(ref _entry);
            if (entry is not null && now - entry.ReadAt <= maxAge && now >= entry.ReadAt && !entry.Read.IsFaulted)
            {
                return await entry.Read;
            }
            var fresh = new Entry(read(), now);
            if (Interlocked.CompareExchange(ref _entry, fresh, entry) == entry)
            {
                return await fresh.Read;
            }
        }
    }

    /// <summary>Drops this silo's copy: the next caller reads it again.</summary>
    public void Invalidate() => Volatile.Write(ref _entry, null);
}
