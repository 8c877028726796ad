namespace Orleans.Trade.Orders;

/// <summary>A seller's stored redemptions of its coupons, and the version of that ledger (0 before its first write).</summary>
public sealed record CouponLedger(long Version, IReadOnlyDictionary<string, CouponRedemptionRecord> Redemptions);

/// <summary>
/// One atomic change of a seller's redemptions: the ones taken or changed (by order id) and the ones given back since the last
/// write. Redemptions arriving while a write is in flight travel in the next one; a write carries only what changed, so its cost
/// does not grow with the redemptions a busy coupon holds.
/// </summary>
public sealed record CouponLedgerWrite(
    string SellerId,
    long ExpectedVersion,
    IReadOnlyList<KeyValuePair<string, CouponRedemptionRecord>> Upserted,
    IReadOnlyList<string> Removed);

/// <summary>The write lost a race with another activation of the seller's coupons (its version moved); nothing was written.</summary>
public sealed class CouponLedgerConflictException(string sellerId, long expectedVersion)
    : Exception($"The coupon redemptions of seller '{sellerId}' are no longer at version {expectedVersion}; another activation wrote them.");

/// <summary>Durable storage of sellers' coupon redemptions, a row each (the silo implements it over PostgreSQL or SQLite).</summary>
public interface ICouponLedgerStore
{
    Task<CouponLedger> LoadAsync(string sellerId, CancellationToken cancellationToken);

    /// <summary>Applies the write in one transaction if the stored version is <c>ExpectedVersion</c>; returns the new version.</summary>
    /// <exception cref="CouponLedgerConflictException">Another writer moved the version; nothing was written.</exception>
    Task<long> WriteAsync(CouponLedgerWrite write, CancellationToken cancellationToken);
}
