using Orleans.Placement;

namespace Orleans.Trade.Common;

/// <summary>
/// The cluster-wide budget behind <see cref="IRequestQuotaGrain"/> (its arithmetic: <see cref="QuotaBucket"/>). Placed on the
/// silo that first asks: a client usually keeps its connection to one silo, whose leases then stay local calls. No persistent
/// state: a request budget is not business data. A budget that starts full after a failover, memory-pressure shedding or an
/// idle deactivation (after 30 s, set by the silo) is what the principal's pause would have given it unless its burst is more
/// than that pause's worth of its rate; for a second after a failover the silos may still spend leases of the budget before.
/// </summary>
[PreferLocalPlacement]
public sealed class RequestQuotaGrain(TimeProvider time) : Grain, IRequestQuotaGrain
{
    private readonly QuotaBucket _bucket = new(time);

    public Task<QuotaLease> Lease(int want, double perSecond, double burst) => Task.FromResult(_bucket.Lease(want, perSecond, burst));
}
