using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Storage;

/// <summary>The ledger store on both providers: many transfers per append, in order, retries skipped, snapshots cut the replay.</summary>
public sealed class SqlLedgerStoreTests
{
    public static TheoryData<string> Providers => new() { "postgres", "sqlite" };

    private static async Task<(SqlLedgerStore Store, TradeDatabase Database)> Open(string provider)
    {
        var settings = new Dictionary<string, string?> { ["Storage:Provider"] = provider };
        if (provider == "postgres")
        {
            settings["ConnectionStrings:Trade"] = await PostgresServer.CreateDatabaseAsync("ledgerstore");
        }
        else
        {
            settings["Storage:SqlitePath"] = Path.Combine(Path.GetTempPath(), $"ledgerstore-{Guid.NewGuid():N}.db");
        }
        var database = TradeDatabase.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        return (new SqlLedgerStore(database), database);
    }

    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private static LedgerEntry Entry(string id, long amount, int second, TransferKind kind = TransferKind.Posted, string? pending = null) =>
        new(new Transfer(id, kind, "escrow:o1", "seller:s1", amount, "EUR", pending), T0.AddSeconds(second));

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Transfers_come_back_in_append_order_once_each_and_a_snapshot_leaves_only_later_ones_to_replay(string provider)
    {
        var (store, database) = await Open(provider);
        await using var _ = database;

        // Ids out of alphabetical order, so an insert that sorted them would show; a retried id inside the batch and across batches.
        LedgerEntry[] first = [Entry("t-9", 900, 1), Entry("t-1", 100, 2, TransferKind.Pending), Entry("t-5", 500, 3), Entry("t-9", 900, 1)];
        await store.AppendAsync("ledger-a", first, null, CancellationToken.None);
        await store.AppendAsync("ledger-a", [Entry("t-5", 500, 3), Entry("t-3", 300, 4, TransferKind.PostPending, "t-1")], null, CancellationToken.None);
        await store.AppendAsync("ledger-b", [Entry("t-1", 7, 5)], null, CancellationToken.None);

        var loaded = await store.LoadAsync("ledger-a", CancellationToken.None);
        Assert.Null(loaded.Snapshot);
        Assert.Equal(["t-9", "t-1", "t-5", "t-3"], loaded.Entries.Select(e => e.Transfer.TransferId));
        Assert.Equal(first[1], loaded.Entries[1]);
        Assert.Equal("t-1", loaded.Entries[3].Transfer.PendingId);
        Assert.Equal(T0.AddSeconds(4), loaded.Entries[3].At);

        // A snapshot with a batch: loads read it and only the transfers appended after it.
        await store.AppendAsync("ledger-a", [Entry("t-7", 700, 6), Entry("t-2", 200, 7)], "{\"books\":1}", CancellationToken.None);
        await store.AppendAsync("ledger-a", [Entry("t-8", 800, 8), Entry("t-4", 400, 9)], null, CancellationToken.None);
        var after = await store.LoadAsync("ledger-a", CancellationToken.None);
        Assert.Equal("{\"books\":1}", after.Snapshot);
        Assert.Equal(["t-8", "t-4"], after.Entries.Select(e => e.Transfer.TransferId));
        Assert.Equal(["t-1"], (await store.LoadAsync("ledger-b", CancellationToken.None)).Entries.Select(e => e.Transfer.TransferId));
    }
}
