using Npgsql;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>The versioned migrator, run as an operator would: <c>silo migrate</c>, twice.</summary>
public sealed class SchemaMigrationTests
{
    private static readonly string[] RequiredQueryKeys =
    [
        "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey",
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    private static readonly string[] ClusteringQueryKeys =
    [
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey", "MembershipReadRowKey",
        "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
    ];

    [Fact]
    public async Task Migrate_applies_the_postgres_schema_once_and_is_idempotent()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("migrate");
        var env = new Dictionary<string, string> { ["Storage__Provider"] = "postgres", ["ConnectionStrings__Trade"] = connectionString };

        var first = await RunMigrate(env);
        var second = await RunMigrate(env);

        Assert.Contains($"Applied schema versions: {ExpectedVersions("postgres")}.", first);
        Assert.Contains("already up to date", second);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var keys = new List<string>();
        await using (var reader = await new NpgsqlCommand("SELECT querykey FROM orleansquery", connection).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }
        Assert.Superset(RequiredQueryKeys.Concat(ClusteringQueryKeys).ToHashSet(), keys.ToHashSet());
        var versions = (long)(await new NpgsqlCommand("SELECT COUNT(*) FROM trade_schema_migrations", connection).ExecuteScalarAsync())!;
        Assert.Equal(Scripts("postgres").Length, versions);
    }

    [Fact]
    public async Task Migrate_applies_the_sqlite_schema_once_and_is_idempotent()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");
        var env = new Dictionary<string, string> { ["Storage__Provider"] = "sqlite", ["Storage__SqlitePath"] = path };

        var first = await RunMigrate(env);
        var second = await RunMigrate(env);

        Assert.Contains($"Applied schema versions: {ExpectedVersions("sqlite")}.", first);
        Assert.Contains("already up to date", second);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        var command = connection.CreateCommand();
        command.CommandText = "SELECT QueryKey FROM OrleansQuery";
        var keys = new HashSet<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }
        Assert.Superset(RequiredQueryKeys.ToHashSet(), keys);
    }

    [Fact]
    public async Task Migrate_on_an_up_to_date_postgres_schema_does_not_wait_for_another_migrations_lock()
    {
        // During a rolling update the new release's init container holds the migration lock for as long as its index builds
        // take; a silo of the previous release restarting meanwhile has nothing to apply and must answer its start-up probe.
        var connectionString = await PostgresServer.CreateDatabaseAsync("migrate");
        var env = new Dictionary<string, string> { ["Storage__Provider"] = "postgres", ["ConnectionStrings__Trade"] = connectionString };
        await RunMigrate(env);
        await using var holder = await HoldMigrationLock(connectionString);

        var output = await CommandRunner.RunAsync("dotnet", [RepoPaths.SiloDll, "migrate"], env, TimeSpan.FromSeconds(10));

        Assert.Contains("already up to date", output);
    }

    [Fact]
    public async Task Migrate_with_a_pending_postgres_script_waits_for_another_migrations_lock_then_applies_it_once()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("migrate");
        var env = new Dictionary<string, string> { ["Storage__Provider"] = "postgres", ["ConnectionStrings__Trade"] = connectionString };
        await RunMigrate(env);
        // The last script as if a new release had brought it (scripts are written to be re-runnable).
        var last = int.Parse(Scripts("postgres")[^1][..4]);
        await using var admin = new NpgsqlConnection(connectionString);
        await admin.OpenAsync();
        await new NpgsqlCommand($"DELETE FROM trade_schema_migrations WHERE version = {last}", admin).ExecuteNonQueryAsync();
        await using var holder = await HoldMigrationLock(connectionString);

        var migrate = RunMigrate(env);
        // Waiting: it has asked for the lock (the poll is the session's last statement) and has not finished.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((long)(await new NpgsqlCommand(
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_try_advisory_lock%'",
                   admin).ExecuteScalarAsync())! == 0)
        {
            Assert.False(migrate.IsCompleted, "migrate finished without asking for the lock");
            Assert.True(DateTime.UtcNow < deadline, "migrate never asked for the migration lock");
            await Task.Delay(100);
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(migrate.IsCompleted);
        Assert.Equal(0L, await new NpgsqlCommand($"SELECT count(*) FROM trade_schema_migrations WHERE version = {last}", admin).ExecuteScalarAsync());
        await holder.CloseAsync();

        Assert.Contains($"Applied schema versions: {last}.", await migrate);
        Assert.Equal(1L, await new NpgsqlCommand($"SELECT count(*) FROM trade_schema_migrations WHERE version = {last}", admin).ExecuteScalarAsync());
        Assert.Equal((long)Scripts("postgres").Length, await new NpgsqlCommand("SELECT count(*) FROM trade_schema_migrations", admin).ExecuteScalarAsync());
    }

    /// <summary>A session holding the migrator's advisory lock, as another pod's running migration does; closing it releases the lock.</summary>
    private static async Task<NpgsqlConnection> HoldMigrationLock(string connectionString)
    {
        // Not pooled: a pooled connection's session (and the lock with it) would outlive Dispose.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", Orleans.Trade.Silo.Storage.SchemaMigrator.AdvisoryLockKey);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    private static string[] Scripts(string provider) =>
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "deploy", "sql", provider), "*.sql").Select(Path.GetFileName).Order().ToArray()!;

    /// <summary>"1, 2, 3" for scripts 0001_…, 0002_…, 0003_…: every script in the folder, in order, each once.</summary>
    private static string ExpectedVersions(string provider) => string.Join(", ", Scripts(provider).Select(f => int.Parse(f[..4])));

    private static Task<string> RunMigrate(IReadOnlyDictionary<string, string> env) =>
        CommandRunner.RunAsync("dotnet", [RepoPaths.SiloDll, "migrate"], env, TimeSpan.FromMinutes(2));
}
