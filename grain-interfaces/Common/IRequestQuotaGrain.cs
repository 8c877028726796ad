namespace Orleans.Trade.Common;

/// <summary>
/// Tokens a silo may spend on its own (<see cref="Granted"/>) for <see cref="Lifetime"/> from when it asked; none granted: how
/// long until one is (<see cref="RetryAfter"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record QuotaLease([property: Id(0)] int Granted, [property: Id(1)] TimeSpan RetryAfter, [property: Id(2)] TimeSpan Lifetime);

/// <summary>The terms both sides of a lease agree on.</summary>
public static class QuotaLeaseTerms
{
    /// <summary>
    /// How long a silo may spend leased tokens (it drops what it has not spent by then), counted from when it asked: 1 s, or
    /// half the burst's worth of the rate if that is less (at least 50 ms). The budget counts them against the burst as long.
    /// </summary>
    public static TimeSpan LeaseLifetime(double perSecond, double burst) => TimeSpan.FromSeconds(Math.Clamp(burst / (2 * perSecond), 0.05, 1));
}

/// <summary>
/// One principal's request budget across the whole cluster: a token bucket (refilled at a rate per second up to a burst) from
/// which each silo leases a few tokens at a time and spends them without asking again, so a cluster of N silos lets the
/// principal through at its rate, not N times it. Key: what is limited (<c>buyer:&lt;id&gt;</c>, <c>key:&lt;key id&gt;</c>).
/// Kept in memory only: a budget lost with its silo starts again full, as it would after the principal paused.
/// </summary>
public interface IRequestQuotaGrain : IGrainWithStringKey
{
    /// <summary>Takes up to <paramref name="want"/> whole tokens (at least 1 asked), at the caller's rate and burst.</summary>
    Task<QuotaLease> Lease(int want, double perSecond, double burst);
}
