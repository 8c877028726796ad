namespace Orleans.Trade.Inventory;

/// <summary>A SKU's stored ledger: its small aggregate state, a version, and one record per open reservation.</summary>
public sealed record SkuLedger(long Version, SkuState State, IReadOnlyList<StockReservation> Reservations);

/// <summary>
/// One atomic change of a SKU's ledger: the new aggregate, reservations opened and closed since the last write. Several
/// requests' changes travel in one write (group commit); a write never carries the whole reservation book, so its cost does
/// not grow with the number of open orders.
/// </summary>
public sealed record SkuLedgerWrite(
    string SkuId,
    long ExpectedVersion,
    SkuState State,
    IReadOnlyList<StockReservation> Opened,
    IReadOnlyList<string> Closed);

/// <summary>The write lost a race with another activation of the same SKU (its version moved); nothing was written.</summary>
public sealed class SkuLedgerConflictException(string skuId, long expectedVersion)
    : Exception($"The ledger of SKU '{skuId}' is no longer at version {expectedVersion}; another activation wrote it.");

/// <summary>Durable storage of SKU ledgers (the silo implements it over PostgreSQL or SQLite).</summary>
public interface ISkuLedgerStore
{
    Task<SkuLedger?> LoadAsync(string skuId, CancellationToken cancellationToken);

    /// <summary>Applies the write in one transaction if the stored version is <c>ExpectedVersion</c>; returns the new version.</summary>
    Task<long> WriteAsync(SkuLedgerWrite write, CancellationToken cancellationToken);
}
