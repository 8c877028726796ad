namespace Orleans.Trade.Wallets;

/// <summary>A transfer with the business time it was made (transfers themselves carry no time, so retries compare equal).</summary>
public sealed record LedgerEntry(Transfer Transfer, DateTimeOffset At);

/// <summary>
/// A ledger as stored: the latest snapshot (if any: <see cref="SellerBooksBinary"/>, or JSON if stored before it) and the transfers appended after it, in order;
/// <paramref name="SnapshotThrough"/> is the entry number the snapshot covers (0 without one), <paramref name="LastEntryNo"/> the
/// ledger's last entry number (0 for none), <paramref name="Version"/> the ledger's head version, read before the transfers (0
/// for a ledger never appended to since versions exist): what the next append names.
/// </summary>
public sealed record StoredLedger(byte[]? Snapshot, IReadOnlyList<LedgerEntry> Entries, long SnapshotThrough = 0, long LastEntryNo = 0, long Version = 0);

/// <summary>An append that was stored: the ledger's last entry number after it and its new head version.</summary>
public readonly record struct LedgerAppended(long LastEntryNo, long Version);

/// <summary>
/// Another writer appended to the ledger since the version an append named: two activations of one ledger (a partition or a
/// membership change). Nothing of the refused append was stored.
/// </summary>
public sealed class LedgerVersionConflictException(string ledgerId, long expectedVersion)
    : Exception($"The ledger '{ledgerId}' was appended to by another writer since version {expectedVersion}; nothing was stored.")
{
    public string LedgerId { get; } = ledgerId;
    public long ExpectedVersion { get; } = expectedVersion;
}

/// <summary>Append-only storage of a seller ledger's transfers (the silo implements it over the database).</summary>
public interface ILedgerStore
{
    Task<StoredLedger> LoadAsync(string ledgerId, CancellationToken cancellationToken);

    /// <summary>
    /// Appends the transfers in one transaction if the ledger's head is still at <paramref name="expectedVersion"/> (what the
    /// writer loaded or last appended), and moves the head on by one; otherwise stores nothing and throws
    /// <see cref="LedgerVersionConflictException"/>. An id already stored is skipped (retries are no-ops). Answers the entry
    /// number of the ledger's last stored transfer (0 for none), what a snapshot of the books as they stand after these
    /// transfers covers, and the new version. Transfers are never deleted.
    /// </summary>
    Task<LedgerAppended> AppendAsync(string ledgerId, long expectedVersion, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken);

    /// <summary>
    /// The transfers of one order (ids <c>{orderId}:...</c>) stored through entry <paramref name="throughEntryNo"/>, in the order
    /// stored: what an archived order is taken back from.
    /// </summary>
    Task<IReadOnlyList<LedgerEntry>> LoadOrderAsync(string ledgerId, string orderId, long throughEntryNo, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="snapshot"/>, the books after the transfers through <paramref name="throughEntryNo"/>, as the
    /// ledger's snapshot, unless the one stored already covers more: a load then reads it and only the transfers appended after
    /// it. One through the same entry replaces the stored one (an archiving pass changes the books without a transfer). Answers
    /// whether it was stored.
    /// </summary>
    Task<bool> SaveSnapshotAsync(string ledgerId, long throughEntryNo, DateTimeOffset takenAt, byte[] snapshot, CancellationToken cancellationToken);
}
