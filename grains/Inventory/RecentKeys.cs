namespace Orleans.Trade.Inventory;

/// <summary>
/// Keys seen within a time window, at most a fixed number (the oldest go first). Single-threaded: a grain's own memory. It keeps
/// a hash of each key (about 40 bytes an entry instead of the key's string), so two keys may rarely be taken for one another:
/// use it only where a false "seen" is harmless (here: a checkout sent the slower way, which answers it all the same).
/// </summary>
public sealed class RecentKeys(TimeSpan window, int max)
{
    private readonly Dictionary<int, DateTimeOffset> _seen = [];
    private readonly Queue<(int Hash, DateTimeOffset At)> _order = new();

    public int Count => _seen.Count;

    public void Add(string key, DateTimeOffset now)
    {
        var hash = Hash(key);
        _seen[hash] = now;
        _order.Enqueue((hash, now));
        Trim(now);
    }

    public bool Contains(string key, DateTimeOffset now)
    {
        Trim(now);
        return _seen.ContainsKey(Hash(key));
    }

    private static int Hash(string key) => string.GetHashCode(key, StringComparison.Ordinal);

    private void Trim(DateTimeOffset now)
    {
        while (_order.TryPeek(out var oldest) && (_order.Count > max || now - oldest.At > window))
        {
            _order.Dequeue();
            // A key added again later has a newer entry of its own further on: only the entry that matches goes.
            if (_seen.TryGetValue(oldest.Hash, out var at) && at == oldest.At)
            {
                _seen.Remove(oldest.Hash);
            }
        }
    }
}
