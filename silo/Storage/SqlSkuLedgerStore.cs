using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// SKU ledgers in sku_ledger (aggregate, versioned) and sku_reservations (one row per open reservation); orders a SKU placed
/// itself go into grain_state (the order's and the checkout's rows, as the trade grain storage writes them) and through the
/// order outbox writers, in the same transaction.
/// </summary>
public sealed class SqlSkuLedgerStore : ISkuLedgerStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);
    private const string OrderStateName = OrderGrain.StateName;
    private const string CheckoutStateName = CheckoutGrain.StateName;
    private readonly TradeDatabase database;
    private readonly Serializer _serializer;
    private readonly string _serviceId;
    private readonly IStateOutboxWriter[] _outboxWriters;
    private readonly RoundTripBatcher<SkuLedgerWrite, WriteOutcome> _writes;
    private readonly RoundTripBatcher<string, SkuLedger?> _loads;
    private long _redone;

    /// <summary>How one SKU's write of a batch ended: applied, lost its version check, or carried checkout keys stored before.</summary>
    /// <summary>One write's outcome; <paramref name="Error"/> when its own statements failed (its batchmates were written apart).</summary>
    private readonly record struct WriteOutcome(bool Applied, IReadOnlyList<string>? TakenCheckouts = null, Exception? Error = null);

    public SqlSkuLedgerStore(TradeDatabase database, IConfiguration configuration, Serializer serializer, IOptions<ClusterOptions> cluster,
        IEnumerable<IStateOutboxWriter> outboxWriters, ILogger<SqlSkuLedgerStore>? logger = null)
    {
        _logger = logger;
        this.database = database;
        _serializer = serializer;
        _serviceId = cluster.Value.ServiceId;
        _outboxWriters = outboxWriters.ToArray();
        var inFlight = database.Provider == StorageProvider.Postgres ? configuration.GetValue("Storage:RoundTripsInFlight", 2) : 1;
        var maxBatch = configuration.GetValue("Storage:MaxBatch", 512);
        _writes = new RoundTripBatcher<SkuLedgerWrite, WriteOutcome>(WriteBatchAsync, maxBatch, inFlight, "sku-ledger-write");
        // SQLite caps bound parameters at 32,766; a read batch binds one per SKU.
        _loads = new RoundTripBatcher<string, SkuLedger?>(LoadBatchAsync, Math.Min(maxBatch, 1000), inFlight, "sku-ledger-read");
    }

    /// <summary>
    /// Writes (round trips of the batcher) whose one-round-trip batch was refused and done again the slower way: a checkout key or
    /// order stored before, or a SKU with placed orders that lost its version check. Rare by design; a steady rise means every
    /// such write pays two round trips (metric <c>trade.storage.sku_writes_redone</c>).
    /// </summary>
    public long RedoneWrites => Interlocked.Read(ref _redone);

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
                var parts = ReservationPartsJson.Read(reader.GetString(2));
                reservations[reader.GetString(0)].Add(new StockReservation(reader.GetString(1), parts, TradeDatabase.FromDb(reader.GetValue(3)),
                    TradeDatabase.FromDbNullable(reader.GetValue(4))));
            }
        }
        return skuIds.Select(id => found.TryGetValue(id, out var ledger) ? new SkuLedger(ledger.Version, ledger.State, reservations[id]) : null).ToArray();
    }

    /// <summary>Completes when the commit holding this write is durable; many SKUs' writes share one transaction.</summary>
    public async Task<long> WriteAsync(SkuLedgerWrite write, CancellationToken cancellationToken)
    {
        var outcome = await _writes.EnqueueAsync(write);
        if (outcome.Error is { } error)
        {
            throw new Orleans.Trade.Common.TransientStorageException(
                $"The write of SKU '{write.SkuId}' was refused by the database ({(error as PostgresException)?.SqlState ?? error.GetType().Name}); nothing of it was stored.");
        }
        if (outcome.TakenCheckouts is { Count: > 0 } taken)
        {
            throw new CheckoutKeysTakenException(taken);
        }
        if (!outcome.Applied)
        {
            throw new SkuLedgerConflictException(write.SkuId, write.ExpectedVersion);
        }
        return write.ExpectedVersion + 1;
    }

    /// <summary>
    /// Applies the writes whose expected version matches, with their reservations and placed orders, in one transaction; a write
    /// that lost its version check (or a second write of one SKU in the batch) changes nothing and answers not applied. If some
    /// writes carry checkout keys stored before, the transaction is rolled back and done again without them (they answer which
    /// keys were taken), so one retried checkout never holds back the other SKUs of its batch.
    /// </summary>
    private Task<IReadOnlyList<WriteOutcome>> WriteBatchAsync(IReadOnlyList<SkuLedgerWrite> writes, CancellationToken cancellationToken) =>
        // A statement the database refused for one row's sake (a constraint, a trigger, a value it cannot store) rolls back every
        // SKU of the batch: each SKU is then written apart, so the one at fault fails alone. Faults that would fail every SKU alike
        // (a connection, a lock time-out, a read-only standby) are not split: N round trips would each fail or wait in turn.
        StorageFaults.WriteApartOnRowFaultAsync(writes, w => w.SkuId, batch => WriteTogetherAsync(batch, cancellationToken),
            own => new WriteOutcome(false, Error: own),
            ex =>
            {
                Interlocked.Increment(ref _isolated);
                _logger?.LogWarning(ex, "A batch of {Count} SKU writes was refused by the database; writing its SKUs one at a time", writes.Count);
            },
            (skuId, own) => _logger?.LogError(own, "The write of SKU {SkuId} failed on its own; nothing of it was stored", skuId));

    /// <summary>
    /// Writes (round trips of the batcher) that a statement the database refused failed as a whole and that were then written one SKU
    /// at a time, so only the SKU at fault failed (metric <c>trade.storage.sku_writes_isolated</c>).
    /// </summary>
    public long IsolatedWrites => Interlocked.Read(ref _isolated);

    private long _isolated;
    private readonly ILogger<SqlSkuLedgerStore>? _logger;

    private async Task<IReadOnlyList<WriteOutcome>> WriteTogetherAsync(IReadOnlyList<SkuLedgerWrite> writes, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = writes.Where(w => seen.Add(w.SkuId)).ToList();
        var taken = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var applied = database.Provider == StorageProvider.Postgres ? await TryWriteInOneRoundTripAsync(unique, cancellationToken) : null;
        while (applied is null)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var takenNow = await InsertPlacedOrdersAsync(connection, transaction, unique, cancellationToken);
            if (takenNow.Count > 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                foreach (var (skuId, keys) in takenNow)
                {
                    taken[skuId] = keys;
                }
                unique.RemoveAll(w => takenNow.ContainsKey(w.SkuId));
                continue;
            }
            var appliedNow = database.Provider == StorageProvider.Postgres
                ? await WritePostgresAsync(connection, transaction, unique, cancellationToken)
                : await WriteSqliteAsync(connection, transaction, unique, cancellationToken);
            var lostVersion = unique.Where(w => w.Placed is { Count: > 0 } && !appliedNow.Contains(w.SkuId)).ToArray();
            if (lostVersion.Length > 0)
            {
                // Their orders' rows went in before the version check: without the SKU's write they must not stay.
                await transaction.RollbackAsync(cancellationToken);
                unique.RemoveAll(w => lostVersion.Contains(w));
                continue;
            }
            await transaction.CommitAsync(cancellationToken);
            applied = appliedNow;
        }
        var answered = new HashSet<string>(StringComparer.Ordinal);
        return writes.Select(w => !answered.Add(w.SkuId) ? new WriteOutcome(false)
            : taken.TryGetValue(w.SkuId, out var keys) ? new WriteOutcome(false, keys)
            : new WriteOutcome(applied.Contains(w.SkuId))).ToArray();
    }

    /// <summary>
    /// PostgreSQL, the common case: every statement of the write (the ledgers and their reservations, the placed orders' grain-state
    /// rows, their outbox rows) goes out in one batch, one round trip, and commits as one implicit transaction when the batch ends,
    /// instead of a round trip per statement plus BEGIN and COMMIT (a hot SKU has one write in flight, so its checkouts wait for all of
    /// them). A checkout key or order stored before (a unique violation on grain_state) or a SKU with placed orders that lost its
    /// version check (trade_abort) rolls all of it back and answers null: the caller then writes the slow way, which finds out whose
    /// it was and leaves only that SKU's write out.
    /// </summary>
    private async Task<HashSet<string>?> TryWriteInOneRoundTripAsync(IReadOnlyList<SkuLedgerWrite> writes, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var batch = connection.CreateBatch();
        var guarded = writes.Where(w => w.Placed is { Count: > 0 }).Select(w => w.SkuId).ToArray();
        await using (var ledger = LedgerStatement(connection, null, writes, guarded, openedAreNew: true))
        {
            batch.Append(ledger);
        }
        var placed = Placed(writes);
        if (placed.Length > 0)
        {
            await using (var insert = GrainStatesInsert(connection, null, PlacedRows(placed), keepStored: false))
            {
                batch.Append(insert);
            }
            var outboxes = Outboxes(placed);
            foreach (var writer in _outboxWriters)
            {
                foreach (var statement in writer.PostgresStatements(connection, outboxes, rowsAreNew: true))
                {
                    await using (statement)
                    {
                        batch.Append(statement);
                    }
                }
            }
        }
        try
        {
            await batch.PrepareAsync(cancellationToken);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
            // The later statements' errors surface as their results are reached.
            while (await reader.NextResultAsync(cancellationToken))
            {
            }
            return applied;
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or AbortedState)
        {
            Interlocked.Increment(ref _redone);
            return null;
        }
    }

    /// <summary>The SQLSTATE of trade_abort() (deploy/sql/postgres/0015_trade_abort.sql).</summary>
    private const string AbortedState = "OT409";

    private static (string SkuId, PlacedOrderWrite Order)[] Placed(IReadOnlyList<SkuLedgerWrite> writes) =>
        writes.SelectMany(w => (w.Placed ?? []).Select(p => (w.SkuId, Order: p))).ToArray();

    private List<(string StateName, string GrainId, byte[] Payload, DateTimeOffset? WakeAt)> PlacedRows(
        IReadOnlyList<(string SkuId, PlacedOrderWrite Order)> placed)
    {
        var rows = new List<(string StateName, string GrainId, byte[] Payload, DateTimeOffset? WakeAt)>(placed.Count * 2);
        foreach (var (_, order) in placed)
        {
            var payloads = order.Payloads ?? Payloads(order);
            rows.Add((CheckoutStateName, order.CheckoutGrainId, payloads.Checkout, null));
            rows.Add((OrderStateName, order.OrderGrainId, payloads.Order, order.WakeAt));
        }
        return rows;
    }

    /// <summary>The grain states as the trade grain storage writes and reads them (Orleans' serializer).</summary>
    private PlacedOrderPayloads Payloads(PlacedOrderWrite placed) =>
        new(_serializer.SerializeToArray<OrderState>(placed.Order), _serializer.SerializeToArray<CheckoutState>(placed.Checkout));

    public PlacedOrderWrite Encode(PlacedOrderWrite placed) => placed.Payloads is null ? placed with { Payloads = Payloads(placed) } : placed;

    private object[] Outboxes(IReadOnlyList<(string SkuId, PlacedOrderWrite Order)> placed)
    {
        if (_outboxWriters.Length == 0)
        {
            throw new InvalidOperationException("Placed orders carry outbox rows, but no IStateOutboxWriter is registered.");
        }
        return placed.Select(p => (object)p.Order.Outbox).ToArray();
    }

    /// <summary>
    /// Inserts the grain-state rows of the orders the writes placed (order and checkout, version 1) and their outbox rows; answers,
    /// per SKU, the checkout grain ids already stored or placed by an earlier order of the batch (nothing of the transaction may
    /// then be committed).
    /// </summary>
    private async Task<Dictionary<string, IReadOnlyList<string>>> InsertPlacedOrdersAsync(DbConnection connection, DbTransaction transaction,
        IReadOnlyList<SkuLedgerWrite> writes, CancellationToken cancellationToken)
    {
        var taken = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var placed = Placed(writes);
        if (placed.Length == 0)
        {
            return taken;
        }
        var inserted = await InsertGrainStatesAsync(connection, transaction, PlacedRows(placed), cancellationToken);
        // A key is taken if it was stored before, and also if an earlier order of this batch carries it: one Idempotency-Key
        // sent with two different one-line carts at once reaches two SKUs, whose writes may share this batch. The insert keeps
        // the first row of a key and skips the others, so only the first order placed for it may commit.
        var owners = new HashSet<string>(StringComparer.Ordinal);
        bool Taken((string SkuId, PlacedOrderWrite Order) p) =>
            !owners.Add(p.Order.CheckoutGrainId) || !inserted.Contains((CheckoutStateName, p.Order.CheckoutGrainId));
        foreach (var group in placed.Where(Taken).GroupBy(p => p.SkuId))
        {
            taken[group.Key] = group.Select(p => p.Order.CheckoutGrainId).ToArray();
        }
        if (taken.Count > 0)
        {
            return taken;
        }
        if (placed.FirstOrDefault(p => !inserted.Contains((OrderStateName, p.Order.OrderGrainId))) is { Order: not null } clash)
        {
            throw new InvalidOperationException($"Order state {clash.Order.OrderGrainId} is stored already; a new order id must be new.");
        }
        var outboxes = Outboxes(placed);
        foreach (var writer in _outboxWriters)
        {
            await writer.WriteAsync(connection, transaction, outboxes, cancellationToken);
        }
        return taken;
    }

    /// <summary>Inserts new grain-state rows at version 1 (as the trade grain storage does); answers those inserted, not those stored before.</summary>
    private async Task<HashSet<(string StateName, string GrainId)>> InsertGrainStatesAsync(DbConnection connection, DbTransaction transaction,
        IReadOnlyList<(string StateName, string GrainId, byte[] Payload, DateTimeOffset? WakeAt)> rows, CancellationToken cancellationToken)
    {
        var inserted = new HashSet<(string, string)>();
        if (database.Provider == StorageProvider.Postgres)
        {
            await using var command = GrainStatesInsert(connection, transaction, rows, keepStored: true);
            await using var reader = await command.ExecutePreparedReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add((reader.GetString(0), reader.GetString(1)));
            }
            return inserted;
        }
        await using var insert = connection.Command("""
                INSERT INTO grain_state (service_id, state_name, grain_id, version, payload, wake_at, updated_at)
                VALUES (@service, @name, @id, 1, @payload, @wake, @now) ON CONFLICT (service_id, state_name, grain_id) DO NOTHING
                """, transaction)
            .With("service", _serviceId).With("name", "").With("id", "").With("payload", Array.Empty<byte>()).With("wake", null)
            .With("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        foreach (var row in rows)
        {
            insert.Parameters["name"].Value = row.StateName;
            insert.Parameters["id"].Value = row.GrainId;
            insert.Parameters["payload"].Value = row.Payload;
            insert.Parameters["wake"].Value = row.WakeAt is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value;
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                inserted.Add((row.StateName, row.GrainId));
            }
        }
        return inserted;
    }

    /// <summary>
    /// PostgreSQL: new grain-state rows at version 1. With <paramref name="keepStored"/>, a row stored before stays and the statement
    /// answers the rows it inserted; without, a row stored before fails the statement (unique violation).
    /// </summary>
    private DbCommand GrainStatesInsert(DbConnection connection, DbTransaction? transaction,
        IReadOnlyList<(string StateName, string GrainId, byte[] Payload, DateTimeOffset? WakeAt)> rows, bool keepStored) =>
        connection.Command($"""
                INSERT INTO grain_state (service_id, state_name, grain_id, version, payload, wake_at, updated_at)
                SELECT @service, i.state_name, i.grain_id, 1, i.payload, i.wake_at, now()
                FROM unnest(@names, @ids, @payloads, @wakes) AS i(state_name, grain_id, payload, wake_at)
                {(keepStored ? "ON CONFLICT (service_id, state_name, grain_id) DO NOTHING RETURNING state_name, grain_id" : "")}
                """, transaction)
            .With("service", _serviceId)
            .With("names", rows.Select(r => r.StateName).ToArray())
            .With("ids", rows.Select(r => r.GrainId).ToArray())
            .With("payloads", rows.Select(r => r.Payload).ToArray())
            .WithTimestamps("wakes", rows.Select(r => r.WakeAt));

    /// <summary>
    /// The SKUs' aggregates (each only at its expected version) and, for the SKUs whose aggregate was applied, their reservations
    /// closed and opened: one statement, so one round trip inside the SKU write's transaction (it sits on the hot SKU's critical
    /// path: the SKU has one write in flight at a time).
    /// </summary>
    private static async Task<HashSet<string>> WritePostgresAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SkuLedgerWrite> writes,
        CancellationToken cancellationToken)
    {
        var applied = new HashSet<string>(StringComparer.Ordinal);
        await using var command = LedgerStatement(connection, transaction, writes, guarded: [], openedAreNew: false);
        await using var reader = await command.ExecutePreparedReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(reader.GetString(0));
        }
        return applied;
    }

    /// <summary>
    /// The statement of <see cref="WritePostgresAsync"/>; it answers the SKUs applied, and calls trade_abort (failing the transaction)
    /// if one of the <paramref name="guarded"/> SKUs was not. With <paramref name="openedAreNew"/> the opened reservations are plain
    /// inserts: a SKU writes a reservation when it opens it (a hold made firm is not written again), so its row is new unless the
    /// reservation was released and opened again before the release was written. That rare case fails the statement (a unique
    /// violation) and the caller writes again the slow way, where they are upserts. An <c>ON CONFLICT</c> insert goes through
    /// PostgreSQL's speculative insertion (a probe of the key and a WAL record to confirm each row): 200,000 reservation rows took
    /// 813-901 ms that way against 426-475 ms as plain inserts (tests/Orleans.Trade.Benchmarks/Sql/reservation-insert.sql), and
    /// the hot SKU's write opens one per checkout.
    /// </summary>
    private static DbCommand LedgerStatement(DbConnection connection, DbTransaction? transaction, IReadOnlyList<SkuLedgerWrite> writes,
        IReadOnlyList<string> guarded, bool openedAreNew)
    {
        var closed = writes.SelectMany(w => w.Closed.Select(id => (w.SkuId, Id: id))).ToArray();
        var opened = writes.SelectMany(w => w.Opened.Select(r => (w.SkuId, Reservation: r))).ToArray();
        return connection.Command($"""
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
                ), applied AS (
                    SELECT sku_id FROM inserted UNION ALL SELECT sku_id FROM updated
                ), closed AS (
                    DELETE FROM sku_reservations r USING unnest(@closedSkus, @closedIds) AS c(sku_id, reservation_id)
                    WHERE r.sku_id = c.sku_id AND r.reservation_id = c.reservation_id AND c.sku_id IN (SELECT sku_id FROM applied)
                ), opened AS (
                    INSERT INTO sku_reservations (sku_id, reservation_id, parts, reserved_at, hold_until)
                    SELECT o.sku, o.id, CAST(o.parts AS json), o.at, o.hold
                    FROM unnest(@openedSkus, @openedIds, @parts, @openedAts, @holds) AS o(sku, id, parts, at, hold)
                    WHERE o.sku IN (SELECT sku_id FROM applied)
                    {(openedAreNew ? "" : ReservationMerge)}
                )
                SELECT sku_id FROM applied
                UNION ALL
                SELECT trade_abort('SKU ' || g.sku_id || ' lost its version check; its placed orders must not commit')
                FROM unnest(@guarded) AS g(sku_id) WHERE g.sku_id NOT IN (SELECT sku_id FROM applied)
                """, transaction)
            .With("skus", writes.Select(w => w.SkuId).ToArray())
            .With("expected", writes.Select(w => w.ExpectedVersion).ToArray())
            .With("states", writes.Select(w => JsonSerializer.Serialize(w.State, Json)).ToArray())
            .With("ats", writes.Select(w => w.State.UpdatedAt.UtcDateTime).ToArray())
            .With("closedSkus", closed.Select(c => c.SkuId).ToArray())
            .With("closedIds", closed.Select(c => c.Id).ToArray())
            .With("openedSkus", opened.Select(o => o.SkuId).ToArray())
            .With("openedIds", opened.Select(o => o.Reservation.ReservationId).ToArray())
            .With("parts", opened.Select(o => ReservationPartsJson.Write(o.Reservation.Parts)).ToArray())
            .WithTimestamps("openedAts", opened.Select(o => (DateTimeOffset?)o.Reservation.ReservedAt))
            .WithTimestamps("holds", opened.Select(o => o.Reservation.HoldUntil))
            .With("guarded", guarded.ToArray());
    }

    /// <summary>A reservation released and opened again before the release was written: its row takes the new reservation.</summary>
    private const string ReservationMerge =
        "ON CONFLICT (sku_id, reservation_id) DO UPDATE SET parts = excluded.parts, reserved_at = excluded.reserved_at, hold_until = excluded.hold_until";

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
                await connection.Command(
                        "INSERT INTO sku_reservations (sku_id, reservation_id, parts, reserved_at, hold_until) VALUES (@sku, @id, @parts, @at, @hold) " +
                        ReservationMerge, transaction)
                    .With("sku", write.SkuId).With("id", r.ReservationId).With("parts", ReservationPartsJson.Write(r.Parts))
                    .With("at", database.ToDb(r.ReservedAt)).With("hold", database.ToDb(r.HoldUntil))
                    .ExecuteNonQueryAsync(cancellationToken);
            }
        }
        return applied;
    }
}

/// <summary>
/// A reservation's parts as stored in sku_reservations.parts: JSON with the serializer's general defaults, written by
/// source-generated code (one list per placed order, in the hot SKU's write; through the options the serializer allocated a
/// stack-frame array for each). Tests compare it with the options' JSON.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.General)]
[JsonSerializable(typeof(IReadOnlyList<StockAllocationPart>))]
[JsonSerializable(typeof(StockAllocationPart[]))]
public sealed partial class ReservationPartsJson : JsonSerializerContext
{
    public static string Write(IReadOnlyList<StockAllocationPart> parts) => JsonSerializer.Serialize(parts, Default.IReadOnlyListStockAllocationPart);

    public static StockAllocationPart[] Read(string json) =>
        JsonSerializer.Deserialize(json, Default.StockAllocationPartArray) ?? throw new JsonException("A reservation's parts were null.");
}
