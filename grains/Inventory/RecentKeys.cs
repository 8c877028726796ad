namespace Orleans.Trade.Inventory;

/// <summary>
/// Keys seen within a time window, at most a fixed number (the oldest go first). Single-threaded: a grain's own memory.
/// </summary>
public sealed class RecentKeys(TimeSpan window, int max)
{
    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, DateTimeOffset At)> _order = new();

    public int Count => _seen.Count;

    public void Add(string key, DateTimeOffset now)
    {
        _seen[key] = now;
        _order.Enqueue((key, now));
        Trim(now);
    }

    public bool Contains(string key, DateTimeOffset now)
    {
        Trim(now);
        return _seen.ContainsKey(key);
    }

    private void Trim(DateTimeOffset now)
    {
        while (_order.TryPeek(out var oldest) && (_order.Count > max || now - oldest.At > window))
        {
            _order.Dequeue();
            // A key added again later has a newer entry of its own further on: only the entry that matches goes.
            if (_seen.TryGetValue(oldest.Key, out var at) && at == oldest.At)
            {
                _seen.Remove(oldest.Key);
            }
        }
    }
}
