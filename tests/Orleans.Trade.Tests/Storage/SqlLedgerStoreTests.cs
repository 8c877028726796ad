using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Storage;

/// <summary>
/// The ledger store on both providers: many transfers per append, in order, retries skipped, snapshots cut the replay; one
/// order's transfers read back alone (also on a PostgreSQL database with an ICU en-US default collation).
/// </summary>
public sealed class SqlLedgerStoreTests
{
    public static TheoryData<string> Providers => new() { "postgres", "sqlite" };

    private static async Task<(SqlLedgerStore Store, TradeDatabase Database)> Open(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "ledgerstore");
        return (new SqlLedgerStore(database), database);
    }

    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    /// <summary>One writer of several ledgers, as an activation of each: every append names the version its last one left.</summary>
    private sealed class Writer(SqlLedgerStore store)
    {
        private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);

        public async Task<long> Append(string ledgerId, IReadOnlyList<LedgerEntry> entries)
        {
            var appended = await store.AppendAsync(ledgerId, _versions.GetValueOrDefault(ledgerId), entries, CancellationToken.None);
            _versions[ledgerId] = appended.Version;
            return appended.LastEntryNo;
        }
    }

    private static LedgerEntry Entry(string id, long amount, int second, TransferKind kind = TransferKind.Posted, string? pending = null) =>
        new(new Transfer(id, kind, "escrow:o1", "seller:s1", amount, "EUR", pending), T0.AddSeconds(second));

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Transfers_come_back_in_append_order_once_each_and_a_snapshot_leaves_only_later_ones_to_replay(string provider)
    {
        var (store, database) = await Open(provider);
        await using var _ = database;
        var writer = new Writer(store);

        // Ids out of alphabetical order, so an insert that sorted them would show; a retried id inside the batch and across batches.
        LedgerEntry[] first = [Entry("t-9", 900, 1), Entry("t-1", 100, 2, TransferKind.Pending), Entry("t-5", 500, 3), Entry("t-9", 900, 1)];
        var afterFirst = await writer.Append("ledger-a", first);
        var afterSecond = await writer.Append("ledger-a", [Entry("t-5", 500, 3), Entry("t-3", 300, 4, TransferKind.PostPending, "t-1")]);
        var otherLedger = await writer.Append("ledger-b", [Entry("t-1", 7, 5)]);
        // Each append answers its ledger's last entry number, also when everything in it was stored before.
        Assert.True(afterFirst > 0);
        Assert.True(afterSecond > afterFirst);
        Assert.True(otherLedger > afterSecond);
        Assert.Equal(afterSecond, await writer.Append("ledger-a", [Entry("t-3", 300, 4, TransferKind.PostPending, "t-1")]));
        Assert.Equal(afterSecond, await writer.Append("ledger-a", []));
        Assert.Equal(0, await writer.Append("ledger-none", []));

        var loaded = await store.LoadAsync("ledger-a", CancellationToken.None);
        Assert.Null(loaded.Snapshot);
        Assert.Equal(["t-9", "t-1", "t-5", "t-3"], loaded.Entries.Select(e => e.Transfer.TransferId));
        Assert.Equal(first[1], loaded.Entries[1]);
        Assert.Equal("t-1", loaded.Entries[3].Transfer.PendingId);
        Assert.Equal(T0.AddSeconds(4), loaded.Entries[3].At);

        // A snapshot through the last entry: loads read it and only the transfers appended after it.
        var throughSeven = await writer.Append("ledger-a", [Entry("t-7", 700, 6), Entry("t-2", 200, 7)]);
        Assert.True(await store.SaveSnapshotAsync("ledger-a", throughSeven, T0.AddSeconds(7), "{\"books\":2}"u8.ToArray(), CancellationToken.None));
        await writer.Append("ledger-a", [Entry("t-8", 800, 8), Entry("t-4", 400, 9)]);
        var after = await store.LoadAsync("ledger-a", CancellationToken.None);
        Assert.Equal("{\"books\":2}"u8.ToArray(), after.Snapshot);
        Assert.Equal(["t-8", "t-4"], after.Entries.Select(e => e.Transfer.TransferId));
        Assert.Equal(["t-1"], (await store.LoadAsync("ledger-b", CancellationToken.None)).Entries.Select(e => e.Transfer.TransferId));

        // Snapshots are stored off the write path, so an older one can come in late: it does not replace the newer one.
        Assert.False(await store.SaveSnapshotAsync("ledger-a", afterSecond, T0.AddSeconds(4), "{\"books\":1}"u8.ToArray(), CancellationToken.None));
        Assert.Equal("{\"books\":2}"u8.ToArray(), (await store.LoadAsync("ledger-a", CancellationToken.None)).Snapshot);
        // One through the same entry does: the books after the same transfers, taken later (an archiving pass writes no transfer).
        Assert.True(await store.SaveSnapshotAsync("ledger-a", throughSeven, T0.AddSeconds(9), "{\"books\":3}"u8.ToArray(), CancellationToken.None));
        Assert.Equal("{\"books\":3}"u8.ToArray(), (await store.LoadAsync("ledger-a", CancellationToken.None)).Snapshot);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_append_naming_a_version_another_writer_has_passed_stores_nothing_and_a_reload_catches_up(string provider)
    {
        var (store, database) = await Open(provider);
        await using var _ = database;

        // Two activations of one ledger, as during a partition: both load it at the same version.
        Assert.Equal(0, (await store.LoadAsync("ledger-s", CancellationToken.None)).Version);
        var created = await store.AppendAsync("ledger-s", 0, [Entry("t-1", 100, 1)], CancellationToken.None);
        Assert.Equal(1, created.Version);
        var a = await store.LoadAsync("ledger-s", CancellationToken.None);
        var b = await store.LoadAsync("ledger-s", CancellationToken.None);
        Assert.Equal((1L, created.LastEntryNo), (a.Version, a.LastEntryNo));

        var byA = await store.AppendAsync("ledger-s", a.Version, [Entry("t-2", 200, 2)], CancellationToken.None);
        Assert.Equal(2, byA.Version);
        var refused = await Assert.ThrowsAsync<LedgerVersionConflictException>(
            () => store.AppendAsync("ledger-s", b.Version, [Entry("t-3", 300, 3), Entry("t-2", 999, 3)], CancellationToken.None));
        Assert.Equal(("ledger-s", 1L), (refused.LedgerId, refused.ExpectedVersion));
        // A first append to a ledger that has one already is refused the same way.
        await Assert.ThrowsAsync<LedgerVersionConflictException>(() => store.AppendAsync("ledger-s", 0, [Entry("t-4", 400, 4)], CancellationToken.None));
        // Also one without transfers: it would have answered the books as durable.
        await Assert.ThrowsAsync<LedgerVersionConflictException>(() => store.AppendAsync("ledger-s", b.Version, [], CancellationToken.None));

        // Nothing of the refused appends was stored; a reload sees the other writer's transfer and its version, and appends.
        var reloaded = await store.LoadAsync("ledger-s", CancellationToken.None);
        Assert.Equal(["t-1", "t-2"], reloaded.Entries.Select(e => e.Transfer.TransferId));
        Assert.Equal(200, reloaded.Entries[1].Transfer.Amount);
        Assert.Equal((2L, byA.LastEntryNo), (reloaded.Version, reloaded.LastEntryNo));
        var after = await store.AppendAsync("ledger-s", reloaded.Version, [Entry("t-3", 300, 3)], CancellationToken.None);
        Assert.Equal(3, after.Version);
        Assert.True(after.LastEntryNo > byA.LastEntryNo);
        // The version is the ledger's own.
        Assert.Equal(1, (await store.AppendAsync("ledger-t", 0, [Entry("t-1", 1, 1)], CancellationToken.None)).Version);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Of_appends_racing_from_one_version_exactly_one_is_stored_on_postgres(int appendsBefore)
    {
        var (store, database) = await Open("postgres");
        await using var _ = database;
        var version = 0L;
        for (var i = 0; i < appendsBefore; i++)
        {
            version = (await store.AppendAsync("ledger-r", version, [Entry($"before-{i}", 1, 0)], CancellationToken.None)).Version;
        }

        // Eight writers at once from the same version (a new ledger's head row, or an existing one's): the head row makes them
        // wait for each other, and each later one finds the version moved.
        var racers = Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await store.AppendAsync("ledger-r", version, [Entry($"racer-{i}", 10 + i, 1)], CancellationToken.None);
                return i;
            }
            catch (LedgerVersionConflictException)
            {
                return -1;
            }
        }).ToArray();
        var winners = (await Task.WhenAll(racers)).Where(i => i >= 0).ToArray();

        var winner = Assert.Single(winners);
        var stored = await store.LoadAsync("ledger-r", CancellationToken.None);
        Assert.Equal($"racer-{winner}", stored.Entries[^1].Transfer.TransferId);
        Assert.Equal(appendsBefore + 1, stored.Entries.Count);
        Assert.Equal(version + 1, stored.Version);
    }

    [Fact]
    public async Task A_snapshot_stored_as_text_before_migration_14_loads_as_the_same_bytes_on_postgres()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("ledgersnapshottext");
        var settings = new Dictionary<string, string?> { ["Storage:Provider"] = "postgres", ["ConnectionStrings:Trade"] = connectionString };
        await using var database = TradeDatabase.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        await using (var connection = new Npgsql.NpgsqlConnection(connectionString))
        {
            // The schema as it was through 0013, with a snapshot in it.
            await connection.OpenAsync();
            await using var setup = new Npgsql.NpgsqlCommand(
                "CREATE TABLE trade_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", connection);
            await setup.ExecuteNonQueryAsync();
            foreach (var script in SchemaMigrator.Scripts(StorageProvider.Postgres).Where(s => s.Version <= 13))
            {
                await using var apply = new Npgsql.NpgsqlCommand(script.Sql, connection);
                await apply.ExecuteNonQueryAsync();
                await using var record = new Npgsql.NpgsqlCommand($"INSERT INTO trade_schema_migrations (version, name) VALUES ({script.Version}, '{script.Name}')", connection);
                await record.ExecuteNonQueryAsync();
            }
            await using var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO ledger_snapshots (ledger_id, through_entry_no, taken_at, body) VALUES ('ledger-old', 0, now(), '{\"seller\":\"Zoë €\"}')", connection);
            await insert.ExecuteNonQueryAsync();
        }

        // 0014 and every script after it.
        var applied = await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        Assert.Equal(Enumerable.Range(14, SchemaMigrator.Scripts(StorageProvider.Postgres).Max(s => s.Version) - 13), applied);

        var loaded = await new SqlLedgerStore(database).LoadAsync("ledger-old", CancellationToken.None);
        Assert.Equal("{\"seller\":\"Zoë €\"}"u8.ToArray(), loaded.Snapshot);
    }

    public static TheoryData<string> ProvidersAndCollations => new() { "postgres", "postgres-icu", "sqlite" };

    private static LedgerEntry OrderEntry(string id, int minute, TransferKind kind = TransferKind.Posted, string? pending = null) =>
        new(new Transfer(id, kind, "psp:clearing:USD", $"escrow:{id.Split(':')[0]}", 100 + minute, "USD", pending), T0.AddMinutes(minute));

    [Theory]
    [MemberData(nameof(ProvidersAndCollations))]
    public async Task An_orders_transfers_are_read_back_alone_in_the_order_stored_through_a_given_entry(string provider)
    {
        var (store, database) = await Open(provider);
        await using var _ = database;
        var writer = new Writer(store);
        const string ledger = "seller-1";
        // Neighbours of "ord-1" in every order a collation might use: a prefix of it, ids it is a prefix of, other case,
        // punctuation that linguistic collations weigh less than letters.
        LedgerEntry[] first =
        [
            OrderEntry("ord-1:escrow", 0, TransferKind.Pending),
            OrderEntry("ord-10:escrow", 1, TransferKind.Pending),
            OrderEntry("ord-1-2:escrow", 2, TransferKind.Pending),
            OrderEntry("ord:escrow", 3, TransferKind.Pending),
            OrderEntry("ORD-1:escrow", 4, TransferKind.Pending),
            OrderEntry("ord-1a:escrow", 5, TransferKind.Pending),
            OrderEntry("ord-1;x:escrow", 6, TransferKind.Pending),
        ];
        var throughFirst = await writer.Append(ledger, first);
        LedgerEntry[] second =
        [
            OrderEntry("deposit:d1", 10),
            OrderEntry("ord-1:escrow-post", 11, TransferKind.PostPending, "ord-1:escrow"),
            OrderEntry("ord-10:escrow-post", 12, TransferKind.PostPending, "ord-10:escrow"),
            OrderEntry("ord-1:commission", 13),
            OrderEntry("ord-1:refund:r1:available", 14),
        ];
        var last = await writer.Append(ledger, second);
        await writer.Append("seller-2", [OrderEntry("ord-1:escrow", 20, TransferKind.Pending)]); // another seller's

        var all = await store.LoadOrderAsync(ledger, "ord-1", long.MaxValue, CancellationToken.None);
        var early = await store.LoadOrderAsync(ledger, "ord-1", throughFirst, CancellationToken.None);
        var none = await store.LoadOrderAsync(ledger, "ord-2", long.MaxValue, CancellationToken.None);

        Assert.Equal(new[] { first[0], second[1], second[3], second[4] }, all);
        Assert.Equal(new[] { first[0] }, early);
        Assert.Empty(none);
        Assert.Equal(["ord-10:escrow", "ord-10:escrow-post"],
            (await store.LoadOrderAsync(ledger, "ord-10", long.MaxValue, CancellationToken.None)).Select(e => e.Transfer.TransferId));
        Assert.Equal(["ord-1;x:escrow"], (await store.LoadOrderAsync(ledger, "ord-1;x", long.MaxValue, CancellationToken.None)).Select(e => e.Transfer.TransferId));

        // A load says what the snapshot covers and where the ledger ends.
        var unsnapshotted = await store.LoadAsync(ledger, CancellationToken.None);
        Assert.Equal((0L, last, first.Length + second.Length), (unsnapshotted.SnapshotThrough, unsnapshotted.LastEntryNo, unsnapshotted.Entries.Count));
        Assert.True(await store.SaveSnapshotAsync(ledger, throughFirst, T0, "{}"u8.ToArray(), CancellationToken.None));
        var loaded = await store.LoadAsync(ledger, CancellationToken.None);
        Assert.Equal((throughFirst, last), (loaded.SnapshotThrough, loaded.LastEntryNo));
        Assert.Equal(second, loaded.Entries);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_tax_statement_takes_off_the_vat_that_refunds_gave_back_in_the_period(string provider)
    {
        var (store, database) = await Open(provider);
        await using var _ = database;
        LedgerEntry Tax(string id, string debit, string credit, long amount, int day) =>
            new(new Transfer(id, TransferKind.Posted, debit, credit, amount, "USD"), T0.AddDays(day));
        await new Writer(store).Append("seller-tax", [
            Tax("o1:tax", "escrow:o1", "tax:payable:DE:USD", 950, 0),
            Tax("o2:tax", "escrow:o2", "tax:payable:DE:USD", 190, 0),
            Tax("o1:refund:r1:tax", "tax:payable:DE:USD", "psp:refunds:USD", 475, 0),
            Tax("o2:refund:r2:tax", "tax:payable:DE:USD", "psp:refunds:USD", 190, 1), // the next period's
            Tax("o3:tax", "escrow:o3", "tax:payable:FR:USD", 200, 1),
        ]);

        var first = await store.TaxCollectedAsync(T0, T0.AddDays(1), CancellationToken.None);
        var both = await store.TaxCollectedAsync(T0, T0.AddDays(2), CancellationToken.None);

        Assert.Equal([new("DE", "USD", 950 + 190 - 475, 2, 475)], first);
        Assert.Equal([new("DE", "USD", 950 + 190 - 475 - 190, 2, 475 + 190), new("FR", "USD", 200, 1, 0)], both);
    }

    [Fact]
    public async Task A_period_statement_and_the_tax_statement_read_the_period_through_the_time_index_on_postgres()
    {
        var (store, database) = await Open("postgres");
        await using var _ = database;
        var writer = new Writer(store);
        // 20 days of transfers, appended in time order as ledgers append them: one every 30 s, every other one a big seller's,
        // the rest spread over 100 small sellers.
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        for (var batch = 0; batch < 60; batch++)
        {
            foreach (var group in Enumerable.Range(batch * 960, 960).GroupBy(n => n % 2 == 0 ? "seller-big" : $"seller-{n % 100}"))
            {
                var entries = group.Select(n => new LedgerEntry(n % 5 == 0
                    ? new Transfer($"o{n}:tax", TransferKind.Posted, $"escrow:o{n}", "tax:payable:DE:EUR", 100, "EUR")
                    : new Transfer($"o{n}:escrow", TransferKind.Pending, "psp:clearing:EUR", $"escrow:o{n}", 1_000, "EUR"), start.AddSeconds(30 * n))).ToArray();
                await writer.Append(group.Key, entries);
            }
        }
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using (var analyze = new Npgsql.NpgsqlCommand("ANALYZE ledger_transfers", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }
        async Task<long> IndexScans()
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'ledger_transfers_by_time'", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        var before = await IndexScans();

        var day = start.AddDays(10);
        var lines = await store.StatementAsync("seller-big", day, day.AddDays(1), 100_000, CancellationToken.None);
        var tax = await store.TaxCollectedAsync(day, day.AddDays(1), CancellationToken.None);

        // One transfer every 30 s: 2,880 a day, half of them the big seller's, every fifth a tax leg.
        Assert.Equal(1_440, lines.Count);
        Assert.All(lines, l => Assert.InRange(l.At, day, day.AddDays(1)));
        Assert.Equal(("DE", "EUR", 576L * 100, 576L), (tax.Single().Country, tax.Single().Currency, tax.Single().AmountMinor, tax.Single().Orders));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await IndexScans() < before + 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the time index was not used by both queries ({await IndexScans() - before} scans)");
            await Task.Delay(200);
        }
    }
}
