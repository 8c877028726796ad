namespace Orleans.Trade.Api.Wallets;

/// <summary>One ledger line of a statement: a transfer as it touched the seller's books.</summary>
public sealed record StatementLine(DateTimeOffset At, string TransferId, string Kind, string DebitAccount, string CreditAccount, long AmountMinor, string Currency);

/// <summary>VAT collected for one destination country in one currency over a period (IOSS return, R-SET-2).</summary>
/// <param name="AmountMinor">VAT booked at the releases of the period less what refunds after release gave back in it: what is due.</param>
/// <param name="Orders">Orders released in the period with VAT booked.</param>
/// <param name="RefundedMinor">VAT given back to buyers by refunds after release in the period (already taken off <paramref name="AmountMinor"/>).</param>
public sealed record TaxCollected(string Country, string Currency, long AmountMinor, long Orders, long RefundedMinor);

/// <summary>Reads the append-only ledger for statements (implemented by the silo over the database).</summary>
public interface ILedgerQueries
{
    Task<IReadOnlyList<TaxCollected>> TaxCollectedAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    Task<IReadOnlyList<StatementLine>> StatementAsync(string sellerId, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken);
}
