using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Trade.Silo.Storage;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>A grain state held by a test, as Orleans holds it for a grain.</summary>
public sealed class HeldState<T>(T state) : IGrainState<T> where T : class
{
    [System.Diagnostics.CodeAnalysis.AllowNull] public T State { get; set; } = state;
    public string? ETag { get; set; }
    public bool RecordExists { get; set; }
}

/// <summary>A fresh, migrated trade database for storage tests: a PostgreSQL database of the test server, or a SQLite file.</summary>
public static class StorageTestDatabase
{
    public static TheoryData<string> Providers => new() { "postgres", "sqlite" };

    /// <summary>Orleans' serializer with the trade types, as the silo's storage uses it.</summary>
    public static Serializer Serializer { get; } = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    public static async Task<(TradeDatabase Database, IConfiguration Configuration)> OpenAsync(string provider, string name,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Storage:Provider"] = provider };
        if (provider is "postgres" or "postgres-icu")
        {
            // postgres-icu: a database whose default collation is ICU en-US (linguistic order), as on many production servers.
            all["Storage:Provider"] = "postgres";
            all["ConnectionStrings:Trade"] = await PostgresServer.CreateDatabaseAsync(name, provider == "postgres-icu" ? "en-US" : null);
        }
        else
        {
            all["Storage:SqlitePath"] = Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}.db");
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var database = TradeDatabase.FromConfiguration(configuration);
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        return (database, configuration);
    }
}
