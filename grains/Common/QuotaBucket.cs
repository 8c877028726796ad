namespace Orleans.Trade.Common;

/// <summary>
/// The arithmetic of a cluster-wide request budget (<see cref="RequestQuotaGrain"/>), apart from Orleans: a token bucket whose
/// tokens, once leased to a silo, still count against the burst until the lease lapses (<see cref="QuotaLeaseTerms.LeaseLifetime"/>), since
/// the bucket cannot know whether they were spent; so what the silos hold and what the bucket holds never add up to more than
/// the burst, and over any window the silos together admit at most the burst plus the rate times the window, however the
/// requests are spread. The price: a principal that spent its whole burst at once gets its next token up to a lease's lifetime
/// later than one bucket would give it (the lifetime is at most half the burst's worth of the rate, so a steady principal at
/// its full rate is never held back). A lease is at most a quarter of the whole tokens left (at least one), so silos that ask
/// at once all get some before the bucket runs dry.
/// </summary>
public sealed class QuotaBucket(TimeProvider time)
{
    /// <summary>The leases out, by when they lapse (silos that disagree on the rate, mid-rollout, lease for different times).</summary>
    private readonly PriorityQueue<int, long> _leases = new();
    private TokenBucket _bucket;
    private int _leased;
    private bool _started;

    /// <summary>Tokens leased and not yet lapsed.</summary>
    public int Leased => _leased;

    /// <summary>How long until a whole token is due: the refill, held back while the leases out fill the burst.</summary>
    private TimeSpan UntilOne(long now, double perSecond, double burst)
    {
        var (tokens, leased, at) = (_bucket.Tokens, _leased, now);
        foreach (var (count, expiresAt) in _leases.UnorderedItems.OrderBy(l => l.Priority))
        {
            var cap = burst - leased;
            var seconds = time.GetElapsedTime(at, expiresAt).TotalSeconds;
            if (cap >= 1 && (1 - tokens) / perSecond <= seconds)
            {
                return time.GetElapsedTime(now, at) + TimeSpan.FromSeconds((1 - tokens) / perSecond);
            }
            tokens = Math.Min(Math.Max(0, cap), tokens + seconds * perSecond);
            (leased, at) = (leased - count, expiresAt);
        }
        return time.GetElapsedTime(now, at) + TimeSpan.FromSeconds(Math.Max(0, 1 - tokens) / perSecond);
    }

    public QuotaLease Lease(int want, double perSecond, double burst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(want, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        var now = time.GetTimestamp();
        if (!_started)
        {
            _bucket = new TokenBucket(burst, now);
            _started = true;
        }
        // Refilled piece by piece up to each lapse, each piece capped by what was leased out during it.
        while (_leases.TryPeek(out var count, out var expiresAt) && expiresAt <= now)
        {
            _bucket.Refill(expiresAt, perSecond, Math.Max(0, burst - _leased), time);
            _leases.Dequeue();
            _leased -= count;
        }
        _bucket.Refill(now, perSecond, Math.Max(0, burst - _leased), time);
        var whole = (int)Math.Min(int.MaxValue, Math.Floor(_bucket.Tokens));
        var granted = _bucket.TakeUpTo(Math.Min(want, Math.Max(1, whole / 4)));
        var lifetime = QuotaLeaseTerms.LeaseLifetime(perSecond, burst);
        if (granted == 0)
        {
            return new QuotaLease(0, UntilOne(now, perSecond, burst), lifetime);
        }
        _leases.Enqueue(granted, now + (long)(lifetime.TotalSeconds * time.TimestampFrequency));
        _leased += granted;
        return new QuotaLease(granted, TimeSpan.Zero, lifetime);
    }
}
