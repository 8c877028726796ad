using Orleans.Placement;

namespace Orleans.Trade.Common;

/// <summary>
/// The cluster-wide bucket behind <see cref="IRequestQuotaGrain"/>. Placed on the silo that first asks: a client usually keeps
/// its connection to one silo, whose leases then stay local calls. No persistent state: a request budget is not business data,
/// and a bucket that starts full after a failover or an idle deactivation (after a minute, set by the silo) is what the
/// principal's pause would have given it unless its burst is more than a minute of its rate.
/// </summary>
[PreferLocalPlacement]
public sealed class RequestQuotaGrain(TimeProvider time) : Grain, IRequestQuotaGrain
{
    private TokenBucket _bucket;
    private bool _started;

    public Task<QuotaLease> Lease(int want, double perSecond, double burst)
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
        _bucket.Refill(now, perSecond, burst, time);
        var granted = _bucket.TakeUpTo(want);
        return Task.FromResult(new QuotaLease(granted, granted > 0 ? TimeSpan.Zero : _bucket.UntilOne(perSecond)));
    }
}
