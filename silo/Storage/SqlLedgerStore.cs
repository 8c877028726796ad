using Orleans.Trade.Wallets;

namespace Orleans.Trade.Silo.Storage;

public sealed class SqlLedgerStore(TradeDatabase database) : ILedgerStore
{
    public async Task<IReadOnlyList<Transfer>> LoadAsync(string ledgerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command(
                "SELECT transfer_id, kind, debit_account, credit_account, amount_minor, currency, pending_id FROM ledger_transfers " +
                "WHERE ledger_id = @ledger ORDER BY entry_no")
            .With("ledger", ledgerId).ExecuteReaderAsync(cancellationToken);
        var transfers = new List<Transfer>();
        while (await reader.ReadAsync(cancellationToken))
        {
            transfers.Add(new Transfer(reader.GetString(0), Enum.Parse<TransferKind>(reader.GetString(1)), reader.GetString(2), reader.GetString(3),
                reader.GetInt64(4), reader.GetString(5).Trim(), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return transfers;
    }

    public async Task AppendAsync(string ledgerId, IReadOnlyList<Transfer> transfers, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var t in transfers)
        {
            await connection.Command(
                    "INSERT INTO ledger_transfers (ledger_id, transfer_id, kind, debit_account, credit_account, amount_minor, currency, pending_id) " +
                    "VALUES (@ledger, @id, @kind, @debit, @credit, @amount, @currency, @pending) ON CONFLICT (ledger_id, transfer_id) DO NOTHING", transaction)
                .With("ledger", ledgerId).With("id", t.TransferId).With("kind", t.Kind.ToString()).With("debit", t.DebitAccount)
                .With("credit", t.CreditAccount).With("amount", t.Amount).With("currency", t.Currency).With("pending", t.PendingId)
                .ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
