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

    private static string[] Scripts(string provider) =>
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "deploy", "sql", provider), "*.sql").Select(Path.GetFileName).Order().ToArray()!;

    /// <summary>"1, 2, 3" for scripts 0001_…, 0002_…, 0003_…: every script in the folder, in order, each once.</summary>
    private static string ExpectedVersions(string provider) => string.Join(", ", Scripts(provider).Select(f => int.Parse(f[..4])));

    private static Task<string> RunMigrate(IReadOnlyDictionary<string, string> env) =>
        CommandRunner.RunAsync("dotnet", [RepoPaths.SiloDll, "migrate"], env, TimeSpan.FromMinutes(2));
}
