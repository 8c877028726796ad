using System.Data.Common;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Silo.Storage;

/// <summary>SKU ledgers in sku_ledger (aggregate, versioned) and sku_reservations (one row per open reservation).</summary>
public sealed class SqlSkuLedgerStore : ISkuLedgerStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);
    private readonly TradeDatabase database;
    private readonly RoundTripBatcher<SkuLedgerWrite, bool> _writes;
    private readonly RoundTripBatcher<string, SkuLedger?> _loads;

    public SqlSkuLedgerStore(TradeDatabase database, IConfiguration configuration)
    {
        this.database = database;
        var inFlight = database.Provider == StorageProvider.Postgres ? configuration.GetValue("Storage:RoundTripsInFlight", 2) : 1;
        var maxBatch = configuration.GetValue("Storage:MaxBatch", 512);
        _writes = new RoundTripBatcher<SkuLedgerWrite, bool>(WriteBatchAsync, maxBatch, inFlight, "sku-ledger-write");
        // SQLite caps bound parameters at 32,766; a read batch binds one per SKU.
        _loads = new RoundTripBatcher<string, SkuLedger?>(LoadBatchAsync, Math.Min(maxBatch, 1000), inFlight, "sku-ledger-read");
    }

    /// <summary>Activations of many SKUs share one read (a bulk sync or a busy catalog wakes thousands at once).</summary>
    public Task<SkuLedger?> LoadAsync(string skuId, CancellationToken cancellationToken) => _loads.EnqueueAsync(skuId);

    private async Task<IReadOnlyList<SkuLedger?>> LoadBatchAsync(IReadOnlyList<string> skuIds, CancellationToken cancellationToken)
    {
        var ids = skuIds.Distinct(StringComparer.Ordinal).ToArray();
        var found = new Dictionary<string, (long Version, SkuState State)>(StringComparer.Ordinal);
        var reservations = ids.ToDictionary(id => id, _ => new List<StockReservation>(), StringComparer.Ordinal);
        await using var connection = await database.OpenAsync(cancellationToken);
        DbCommand Select(string columns, string table)
        {
            var command = connection.Command("");
            command.CommandText = $"SELECT {columns} FROM {table} WHERE {command.WithIdsIn(database.Provider, "sku_id", ids)}";
            return command;
        }
        await using (var reader = await Select("sku_id, version, state", "sku_ledger")
                         .ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var skuId = reader.GetString(0);
                found[skuId] = (reader.GetInt64(1), JsonSerializer.Deserialize<SkuState>(reader.GetString(2), Json)
                    ?? throw new InvalidDataException($"The ledger of SKU '{skuId}' is empty."));
            }
        }
        await using (var reader = await Select("sku_id, reservation_id, parts, reserved_at, hold_until", "sku_reservations")
                         .ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var parts = JsonSerializer.Deserialize<StockAllocationPart[]>(reader.GetString(2), Json)!;
                reservations[reader.GetString(0)].Add(new StockReservation(reader.GetString(1), parts, TradeDatabase.FromDb(reader.GetValue(3)),
                    TradeDatabase.FromDbNullable(reader.GetValue(4))));
            }
        }
        return skuIds.Select(id => found.TryGetValue(id, out var ledger) ? new SkuLedger(ledger.Version, ledger.State, reservations[id]) : null).ToArray();
    }

    /// <summary>Completes when the commit holding this write is durable; many SKUs' writes share one transaction.</summary>
    public async Task<long> WriteAsync(SkuLedgerWrite write, CancellationToken cancellationToken)
    {
        if (!await _writes.EnqueueAsync(write))
        {
            throw new SkuLedgerConflictException(write.SkuId, write.ExpectedVersion);
        }
        return write.ExpectedVersion + 1;
    }

    /// <summary>
    /// Applies the writes whose expected version matches, with their reservations, in one transaction; a write that lost its
    /// version check (or a second write of one SKU in the batch) changes nothing and answers false.
    /// </summary>
    private async Task<IReadOnlyList<bool>> WriteBatchAsync(IReadOnlyList<SkuLedgerWrite> writes, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = writes.Where(w => seen.Add(w.SkuId)).ToArray();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var applied = database.Provider == StorageProvider.Postgres
            ? await WritePostgresAsync(connection, transaction, unique, cancellationToken)
            : await WriteSqliteAsync(connection, transaction, unique, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var answered = new HashSet<string>(StringComparer.Ordinal);
        return writes.Select(w => answered.Add(w.SkuId) && applied.Contains(w.SkuId)).ToArray();
    }

    private static async Task<HashSet<string>> WritePostgresAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SkuLedgerWrite> writes,
        CancellationToken cancellationToken)
    {
        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await connection.Command("""
                    WITH input AS (
                        SELECT * FROM unnest(@skus, @expected, @states, @ats) AS i(sku_id, expected, state, at)
                    ), inserted AS (
                        INSERT INTO sku_ledger (sku_id, version, state, updated_at)
                        SELECT sku_id, 1, CAST(state AS jsonb), at FROM input WHERE expected = 0
                        ON CONFLICT (sku_id) DO NOTHING
                        RETURNING sku_id
                    ), updated AS (
                        UPDATE sku_ledger AS l SET version = i.expected + 1, state = CAST(i.state AS jsonb), updated_at = i.at
                        FROM input AS i
                        WHERE i.expected > 0 AND l.sku_id = i.sku_id AND l.version = i.expected
                        RETURNING l.sku_id
                    )
                    SELECT sku_id FROM inserted UNION ALL SELECT sku_id FROM updated
                    """, transaction)
                   .With("skus", writes.Select(w => w.SkuId).ToArray())
                   .With("expected", writes.Select(w => w.ExpectedVersion).ToArray())
                   .With("states", writes.Select(w => JsonSerializer.Serialize(w.State, Json)).ToArray())
                   .With("ats", writes.Select(w => w.State.UpdatedAt.UtcDateTime).ToArray())
                   .ExecutePreparedReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }
        var mine = writes.Where(w => applied.Contains(w.SkuId)).ToArray();
        var closed = mine.SelectMany(w => w.Closed.Select(id => (w.SkuId, Id: id))).ToArray();
        if (closed.Length > 0)
        {
            await connection.Command(
                    "DELETE FROM sku_reservations r USING unnest(@skus, @ids) AS c(sku_id, reservation_id) WHERE r.sku_id = c.sku_id AND r.reservation_id = c.reservation_id",
                    transaction)
                .With("skus", closed.Select(c => c.SkuId).ToArray()).With("ids", closed.Select(c => c.Id).ToArray())
                .ExecuteNonQueryAsync(cancellationToken);
        }
        var opened = mine.SelectMany(w => w.Opened.Select(r => (w.SkuId, Reservation: r))).ToArray();
        if (opened.Length > 0)
        {
            await using var insert = connection.Command(
                    "INSERT INTO sku_reservations (sku_id, reservation_id, parts, reserved_at, hold_until) " +
                    "SELECT r.sku, r.id, CAST(r.parts AS jsonb), r.at, r.hold FROM unnest(@skus, @ids, @parts, @ats, @holds) AS r(sku, id, parts, at, hold) " +
                    "ON CONFLICT (sku_id, reservation_id) DO UPDATE SET hold_until = excluded.hold_until", transaction)
                .With("skus", opened.Select(o => o.SkuId).ToArray())
                .With("ids", opened.Select(o => o.Reservation.ReservationId).ToArray())
                .With("parts", opened.Select(o => JsonSerializer.Serialize(o.Reservation.Parts, Json)).ToArray())
                .With("ats", opened.Select(o => o.Reservation.ReservedAt.UtcDateTime).ToArray());
            // A reservation opened earlier comes again when its hold becomes firm: only its hold changes.
            insert.Parameters.Add(new NpgsqlParameter("holds", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
            {
                Value = opened.Select(o => o.Reservation.HoldUntil is { } h ? h.UtcDateTime : (DateTime?)null).ToArray(),
            });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        return applied;
    }

    private async Task<HashSet<string>> WriteSqliteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SkuLedgerWrite> writes,
        CancellationToken cancellationToken)
    {
        var applied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            var rows = await connection.Command(write.ExpectedVersion == 0
                    ? "INSERT INTO sku_ledger (sku_id, version, state, updated_at) VALUES (@sku, @next, @state, @now) ON CONFLICT (sku_id) DO NOTHING"
                    : "UPDATE sku_ledger SET version = @next, state = @state, updated_at = @now WHERE sku_id = @sku AND version = @expected",
                    transaction)
                .With("sku", write.SkuId).With("next", write.ExpectedVersion + 1).With("expected", write.ExpectedVersion)
                .With("now", database.ToDb(write.State.UpdatedAt)).With("state", JsonSerializer.Serialize(write.State, Json))
                .ExecuteNonQueryAsync(cancellationToken);
            if (rows != 1)
            {
                continue;
            }
            applied.Add(write.SkuId);
            foreach (var id in write.Closed)
            {
                await connection.Command("DELETE FROM sku_reservations WHERE sku_id = @sku AND reservation_id = @id", transaction)
                    .With("sku", write.SkuId).With("id", id).ExecuteNonQueryAsync(cancellationToken);
            }
            foreach (var r in write.Opened)
            {
                await connection.Command("""
                        INSERT INTO sku_reservations (sku_id, reservation_id, parts, reserved_at, hold_until) VALUES (@sku, @id, @parts, @at, @hold)
                        ON CONFLICT (sku_id, reservation_id) DO UPDATE SET hold_until = excluded.hold_until
                        """, transaction)
                    .With("sku", write.SkuId).With("id", r.ReservationId).With("parts", JsonSerializer.Serialize(r.Parts, Json))
                    .With("at", database.ToDb(r.ReservedAt)).With("hold", database.ToDb(r.HoldUntil))
                    .ExecuteNonQueryAsync(cancellationToken);
            }
        }
        return applied;
    }
}
