namespace Orleans.Trade.Api.Wallets;

/// <summary>One ledger line of a statement: a transfer as it touched the seller's books.</summary>
public sealed record StatementLine(DateTimeOffset At, string TransferId, string Kind, string DebitAccount, string CreditAccount, long AmountMinor, string Currency);

/// <summary>VAT collected for one destination country in one currency over a period (IOSS return, R-SET-2).</summary>
public sealed record TaxCollected(string Country, string Currency, long AmountMinor, long Orders);

/// <summary>Reads the append-only ledger for statements (implemented by the silo over the database).</summary>
public interface ILedgerQueries
{
    Task<IReadOnlyList<TaxCollected>> TaxCollectedAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    Task<IReadOnlyList<StatementLine>> StatementAsync(string sellerId, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken);
}
