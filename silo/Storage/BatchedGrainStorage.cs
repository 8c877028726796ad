using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Trade.Common;

namespace Orleans.Trade.Silo.Storage;

/// <summary>Writes the outbox rows of grain writes (<see cref="IOutboxState"/>) inside the transaction that stores their states.</summary>
public interface IStateOutboxWriter
{
    Task WriteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<object> outboxes, CancellationToken cancellationToken);

    /// <summary>
    /// PostgreSQL: the same writes as statements not yet run, in order, for a caller that sends them with its own in one round trip
    /// (and one transaction); none for outboxes that are not this writer's. With <paramref name="rowsAreNew"/> (the outboxes of
    /// orders placed in this very transaction) the rows are inserted without merging into rows stored before, which costs
    /// PostgreSQL less per row; a row stored before then fails the statement (unique violation) instead.
    /// </summary>
    IReadOnlyList<DbCommand> PostgresStatements(DbConnection connection, IReadOnlyList<object> outboxes, bool rowsAreNew);
}

/// <summary>
/// The "trade" grain storage: rows of grain_state, versioned like Orleans' ADO.NET provider (a write applies only against the
/// version it read), but reads and writes of many grains share one statement and one commit (<see cref="RoundTripBatcher{TItem,TResult}"/>).
/// A grain's WriteStateAsync completes only after the commit that holds its row, so acknowledged still means durable; a hot silo
/// writes hundreds of grains per commit instead of one. States implementing <see cref="IWakeAtState"/> are indexed by wake time
/// in the same row (the deadline index). Payloads use Orleans' version-tolerant binary serializer.
/// </summary>
public sealed class BatchedGrainStorage : IGrainStorage, IDeadlineIndex
{
    private readonly TradeDatabase _database;
    private readonly Serializer _serializer;
    private readonly string _serviceId;
    private readonly RoundTripBatcher<StateKey, StoredState?> _reads;
    private readonly RoundTripBatcher<StateWrite, WriteResult> _writes;
    private readonly IStateOutboxWriter[] _outboxWriters;
    private readonly NewGrainIds _newGrains;

    public BatchedGrainStorage(TradeDatabase database, Serializer serializer, IOptions<ClusterOptions> cluster, IConfiguration configuration,
        IEnumerable<IStateOutboxWriter> outboxWriters, NewGrainIds newGrains, ILogger<BatchedGrainStorage>? logger = null)
    {
        _logger = logger;
        _newGrains = newGrains;
        _database = database;
        _outboxWriters = outboxWriters.ToArray();
        _serializer = serializer;
        _serviceId = cluster.Value.ServiceId;
        var maxBatch = configuration.GetValue("Storage:MaxBatch", 512);
        // SQLite has one writer: more round trips in flight only queue on its lock.
        var inFlight = database.Provider == StorageProvider.Postgres ? configuration.GetValue("Storage:RoundTripsInFlight", 2) : 1;
        _reads = new RoundTripBatcher<StateKey, StoredState?>(ReadBatchAsync, maxBatch, inFlight, "grain-state-read");
        _writes = new RoundTripBatcher<StateWrite, WriteResult>(WriteBatchAsync, maxBatch, inFlight, "grain-state-write");
    }

    private readonly record struct StateKey(string StateName, string GrainId);

    private sealed record StoredState(int Version, byte[] Payload);

    private readonly ILogger<BatchedGrainStorage>? _logger;

    private sealed record StateWrite(StateKey Key, int ExpectedVersion, byte[] Payload, DateTimeOffset? WakeAt, object? Outbox);

    /// <summary>The new version (null: the version check was lost), or the error of this write alone when its batch was split.</summary>
    private readonly record struct WriteResult(int? Version, Exception? Error = null);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // A grain whose id this silo has just minted has nothing stored yet: no round trip (a new order per checkout).
        var stored = _newGrains.TakeIfNew(grainId) ? null : await _reads.EnqueueAsync(new StateKey(stateName, grainId.ToString()));
        if (stored is null)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = _serializer.Deserialize<T>(stored.Payload);
        grainState.ETag = stored.Version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var expected = grainState.ETag is { } etag ? int.Parse(etag, CultureInfo.InvariantCulture) : 0;
        var wakeAt = grainState.State is IWakeAtState w ? w.WakeAt : null;
        var outbox = grainState.State is IOutboxState o ? o.Outbox : null;
        var write = new StateWrite(new StateKey(stateName, grainId.ToString()), expected, _serializer.SerializeToArray(grainState.State), wakeAt, outbox);
        var (version, error) = await _writes.EnqueueAsync(write);
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
        if (version is not { } written)
        {
            throw new InconsistentStateException(
                $"The {stateName} state of {grainId} changed in storage since it was read (version {expected}); the write was not applied.",
                storedEtag: "unknown", currentEtag: grainState.ETag);
        }
        grainState.ETag = written.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is { } etag)
        {
            await using var connection = await _database.OpenAsync(CancellationToken.None);
            var rows = await connection.Command("DELETE FROM grain_state WHERE service_id = @service AND state_name = @name AND grain_id = @id AND version = @version")
                .With("service", _serviceId).With("name", stateName).With("id", grainId.ToString())
                .With("version", int.Parse(etag, CultureInfo.InvariantCulture))
                .ExecuteNonQueryAsync();
            if (rows != 1)
            {
                throw new InconsistentStateException($"The {stateName} state of {grainId} changed in storage since it was read; it was not cleared.",
                    storedEtag: "unknown", currentEtag: etag);
            }
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    // ------------------------------------------------------------------ batches

    private async Task<IReadOnlyList<StoredState?>> ReadBatchAsync(IReadOnlyList<StateKey> keys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<StateKey, StoredState>();
        await using var connection = await _database.OpenAsync(cancellationToken);
        if (_database.Provider == StorageProvider.Postgres)
        {
            var distinct = keys.Distinct().ToArray();
            // Prepared (planning took longer than running it), as one primary-key lookup per key, so the generic plan cannot
            // turn into a join that scans the table.
            await using var reader = await connection.Command("""
                    SELECT g.state_name, g.grain_id, g.version, g.payload
                    FROM unnest(@names, @ids) AS k(state_name, grain_id)
                    CROSS JOIN LATERAL (
                        SELECT s.state_name, s.grain_id, s.version, s.payload FROM grain_state s
                        WHERE s.service_id = @service AND s.state_name = k.state_name AND s.grain_id = k.grain_id
                        LIMIT 1) g
                    """)
                .With("service", _serviceId).With("names", distinct.Select(k => k.StateName).ToArray()).With("ids", distinct.Select(k => k.GrainId).ToArray())
                .ExecutePreparedReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found[new StateKey(reader.GetString(0), reader.GetString(1))] = new StoredState(reader.GetInt32(2), (byte[])reader.GetValue(3));
            }
        }
        else
        {
            await using var command = connection.Command("SELECT version, payload FROM grain_state WHERE service_id = @service AND state_name = @name AND grain_id = @id")
                .With("service", _serviceId).With("name", "").With("id", "");
            foreach (var key in keys.Distinct())
            {
                command.Parameters["name"].Value = key.StateName;
                command.Parameters["id"].Value = key.GrainId;
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    found[key] = new StoredState(reader.GetInt32(0), (byte[])reader.GetValue(1));
                }
            }
        }
        return keys.Select(k => found.GetValueOrDefault(k)).ToArray();
    }

    /// <summary>
    /// Applies every write whose expected version matches, in one transaction; answers the new version, or null for a write that
    /// lost its version check (including a second write of one grain in the same batch, which raced the first).
    /// </summary>
    private Task<IReadOnlyList<WriteResult>> WriteBatchAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken) =>
        // One grain's row (its state or an outbox row: a constraint, a trigger) failing the whole batch: the grains are written one
        // at a time, so only the one at fault fails and the others are stored.
        StorageFaults.WriteApartOnRowFaultAsync(writes, w => w.Key, batch => WriteTogetherAsync(batch, cancellationToken),
            own => new WriteResult(null, own),
            ex => _logger?.LogWarning(ex, "A batch of {Count} grain-state writes was refused by the database; writing its grains one at a time", writes.Count),
            (key, own) => _logger?.LogError(own, "The write of grain {GrainId} ({StateName}) failed on its own; nothing of it was stored", key.GrainId, key.StateName));

    private async Task<IReadOnlyList<WriteResult>> WriteTogetherAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken)
    {
        var first = new HashSet<StateKey>();
        var unique = writes.Where(w => first.Add(w.Key)).ToArray();
        var applied = _database.Provider == StorageProvider.Postgres
            ? await WritePostgresAsync(unique, cancellationToken)
            : await WriteSqliteAsync(unique, cancellationToken);
        var answered = new HashSet<StateKey>();
        return writes.Select(w => new WriteResult(answered.Add(w.Key) && applied.TryGetValue(w.Key, out var v) ? v : null)).ToArray();
    }

    private async Task<Dictionary<StateKey, int>> WritePostgresAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<StateKey, int>(writes.Count);
        await using var connection = await _database.OpenAsync(cancellationToken);
        // Without outbox rows the one statement is its own transaction: new grains' inserts and the versioned updates commit together.
        await using var transaction = writes.Any(w => w.Outbox is not null) ? await connection.BeginTransactionAsync(cancellationToken) : null;
        await using var command = connection.Command("""
            WITH input AS (
                SELECT * FROM unnest(@names, @ids, @expected, @payloads, @wakes) AS i(state_name, grain_id, expected, payload, wake_at)
            ), inserted AS (
                INSERT INTO grain_state (service_id, state_name, grain_id, version, payload, wake_at, updated_at)
                SELECT @service, state_name, grain_id, 1, payload, wake_at, now() FROM input WHERE expected = 0
                ON CONFLICT (service_id, state_name, grain_id) DO NOTHING
                RETURNING state_name, grain_id, version
            ), updated AS (
                UPDATE grain_state AS g SET version = g.version + 1, payload = i.payload, wake_at = i.wake_at, updated_at = now()
                FROM input AS i
                WHERE i.expected > 0 AND g.service_id = @service AND g.state_name = i.state_name AND g.grain_id = i.grain_id AND g.version = i.expected
                RETURNING g.state_name, g.grain_id, g.version
            )
            SELECT state_name, grain_id, version FROM inserted UNION ALL SELECT state_name, grain_id, version FROM updated
            """, transaction);
        command.With("service", _serviceId)
            .With("names", writes.Select(w => w.Key.StateName).ToArray())
            .With("ids", writes.Select(w => w.Key.GrainId).ToArray())
            .With("expected", writes.Select(w => w.ExpectedVersion).ToArray())
            .With("payloads", writes.Select(w => w.Payload).ToArray())
            .WithTimestamps("wakes", writes.Select(w => w.WakeAt));
        // Prepared: PostgreSQL planned this statement in about 230 µs a call, a quarter of its time for a batch of 30 rows.
        await using (var reader = await command.ExecutePreparedReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied[new StateKey(reader.GetString(0), reader.GetString(1))] = reader.GetInt32(2);
            }
        }
        if (transaction is not null)
        {
            await WriteOutboxesAsync(connection, transaction, writes, applied, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return applied;
    }

    /// <summary>The outbox rows of the writes that were applied; a write that lost its version check carries none.</summary>
    private async Task WriteOutboxesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<StateWrite> writes,
        Dictionary<StateKey, int> applied, CancellationToken cancellationToken)
    {
        var outboxes = writes.Where(w => w.Outbox is not null && applied.ContainsKey(w.Key)).Select(w => w.Outbox!).ToArray();
        if (outboxes.Length == 0)
        {
            return;
        }
        if (_outboxWriters.Length == 0)
        {
            throw new InvalidOperationException("A grain state carries outbox rows, but no IStateOutboxWriter is registered.");
        }
        foreach (var writer in _outboxWriters)
        {
            await writer.WriteAsync(connection, transaction, outboxes, cancellationToken);
        }
    }

    private async Task<Dictionary<StateKey, int>> WriteSqliteAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<StateKey, int>(writes.Count);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await BeginImmediateAsync(connection, cancellationToken);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var insert = connection.Command("""
                INSERT INTO grain_state (service_id, state_name, grain_id, version, payload, wake_at, updated_at)
                VALUES (@service, @name, @id, 1, @payload, @wake, @now) ON CONFLICT (service_id, state_name, grain_id) DO NOTHING
                """, transaction)
            .With("service", _serviceId).With("name", "").With("id", "").With("payload", Array.Empty<byte>()).With("wake", null).With("now", now);
        await using var update = connection.Command("""
                UPDATE grain_state SET version = version + 1, payload = @payload, wake_at = @wake, updated_at = @now
                WHERE service_id = @service AND state_name = @name AND grain_id = @id AND version = @expected
                """, transaction)
            .With("service", _serviceId).With("name", "").With("id", "").With("payload", Array.Empty<byte>()).With("wake", null).With("now", now)
            .With("expected", 0);
        foreach (var write in writes)
        {
            var command = write.ExpectedVersion == 0 ? insert : update;
            command.Parameters["name"].Value = write.Key.StateName;
            command.Parameters["id"].Value = write.Key.GrainId;
            command.Parameters["payload"].Value = write.Payload;
            command.Parameters["wake"].Value = write.WakeAt is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value;
            if (write.ExpectedVersion > 0)
            {
                command.Parameters["expected"].Value = write.ExpectedVersion;
            }
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                applied[write.Key] = write.ExpectedVersion + 1;
            }
        }
        await WriteOutboxesAsync(connection, transaction, writes, applied, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    private static async Task<DbTransaction> BeginImmediateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // Deferred SQLite transactions that read first can fail to upgrade; take the write lock at the start.
        if (connection is Microsoft.Data.Sqlite.SqliteConnection sqlite)
        {
            return sqlite.BeginTransaction(deferred: false);
        }
        return await connection.BeginTransactionAsync(cancellationToken);
    }

    // ------------------------------------------------------------------ deadline index

    public async Task<IReadOnlyList<DueGrain>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var due = new List<DueGrain>();
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var reader = await connection.Command("""
                SELECT state_name, grain_id, version, wake_at FROM grain_state
                WHERE service_id = @service AND wake_at IS NOT NULL AND wake_at <= @now
                ORDER BY wake_at LIMIT @max
                """)
            .With("service", _serviceId).With("now", _database.ToDb(now)).With("max", max)
            .ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(new DueGrain(reader.GetString(0), reader.GetString(1), reader.GetInt32(2).ToString(CultureInfo.InvariantCulture),
                TradeDatabase.FromDb(reader.GetValue(3))));
        }
        return due;
    }

    public async Task ReindexAsync(IReadOnlyList<(DueGrain Grain, WakeAnswer Answer)> changes, CancellationToken cancellationToken)
    {
        // One move per row, the last one asked for (a statement given two would apply either), in key order.
        changes = changes.Where(c => c.Answer.ETag is not null)
            .GroupBy(c => (c.Grain.StateName, c.Grain.GrainId)).Select(g => g.Last())
            .OrderBy(c => c.Grain.StateName, StringComparer.Ordinal).ThenBy(c => c.Grain.GrainId, StringComparer.Ordinal)
            .ToArray();
        if (changes.Count == 0)
        {
            return;
        }
        await using var connection = await _database.OpenAsync(cancellationToken);
        if (_database.Provider == StorageProvider.Postgres)
        {
            // One statement for the whole sweep (a sweep can move thousands of rows: every payment at the sandbox provider
            // once its webhooks are out), and only rows still at the version the grain answered. A row locked by a state write is
            // skipped, not waited for: that write carries the grain's own wake time, and waiting could deadlock with a write
            // batch that locks the same rows in another order (one of the two would be aborted, failing every grain in it).
            await using var batch = connection.Command("""
                WITH i AS (
                    SELECT * FROM unnest(@names, @ids, @versions, @wakes) AS i(state_name, grain_id, version, wake_at)
                ), locked AS (
                    SELECT g.ctid AS row_id, i.wake_at FROM grain_state AS g JOIN i
                        ON g.service_id = @service AND g.state_name = i.state_name AND g.grain_id = i.grain_id AND g.version = i.version
                    FOR UPDATE OF g SKIP LOCKED
                )
                UPDATE grain_state AS g SET wake_at = l.wake_at FROM locked AS l WHERE g.ctid = l.row_id
                """)
                .With("service", _serviceId)
                .With("names", changes.Select(c => c.Grain.StateName).ToArray())
                .With("ids", changes.Select(c => c.Grain.GrainId).ToArray())
                .With("versions", changes.Select(c => int.Parse(c.Answer.ETag!, CultureInfo.InvariantCulture)).ToArray())
                .WithTimestamps("wakes", changes.Select(c => c.Answer.WakeAt));
            await batch.ExecuteNonQueryAsync(cancellationToken);
            return;
        }
        await using var transaction = await BeginImmediateAsync(connection, cancellationToken);
        // Only rows still at the version the grain answered: a newer write carries its own wake time.
        await using var command = connection.Command(
                "UPDATE grain_state SET wake_at = @wake WHERE service_id = @service AND state_name = @name AND grain_id = @id AND version = @version", transaction)
            .With("service", _serviceId).With("name", "").With("id", "").With("version", 0).With("wake", null);
        foreach (var (grain, answer) in changes)
        {
            command.Parameters["name"].Value = grain.StateName;
            command.Parameters["id"].Value = grain.GrainId;
            command.Parameters["version"].Value = int.Parse(answer.ETag!, CultureInfo.InvariantCulture);
            command.Parameters["wake"].Value = _database.ToDb(answer.WakeAt);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
