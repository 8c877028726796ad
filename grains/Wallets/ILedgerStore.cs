namespace Orleans.Trade.Wallets;

/// <summary>Append-only storage of a seller ledger's transfers (the silo implements it over the database).</summary>
public interface ILedgerStore
{
    Task<IReadOnlyList<Transfer>> LoadAsync(string ledgerId, CancellationToken cancellationToken);

    /// <summary>Appends the transfers in one transaction; an id already stored is skipped (retries are no-ops).</summary>
    Task AppendAsync(string ledgerId, IReadOnlyList<Transfer> transfers, CancellationToken cancellationToken);
}
