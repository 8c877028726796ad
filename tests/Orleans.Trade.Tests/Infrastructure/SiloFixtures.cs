namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>One silo process on a fresh PostgreSQL database, shared by the tests of a class.</summary>
public sealed class PostgresSiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.CreateDatabaseAsync("api");
        Silo = await SiloProcess.StartAsync(SiloStorage.Postgres(ConnectionString), "api-" + Guid.NewGuid().ToString("N")[..8]);
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>One silo process on a fresh SQLite file (the embedded default), shared by the tests of a class.</summary>
public sealed class SqliteSiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public string DatabasePath { get; } = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db");

    public async Task InitializeAsync() =>
        Silo = await SiloProcess.StartAsync(SiloStorage.Sqlite(DatabasePath), "api-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        try
        {
            Directory.Delete(Path.GetDirectoryName(DatabasePath)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
