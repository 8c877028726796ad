namespace Orleans.Trade.Api.Analytics;

/// <summary>
/// Reads of an experiment's results that are in flight on this silo, shared: a request arriving while the same experiment (at the
/// same version of its terms) is being read waits for that read instead of starting another. On a million exposed buyers a read
/// replays their history for seconds, and a dashboard polled by several analysts would otherwise stack those reads on the
/// database. Nothing is kept once a read completes: the next request reads afresh, so an answer is never older than the read
/// in flight when it was asked. A shared read is not cancelled by one waiter leaving.
/// </summary>
public sealed class SharedResultReads<TKey, TResult> where TKey : notnull
{
    private readonly Dictionary<TKey, Task<TResult>> _inFlight = [];
    private readonly Lock _gate = new();

    /// <summary>Starts <paramref name="read"/>, or joins the read of <paramref name="key"/> already in flight.</summary>
    public Task<TResult> ReadAsync(TKey key, Func<Task<TResult>> read)
    {
        lock (_gate)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                return running;
            }
            var started = Run(key, read);
            if (!started.IsCompleted)
            {
                _inFlight[key] = started;
            }
            return started;
        }
    }

    /// <summary>Number of reads in flight (for tests and diagnostics).</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    private async Task<TResult> Run(TKey key, Func<Task<TResult>> read)
    {
        try
        {
            return await read();
        }
        finally
        {
            lock (_gate)
            {
                _inFlight.Remove(key);
            }
        }
    }
}
