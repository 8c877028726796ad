using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Orleans.Trade.Silo.Storage;

public enum StorageProvider
{
    /// <summary>Embedded default: one file under ./data, no server needed; single silo.</summary>
    Sqlite,
    /// <summary>Production: PostgreSQL for grain state, membership and reminders; many silos.</summary>
    Postgres,
}

/// <summary>The one database the silo uses for grain state, Orleans' tables and our projections.</summary>
public sealed class TradeDatabase : IAsyncDisposable
{
    /// <summary>Orleans' invariant names (AdoNetInvariants); System.Data.SQLite is served by Microsoft.Data.Sqlite.</summary>
    public const string PostgresInvariant = "Npgsql";
    public const string SqliteInvariant = "System.Data.SQLite";

    private readonly NpgsqlDataSource? _postgres;

    private TradeDatabase(StorageProvider provider, string connectionString)
    {
        Provider = provider;
        ConnectionString = connectionString;
        if (provider == StorageProvider.Postgres)
        {
            // Our statements set no session state (no SET, temporary tables or session locks; the few prepared statements are meant
            // to outlive a use), so a pooled connection goes back without DISCARD ALL: one round trip less per use. An explicit
            // setting in the string wins.
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
            if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
            {
                builder.NoResetOnClose = true;
            }
            _postgres = NpgsqlDataSource.Create(builder.ConnectionString);
        }
    }

    public StorageProvider Provider { get; }

    /// <summary>Holds credentials: never log it.</summary>
    public string ConnectionString { get; }

    /// <summary>The SQLite file, for the embedded default; null on PostgreSQL.</summary>
    public string? SqlitePath => Provider == StorageProvider.Sqlite ? new SqliteConnectionStringBuilder(ConnectionString).DataSource : null;

    public string Invariant => Provider == StorageProvider.Postgres ? PostgresInvariant : SqliteInvariant;

    /// <summary>Reads <c>Storage:Provider</c> (sqlite | postgres), <c>ConnectionStrings:Trade</c> and <c>Storage:SqlitePath</c>.</summary>
    public static TradeDatabase FromConfiguration(IConfiguration configuration)
    {
        var providerName = configuration["Storage:Provider"] ?? "sqlite";
        if (!Enum.TryParse<StorageProvider>(providerName, ignoreCase: true, out var provider))
        {
            throw new InvalidOperationException($"Storage:Provider must be 'sqlite' or 'postgres'; got '{providerName}'.");
        }
        if (provider == StorageProvider.Postgres)
        {
            var connectionString = configuration.GetConnectionString("Trade");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Storage:Provider=postgres needs ConnectionStrings:Trade (env ConnectionStrings__Trade).");
            }
            return new TradeDatabase(provider, connectionString);
        }
        var path = Path.GetFullPath(configuration["Storage:SqlitePath"] ?? Path.Combine("data", "trade.db"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var sqlite = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true };
        return new TradeDatabase(provider, sqlite.ToString());
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>Times are timestamptz on PostgreSQL and Unix milliseconds on SQLite.</summary>
    public object ToDb(DateTimeOffset time) => Provider == StorageProvider.Postgres ? time.ToUniversalTime() : time.ToUnixTimeMilliseconds();

    public object ToDb(DateTimeOffset? time) => time is { } t ? ToDb(t) : DBNull.Value;

    public static DateTimeOffset FromDb(object value) => value switch
    {
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        DateTimeOffset dto => dto,
        long ms => DateTimeOffset.FromUnixTimeMilliseconds(ms),
        _ => throw new InvalidCastException($"Cannot read a time from {value.GetType()}."),
    };

    public static DateTimeOffset? FromDbNullable(object value) => value is DBNull ? null : FromDb(value);

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}

public static class DbCommandExtensions
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// Binds <paramref name="ids"/> to the command and answers the predicate "<paramref name="column"/> is one of them": one array
    /// on PostgreSQL, a parameter per id on SQLite (keep a call under its cap of 32,766 bound parameters).
    /// </summary>
    public static string WithIdsIn(this DbCommand command, StorageProvider provider, string column, IReadOnlyList<string> ids, string name = "ids")
    {
        if (provider == StorageProvider.Postgres)
        {
            command.With(name, ids.ToArray());
            return $"{column} = ANY(@{name})";
        }
        for (var i = 0; i < ids.Count; i++)
        {
            command.With($"{name}{i}", ids[i]);
        }
        return $"{column} IN ({string.Join(", ", ids.Select((_, i) => $"@{name}{i}"))})";
    }

    /// <summary>
    /// Prepares the command on its connection first (Npgsql keeps an explicitly prepared statement with the pooled connection,
    /// so this costs a round trip once per connection and SQL text), then runs it: PostgreSQL skips parsing the statement and,
    /// once it settles on a generic plan, planning it. For fixed statements of the hot path only: every distinct SQL text stays
    /// prepared on every connection.
    /// </summary>
    public static async Task<DbDataReader> ExecutePreparedReaderAsync(this DbCommand command, CancellationToken cancellationToken)
    {
        await command.PrepareAsync(cancellationToken);
        return await command.ExecuteReaderAsync(cancellationToken);
    }

    /// <summary>
    /// Moves a built command (its text and parameters) into <paramref name="batch"/>, so statements written as commands can also
    /// go out together in one round trip; the command is left empty.
    /// </summary>
    public static DbBatch Append(this DbBatch batch, DbCommand command)
    {
        var statement = batch.CreateBatchCommand();
        statement.CommandText = command.CommandText;
        var parameters = command.Parameters.Cast<DbParameter>().ToArray();
        command.Parameters.Clear();
        foreach (var parameter in parameters)
        {
            statement.Parameters.Add(parameter);
        }
        batch.BatchCommands.Add(statement);
        return batch;
    }

    /// <summary>
    /// Binds a PostgreSQL <c>timestamptz[]</c> of UTC times (nulls allowed), with its type stated: an empty array carries no
    /// element to infer it from.
    /// </summary>
    public static DbCommand WithTimestamps(this DbCommand command, string name, IEnumerable<DateTimeOffset?> values)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz)
        {
            Value = values.Select(v => v is { } t ? t.UtcDateTime : (DateTime?)null).ToArray(),
        });
        return command;
    }

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }
}
