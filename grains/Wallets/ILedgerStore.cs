namespace Orleans.Trade.Wallets;

/// <summary>A transfer with the business time it was made (transfers themselves carry no time, so retries compare equal).</summary>
public sealed record LedgerEntry(Transfer Transfer, DateTimeOffset At);

/// <summary>Append-only storage of a seller ledger's transfers (the silo implements it over the database).</summary>
public interface ILedgerStore
{
    Task<IReadOnlyList<LedgerEntry>> LoadAsync(string ledgerId, CancellationToken cancellationToken);

    /// <summary>Appends the transfers in one transaction; an id already stored is skipped (retries are no-ops).</summary>
    Task AppendAsync(string ledgerId, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken);
}
