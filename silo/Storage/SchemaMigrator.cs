using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Orleans.Trade.Silo.Storage;

/// <summary>
/// Applies the versioned scripts under deploy/sql/{provider}/NNNN_name.sql (embedded in this assembly) in order, each once,
/// recording them in trade_schema_migrations. Safe to run from several silos at once: PostgreSQL serialises on an advisory lock,
/// SQLite on its write lock; on PostgreSQL a silo whose scripts are all applied already does not wait for the lock (another
/// silo's migration may hold it for as long as an index build takes). Scripts are also written to be re-runnable. On PostgreSQL
/// each script commits in a transaction of its own with its version row, except one marked <c>-- trade:outside-transaction</c>:
/// its statements run one by one, each committing by itself (what <c>CREATE INDEX CONCURRENTLY</c> needs, so an index is built
/// while the previous release's silos go on writing), and its version is recorded after the last; such a script must be safe to
/// run again from any point. SQLite applies everything in one transaction.
/// </summary>
public sealed partial class SchemaMigrator(TradeDatabase database, ILogger<SchemaMigrator> logger)
{
    /// <summary>The key of the PostgreSQL session advisory lock a migration holds while it applies scripts ("trade").</summary>
    public const long AdvisoryLockKey = 0x7472616465;

    [GeneratedRegex(@"^sql/(?<provider>[a-z]+)/(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex ScriptName();

    public sealed record Script(int Version, string Name, string Sql)
    {
        /// <summary>The marker line of a PostgreSQL script whose statements must run outside a transaction.</summary>
        public const string OutsideTransactionMarker = "-- trade:outside-transaction";

        public bool OutsideTransaction => Sql.Split('\n').Any(line => line.Trim() == OutsideTransactionMarker);

        /// <summary>
        /// The statements of a script run outside a transaction: comment lines dropped, split at each ';' that ends a line. Such
        /// scripts hold plain statements only (no DO blocks, no ';' inside a literal).
        /// </summary>
        public IReadOnlyList<string> Statements()
        {
            var statements = new List<string>();
            var current = new System.Text.StringBuilder();
            foreach (var raw in Sql.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.TrimStart().StartsWith("--", StringComparison.Ordinal))
                {
                    continue;
                }
                current.AppendLine(line);
                if (line.TrimEnd().EndsWith(';'))
                {
                    statements.Add(current.ToString().Trim());
                    current.Clear();
                }
            }
            if (current.ToString().Trim() is { Length: > 0 } rest)
            {
                statements.Add(rest);
            }
            return statements;
        }
    }

    public static IReadOnlyList<Script> Scripts(StorageProvider provider)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var folder = provider.ToString().ToLowerInvariant();
        return assembly.GetManifestResourceNames()
            .Select(n => (Name: n, Match: ScriptName().Match(n.Replace('\\', '/'))))
            .Where(x => x.Match.Success && x.Match.Groups["provider"].Value == folder)
            .Select(x => new Script(int.Parse(x.Match.Groups["version"].Value), x.Match.Groups["name"].Value, Read(assembly, x.Name)))
            .OrderBy(s => s.Version)
            .ToArray();
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Returns the versions applied by this call.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = Scripts(database.Provider);
        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No schema scripts are embedded for {database.Provider}.");
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        var newlyApplied = database.Provider == StorageProvider.Postgres
            ? await MigratePostgresAsync(connection, scripts, cancellationToken)
            : await MigrateSqliteAsync(connection, scripts, cancellationToken);
        logger.LogInformation("Schema is at version {Version} ({Provider}); applied now: {Applied}",
            scripts[^1].Version, database.Provider, newlyApplied.Count == 0 ? "none" : string.Join(", ", newlyApplied));
        if (database.Provider == StorageProvider.Postgres && await LinguisticCollationAsync(connection, cancellationToken) is { } collation)
        {
            logger.LogWarning("The database's default collation is {Collation}: every text key is compared through it (inserts into the key " +
                "indexes took half as long again as with byte order in our measurement). Create the database with LOCALE 'C' (README, \"A local PostgreSQL cluster\")",
                collation);
        }
        return newlyApplied;
    }

    /// <summary>
    /// PostgreSQL: the database's default collation if it is not byte order (C, POSIX or C.UTF-8), as "provider locale"; null
    /// if it is, or on SQLite (which compares text byte-wise unless told otherwise). The schema leaves text keys to this default.
    /// </summary>
    public async Task<string?> LinguisticCollationAsync(CancellationToken cancellationToken = default)
    {
        if (database.Provider != StorageProvider.Postgres)
        {
            return null;
        }
        await using var connection = await database.OpenAsync(cancellationToken);
        return await LinguisticCollationAsync(connection, cancellationToken);
    }

    private static async Task<string?> LinguisticCollationAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // By name through to_jsonb: the provider column exists from PostgreSQL 15, the ICU locale's column was renamed in 17.
        await using var reader = await connection.Command("""
                SELECT datcollate, coalesce(to_jsonb(d) ->> 'datlocprovider', 'c'),
                       coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale', '')
                FROM pg_database AS d WHERE datname = current_database()
                """).ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var (collate, provider, locale) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        static bool ByteOrder(string name) => name is "C" or "POSIX" || name.StartsWith("C.", StringComparison.OrdinalIgnoreCase);
        return provider switch
        {
            "c" when ByteOrder(collate) => null,
            "b" => null, // PostgreSQL 17's builtin provider: C or C.UTF-8, both code point order
            "c" => $"libc {collate}",
            "i" => $"icu {locale}",
            _ => $"{provider} {collate}",
        };
    }

    /// <summary>
    /// Nothing when every script of this build is recorded already (read without the lock). Otherwise, under a session advisory
    /// lock (released at the end, also when a script fails: the pool keeps the connection's session), each script still pending
    /// once the lock is held, in a transaction of its own with its version row, or statement by statement when it is marked to
    /// run outside a transaction.
    /// </summary>
    private async Task<List<int>> MigratePostgresAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken cancellationToken)
    {
        // A silo restarting during a rolling update would otherwise wait for the new release's migration (an index built
        // CONCURRENTLY on a large table takes as long as it takes) although it has nothing to apply, and its start-up probe
        // would kill it meanwhile. A version row commits with its script, or after the last statement of one run outside a
        // transaction, so a script recorded here is applied whole. Versions this build does not know (a newer build's) are
        // left alone, as under the lock.
        if (!await AnyPendingPostgresAsync(connection, scripts, cancellationToken))
        {
            return [];
        }
        // Polled, not waited for in pg_advisory_lock: a waiting statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the
        // lock holder's script waits for every older snapshot, so silos starting together would deadlock (one is aborted).
        while (!(bool)(await connection.Command("SELECT pg_try_advisory_lock(@key)").With("key", AdvisoryLockKey).ExecuteScalarAsync(cancellationToken))!)
        {
            await Task.Delay(LockPollInterval, cancellationToken);
        }
        try
        {
            await connection.Command(
                    "CREATE TABLE IF NOT EXISTS trade_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());")
                .ExecuteNonQueryAsync(cancellationToken);
            var applied = await AppliedAsync(connection, null, cancellationToken);
            var newlyApplied = new List<int>();
            foreach (var script in scripts.Where(s => !applied.Contains(s.Version)))
            {
                logger.LogInformation("Applying schema script {Version:D4}_{Name} ({Provider}{Mode})", script.Version, script.Name, database.Provider,
                    script.OutsideTransaction ? ", outside a transaction" : "");
                if (script.OutsideTransaction)
                {
                    foreach (var statement in script.Statements())
                    {
                        await Unbounded(connection.Command(statement)).ExecuteNonQueryAsync(cancellationToken);
                    }
                    await RecordAsync(connection, null, script, cancellationToken);
                }
                else
                {
                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                    await Unbounded(connection.Command(script.Sql, transaction)).ExecuteNonQueryAsync(cancellationToken);
                    await RecordAsync(connection, transaction, script, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                }
                newlyApplied.Add(script.Version);
            }
            return newlyApplied;
        }
        finally
        {
            await connection.Command("SELECT pg_advisory_unlock(@key)").With("key", AdvisoryLockKey).ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Every pending script in one transaction; BEGIN IMMEDIATE takes the write lock at once, so two processes cannot interleave.</summary>
    private async Task<List<int>> MigrateSqliteAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken cancellationToken)
    {
        // WAL lets readers proceed during writes; the setting is stored in the file.
        await connection.Command("PRAGMA journal_mode=WAL;").ExecuteNonQueryAsync(cancellationToken);
        await using var transaction = ((Microsoft.Data.Sqlite.SqliteConnection)connection).BeginTransaction(deferred: false);
        await connection.Command(
                "CREATE TABLE IF NOT EXISTS trade_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));",
                transaction).ExecuteNonQueryAsync(cancellationToken);
        var applied = await AppliedAsync(connection, transaction, cancellationToken);
        var newlyApplied = new List<int>();
        foreach (var script in scripts.Where(s => !applied.Contains(s.Version)))
        {
            logger.LogInformation("Applying schema script {Version:D4}_{Name} ({Provider})", script.Version, script.Name, database.Provider);
            await Unbounded(connection.Command(script.Sql, transaction)).ExecuteNonQueryAsync(cancellationToken);
            await RecordAsync(connection, transaction, script, cancellationToken);
            newlyApplied.Add(script.Version);
        }
        await transaction.CommitAsync(cancellationToken);
        return newlyApplied;
    }

    /// <summary>
    /// Whether a script of this build is not recorded in trade_schema_migrations (or the table does not exist yet). Plain reads,
    /// each on a snapshot of its own held only while it runs, so a running migration's index build does not wait for them.
    /// </summary>
    private static async Task<bool> AnyPendingPostgresAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken cancellationToken)
    {
        var exists = await connection.Command("SELECT to_regclass('trade_schema_migrations') IS NOT NULL").ExecuteScalarAsync(cancellationToken);
        if (exists is not true)
        {
            return true;
        }
        var applied = await AppliedAsync(connection, null, cancellationToken);
        return scripts.Any(s => !applied.Contains(s.Version));
    }

    private static readonly TimeSpan LockPollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A schema script runs as long as it takes (an index built on a large table, a key rebuilt): the driver's default command
    /// timeout (30 s) would cancel it, fail the silo's start and leave the next start to try the same again.
    /// </summary>
    private static DbCommand Unbounded(DbCommand command)
    {
        command.CommandTimeout = 0;
        return command;
    }

    private static async Task<HashSet<int>> AppliedAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var applied = new HashSet<int>();
        await using var reader = await connection.Command("SELECT version FROM trade_schema_migrations", transaction).ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(reader.GetInt32(0));
        }
        return applied;
    }

    private static Task RecordAsync(DbConnection connection, DbTransaction? transaction, Script script, CancellationToken cancellationToken) =>
        connection.Command("INSERT INTO trade_schema_migrations (version, name) VALUES (@version, @name)", transaction)
            .With("version", script.Version).With("name", script.Name).ExecuteNonQueryAsync(cancellationToken);
}
