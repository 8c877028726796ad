using Orleans.Trade.Wallets;

namespace Orleans.Trade.Silo.Storage;

public sealed class SqlLedgerStore(TradeDatabase database) : ILedgerStore, Orleans.Trade.Api.Wallets.ILedgerQueries
{
    public async Task<StoredLedger> LoadAsync(string ledgerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // The version first: an append that lands between this read and the transfers' is then seen in the transfers, and the
        // next append names a version already passed and is refused (the activation reloads); read after them, it could be
        // taken as known without its transfers.
        var version = Convert.ToInt64(await connection.Command("SELECT COALESCE((SELECT version FROM ledger_heads WHERE ledger_id = @ledger), 0)")
            .With("ledger", ledgerId).ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        byte[]? snapshot = null;
        long after = 0;
        await using (var reader = await connection.Command("SELECT through_entry_no, body FROM ledger_snapshots WHERE ledger_id = @ledger")
                         .With("ledger", ledgerId).ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                after = reader.GetInt64(0);
                // SQLite keeps what a snapshot was stored as: text before migration 0014, bytes since.
                snapshot = reader.GetValue(1) switch
                {
                    byte[] bytes => bytes,
                    string text => System.Text.Encoding.UTF8.GetBytes(text),
                    var other => throw new InvalidOperationException($"The snapshot of ledger '{ledgerId}' is stored as {other.GetType().Name}."),
                };
            }
        }
        await using var transfers = await connection.Command(
                $"SELECT {EntryColumns}, entry_no FROM ledger_transfers WHERE ledger_id = @ledger AND entry_no > @after ORDER BY entry_no")
            .With("ledger", ledgerId).With("after", after).ExecuteReaderAsync(cancellationToken);
        var entries = new List<LedgerEntry>();
        var last = after;
        while (await transfers.ReadAsync(cancellationToken))
        {
            entries.Add(ReadEntry(transfers));
            last = transfers.GetInt64(8);
        }
        return new StoredLedger(snapshot, entries, after, last, version);
    }

    public async Task<IReadOnlyList<LedgerEntry>> LoadOrderAsync(string ledgerId, string orderId, long throughEntryNo, CancellationToken cancellationToken)
    {
        // The order's ids are '{order}:...': in byte order (migration 0019 on PostgreSQL, SQLite's own) a range of the key.
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command(
                $"SELECT {EntryColumns} FROM ledger_transfers " +
                "WHERE ledger_id = @ledger AND transfer_id >= @from AND transfer_id < @to AND entry_no <= @through ORDER BY entry_no")
            .With("ledger", ledgerId).With("from", orderId + ":").With("to", orderId + ";").With("through", throughEntryNo)
            .ExecuteReaderAsync(cancellationToken);
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(ReadEntry(reader));
        }
        return entries;
    }

    private const string EntryColumns = "transfer_id, kind, debit_account, credit_account, amount_minor, currency, pending_id, created_at";

    private static LedgerEntry ReadEntry(System.Data.Common.DbDataReader row) =>
        new(new Transfer(row.GetString(0), Enum.Parse<TransferKind>(row.GetString(1)), row.GetString(2), row.GetString(3), row.GetInt64(4),
            row.GetString(5).Trim(), row.IsDBNull(6) ? null : row.GetString(6)), TradeDatabase.FromDb(row.GetValue(7)));

    public async Task<LedgerAppended> AppendAsync(string ledgerId, long expectedVersion, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == StorageProvider.Postgres)
        {
            // One statement, so its own transaction: no BEGIN and COMMIT round trips around it.
            return await InsertPostgresAsync(connection, ledgerId, expectedVersion, entries, cancellationToken)
                ?? throw new LedgerVersionConflictException(ledgerId, expectedVersion);
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await VersionHeads.MoveSqliteAsync(connection, transaction, "ledger_heads", "ledger_id", ledgerId, expectedVersion, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new LedgerVersionConflictException(ledgerId, expectedVersion);
        }
        foreach (var (t, at) in entries)
        {
            await connection.Command(
                    "INSERT INTO ledger_transfers (ledger_id, transfer_id, kind, debit_account, credit_account, amount_minor, currency, pending_id, created_at) " +
                    "VALUES (@ledger, @id, @kind, @debit, @credit, @amount, @currency, @pending, @at) ON CONFLICT (ledger_id, transfer_id) DO NOTHING", transaction)
                .With("ledger", ledgerId).With("id", t.TransferId).With("kind", t.Kind.ToString()).With("debit", t.DebitAccount)
                .With("credit", t.CreditAccount).With("amount", t.Amount).With("currency", t.Currency).With("pending", t.PendingId).With("at", database.ToDb(at))
                .ExecuteNonQueryAsync(cancellationToken);
        }
        var last = await connection.Command("SELECT COALESCE(MAX(entry_no), 0) FROM ledger_transfers WHERE ledger_id = @ledger", transaction)
            .With("ledger", ledgerId).ExecuteScalarAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new LedgerAppended(Convert.ToInt64(last, System.Globalization.CultureInfo.InvariantCulture), expectedVersion + 1);
    }

    public async Task<bool> SaveSnapshotAsync(string ledgerId, long throughEntryNo, DateTimeOffset takenAt, byte[] snapshot, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Snapshots are stored off the ledger's write path, so an older one may arrive after a newer one: it is then dropped. One
        // through the same entry replaces the stored one: both are the books after the same transfers, and the later one may
        // have archived more orders (a quiet seller's archiving pass writes no transfer).
        var rows = await connection.Command(
                "INSERT INTO ledger_snapshots (ledger_id, through_entry_no, taken_at, body) VALUES (@ledger, @through, @at, @body) " +
                "ON CONFLICT (ledger_id) DO UPDATE SET through_entry_no = excluded.through_entry_no, taken_at = excluded.taken_at, body = excluded.body " +
                "WHERE ledger_snapshots.through_entry_no <= excluded.through_entry_no")
            .With("ledger", ledgerId).With("through", throughEntryNo).With("at", database.ToDb(takenAt)).With("body", snapshot)
            .ExecuteNonQueryAsync(cancellationToken);
        return rows == 1;
    }

    /// <summary>The statement of <see cref="InsertPostgresAsync"/>, made once.</summary>
    private static readonly string AppendSql = $"""
        WITH {VersionHeads.PostgresHead("ledger_heads", "ledger_id", "@ledger")}, inserted AS (
            INSERT INTO ledger_transfers (ledger_id, transfer_id, kind, debit_account, credit_account, amount_minor, currency, pending_id, created_at)
            SELECT @ledger, t.id, t.kind, t.debit, t.credit, t.amount, t.currency, t.pending, t.at
            FROM unnest(@ids, @kinds, @debits, @credits, @amounts, @currencies, @pendings, @ats)
                WITH ORDINALITY AS t(id, kind, debit, credit, amount, currency, pending, at, n)
            WHERE EXISTS (SELECT 1 FROM head)
            ORDER BY t.n
            ON CONFLICT (ledger_id, transfer_id) DO NOTHING
            RETURNING entry_no
        )
        SELECT (SELECT version FROM head), GREATEST(
            (SELECT COALESCE(MAX(entry_no), 0) FROM inserted),
            (SELECT COALESCE(MAX(entry_no), 0) FROM ledger_transfers WHERE ledger_id = @ledger))
        """;

    /// <summary>
    /// Every transfer of a group commit in one statement (a statement per transfer cost a round trip each, 4% of the silo under
    /// the paid sale), with the head's check: the head row moves on only from <paramref name="expectedVersion"/> (a writer
    /// holding it makes this one wait, then see its version), and the transfers go in only if it moved; null when it did not.
    /// Rows go in in the given order, so their entry numbers keep the replay order. Answers the ledger's last entry number: the
    /// inserted rows are not visible to the statement's own query, so the highest of both.
    /// </summary>
    private static async Task<LedgerAppended?> InsertPostgresAsync(System.Data.Common.DbConnection connection, string ledgerId, long expectedVersion,
        IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(AppendSql)
            .With("ledger", ledgerId)
            .With("expected", expectedVersion)
            .With("ids", entries.Select(e => e.Transfer.TransferId).ToArray())
            .With("kinds", entries.Select(e => e.Transfer.Kind.ToString()).ToArray())
            .With("debits", entries.Select(e => e.Transfer.DebitAccount).ToArray())
            .With("credits", entries.Select(e => e.Transfer.CreditAccount).ToArray())
            .With("amounts", entries.Select(e => e.Transfer.Amount).ToArray())
            .With("currencies", entries.Select(e => e.Transfer.Currency).ToArray())
            .With("pendings", entries.Select(e => e.Transfer.PendingId).ToArray())
            .With("ats", entries.Select(e => e.At.UtcDateTime).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.IsDBNull(0) ? null : new LedgerAppended(reader.GetInt64(1), reader.GetInt64(0));
    }

    public async Task<IReadOnlyList<Orleans.Trade.Api.Wallets.StatementLine>> StatementAsync(
        string sellerId, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command(
                "SELECT created_at, transfer_id, kind, debit_account, credit_account, amount_minor, currency FROM ledger_transfers " +
                "WHERE ledger_id = @ledger AND created_at >= @from AND created_at < @to ORDER BY entry_no LIMIT @limit")
            .With("ledger", sellerId).With("from", database.ToDb(from)).With("to", database.ToDb(to)).With("limit", limit)
            .ExecuteReaderAsync(cancellationToken);
        var lines = new List<Orleans.Trade.Api.Wallets.StatementLine>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new(TradeDatabase.FromDb(reader.GetValue(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetInt64(5), reader.GetString(6).Trim()));
        }
        return lines;
    }

    public async Task<IReadOnlyList<Orleans.Trade.Api.Wallets.TaxCollected>> TaxCollectedAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Booked at release (credits) less given back by refunds after release (debits), each in the period it happened.
        await using var reader = await connection.Command(
                "SELECT account, currency, SUM(booked), SUM(refunded), SUM(releases) FROM (" +
                "SELECT credit_account AS account, currency, amount_minor AS booked, 0 AS refunded, 1 AS releases FROM ledger_transfers " +
                "WHERE kind = 'Posted' AND credit_account LIKE 'tax:payable:%' AND created_at >= @from AND created_at < @to " +
                "UNION ALL SELECT debit_account, currency, 0, amount_minor, 0 FROM ledger_transfers " +
                "WHERE kind = 'Posted' AND debit_account LIKE 'tax:payable:%' AND created_at >= @from AND created_at < @to" +
                ") AS tax GROUP BY account, currency ORDER BY account, currency")
            .With("from", database.ToDb(from)).With("to", database.ToDb(to)).ExecuteReaderAsync(cancellationToken);
        var rows = new List<Orleans.Trade.Api.Wallets.TaxCollected>();
        while (await reader.ReadAsync(cancellationToken))
        {
            // tax:payable:{country}:{currency}
            var country = reader.GetString(0).Split(':')[2];
            var (booked, refunded) = (Convert.ToInt64(reader.GetValue(2)), Convert.ToInt64(reader.GetValue(3)));
            rows.Add(new(country, reader.GetString(1).Trim(), booked - refunded, Convert.ToInt64(reader.GetValue(4)), refunded));
        }
        return rows;
    }
}
