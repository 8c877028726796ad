namespace Orleans.Trade.Wallets;

/// <summary>A transfer with the business time it was made (transfers themselves carry no time, so retries compare equal).</summary>
public sealed record LedgerEntry(Transfer Transfer, DateTimeOffset At);

/// <summary>A ledger as stored: the latest snapshot (if any) and the transfers appended after it, in order.</summary>
public sealed record StoredLedger(string? Snapshot, IReadOnlyList<LedgerEntry> Entries);

/// <summary>Append-only storage of a seller ledger's transfers (the silo implements it over the database).</summary>
public interface ILedgerStore
{
    Task<StoredLedger> LoadAsync(string ledgerId, CancellationToken cancellationToken);

    /// <summary>
    /// Appends the transfers in one transaction; an id already stored is skipped (retries are no-ops). With
    /// <paramref name="snapshot"/>, the same transaction replaces the ledger's snapshot: the books as they stand after these
    /// transfers, so a load reads it and only the transfers appended later. Transfers are never deleted.
    /// </summary>
    Task AppendAsync(string ledgerId, IReadOnlyList<LedgerEntry> entries, string? snapshot, CancellationToken cancellationToken);
}
