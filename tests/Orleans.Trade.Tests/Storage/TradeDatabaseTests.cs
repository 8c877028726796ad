using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>The silo's PostgreSQL pool on a real server: connections go back to the pool without a reset unless told to.</summary>
public sealed class TradeDatabaseTests
{
    /// <summary>The first column of every row the command answers.</summary>
    private static async Task<List<string>> Strings(System.Data.Common.DbCommand command)
    {
        var values = new List<string>();
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                values.Add(reader.GetString(0));
            }
        }
        return values;
    }

    private static async Task<TradeDatabase> Open(string extra) =>
        Database(new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync("tradedb")) { MaxPoolSize = 1 }.ConnectionString + extra);

    private static TradeDatabase Database(string connectionString) =>
        TradeDatabase.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["ConnectionStrings:Trade"] = connectionString,
        }).Build());

    /// <summary>Sets a session setting on the pool's one connection, gives it back, takes it again and reads the setting.</summary>
    private static async Task<string> SettingAfterReuse(TradeDatabase database)
    {
        await using (var first = await database.OpenAsync(CancellationToken.None))
        {
            await first.Command("SET application_name = 'left-behind'").ExecuteNonQueryAsync();
        }
        await using var second = await database.OpenAsync(CancellationToken.None);
        return (string)(await second.Command("SELECT current_setting('application_name')").ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task The_schema_compresses_grain_payloads_with_lz4_where_the_server_has_it()
    {
        await using var database = await Open("");
        await new SchemaMigrator(database, Microsoft.Extensions.Logging.Abstractions.NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        // Debian's PostgreSQL 15 is built with lz4; 'l' is lz4 in pg_attribute.
        Assert.Equal("l", (await connection.Command(
            "SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'grain_state'::regclass AND attname = 'payload'").ExecuteScalarAsync())?.ToString());
        var payload = new byte[8_000];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i % 7);
        }
        await connection.Command("INSERT INTO grain_state (service_id, state_name, grain_id, version, payload) VALUES ('svc', 'test', 'g1', 1, @p)")
            .With("p", payload).ExecuteNonQueryAsync();
        Assert.Equal("lz4", (await connection.Command(
            "SELECT pg_column_compression(payload) FROM grain_state WHERE grain_id = 'g1'").ExecuteScalarAsync())?.ToString());
    }

    [Fact]
    public async Task Silos_starting_together_migrate_a_new_database_once_each_script_without_deadlocking()
    {
        // Scripts 0018 and 0020 build indexes concurrently, which waits for every older snapshot, including that of a silo
        // waiting for the migration lock; waiting in pg_advisory_lock made PostgreSQL abort one of them as a deadlock.
        var connectionString = new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync("tradedb")) { MaxPoolSize = 2 }.ConnectionString;
        var databases = Enumerable.Range(0, 3).Select(_ => Database(connectionString)).ToArray();
        try
        {
            var applied = await Task.WhenAll(databases.Select(d => new SchemaMigrator(d, NullLogger<SchemaMigrator>.Instance).MigrateAsync()));
            var all = SchemaMigrator.Scripts(StorageProvider.Postgres).Select(s => s.Version).ToArray();
            Assert.Equal(all, applied.SelectMany(a => a).Order());
            await using var connection = await databases[0].OpenAsync(CancellationToken.None);
            Assert.Equal((long)all.Length, await connection.Command("SELECT count(*) FROM trade_schema_migrations").ExecuteScalarAsync());
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_notification_outbox_keeps_only_the_indexes_the_dispatcher_reads_by()
    {
        // Every placed order inserts a notification inside its SKU's write: an index no query uses only slows that write.
        await using var database = await Open("");
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        Assert.Equal(["order_notifications_due", "order_notifications_pkey"],
            await Strings(connection.Command("SELECT indexname FROM pg_indexes WHERE tablename = 'order_notifications' ORDER BY indexname")));
    }

    [Fact]
    public async Task An_orders_open_tickets_are_closed_through_an_index_by_order_not_a_scan_of_every_open_ticket()
    {
        // An order's change that ends its exception closes its tickets inside the order's write (R-ORD-6).
        await using var database = await Open("");
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.Command("""
            INSERT INTO service_tickets (ticket_id, order_id, seller_id, kind, description, opened_at, due_at)
            SELECT 't' || g, 'o' || g, 's' || (g % 20), 'LateShipment', 'late', now(), now() + interval '48 hours'
            FROM generate_series(1, 5000) AS g
            """).ExecuteNonQueryAsync();
        await connection.Command("ANALYZE service_tickets").ExecuteNonQueryAsync();

        var plan = string.Join("\n", await Strings(connection.Command(
            "EXPLAIN UPDATE service_tickets SET status = 'Closed' WHERE order_id = @order AND kind = @kind AND status = 'Open'")
            .With("order", "o77").With("kind", "LateShipment")));

        Assert.True(plan.Contains("service_tickets_open_by_order"), plan);
    }

    [Fact]
    public async Task Reservation_parts_are_stored_as_json_text_not_parsed_into_jsonb()
    {
        // One reservation per placed order goes into a hot SKU's write; its parts are only ever read back whole.
        await using var database = await Open("");
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        Assert.Equal("json", (await connection.Command(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'sku_reservations' AND column_name = 'parts'").ExecuteScalarAsync())?.ToString());
    }

    [Fact]
    public async Task Order_lists_are_indexed_in_ascending_order_and_read_newest_first_without_a_sort()
    {
        // A seller's new orders go to the right end of an ascending index (pages split full, not in half); the lists read
        // newest first by scanning it backwards.
        await using var database = await Open("");
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var definitions = await Strings(connection.Command(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'orders' AND indexname LIKE 'orders_by_%' ORDER BY indexname"));
        Assert.Equal(4, definitions.Count);
        Assert.EndsWith("(buyer_id, created_at, order_id)", definitions[0]);
        Assert.EndsWith("(seller_id, created_at, order_id)", definitions[1]);
        // Carriers' rates read the orders shipped in a window, and a carrier's feed finds shipped orders by tracking number;
        // unshipped rows (every row a flash sale inserts) have no entry in either.
        Assert.EndsWith("(shipped_at) WHERE (shipped_at IS NOT NULL)", definitions[2]);
        Assert.EndsWith("(carrier_key, tracking_key) WHERE (tracking_key IS NOT NULL)", definitions[3]);

        await connection.Command("""
            INSERT INTO orders (order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor,
                buyer_currency, line_count, source, late, created_at, updated_at, version)
            SELECT 'o' || lpad(g::text, 6, '0'), 'buyer-' || (g % 50), 'seller-' || (g % 20), 'AwaitingPayment', 100, 'USD', 100, 'USD',
                1, 'checkout', false, timestamptz '2026-12-05 12:00' + g * interval '1 second', now(), 1
            FROM generate_series(1, 5000) AS g
            """).ExecuteNonQueryAsync();
        await connection.Command("ANALYZE orders").ExecuteNonQueryAsync();
        foreach (var (column, id) in new[] { ("seller_id", "seller-7"), ("buyer_id", "buyer-7") })
        {
            var text = string.Join("\n", await Strings(connection.Command(
                $"EXPLAIN SELECT order_id, status, buyer_total_minor FROM orders WHERE {column} = @id ORDER BY created_at DESC, order_id DESC LIMIT 20").With("id", id)));
            Assert.True(text.Contains("Index Scan Backward using orders_by_" + column[..^3]), text);
            Assert.DoesNotContain("Sort", text);
        }
    }

    [Fact]
    public async Task An_orders_status_change_stays_on_its_page_without_new_index_entries()
    {
        // Each status change of an order rewrites its list row. With room left on the pages (0021) PostgreSQL writes the new
        // version beside the old one and adds nothing to the row's three indexes (a HOT update); with full pages it cannot.
        await using var database = await Open("");
        await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        Assert.Equal(["fillfactor=70"], await Strings(connection.Command("SELECT unnest(reloptions) FROM pg_class WHERE relname = 'orders'")));
        await connection.Command("""
            INSERT INTO orders (order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor,
                buyer_currency, line_count, source, late, created_at, updated_at, version)
            SELECT 'o' || lpad(g::text, 6, '0'), 'buyer-' || (g % 50), 'seller-1', 'AwaitingPayment', 100, 'USD', 100, 'USD',
                1, 'checkout', false, timestamptz '2026-12-05 12:00' + g * interval '1 second', now(), 1
            FROM generate_series(1, 5000) AS g
            """).ExecuteNonQueryAsync();
        // One transaction, so that its own counters say which updates were HOT; the orders are paid 100 at a time, scattered.
        await using var transaction = await connection.BeginTransactionAsync();
        for (var batch = 0; batch < 50; batch++)
        {
            await connection.Command("""
                UPDATE orders SET status = 'Paid', updated_at = now(), version = version + 1
                WHERE order_id IN (SELECT 'o' || lpad(g::text, 6, '0') FROM generate_series(1, 5000) AS g WHERE g * 7919 % 50 = @batch)
                """, transaction).With("batch", batch).ExecuteNonQueryAsync();
        }
        await using var counts = connection.Command(
            "SELECT pg_stat_get_xact_tuples_updated('orders'::regclass), pg_stat_get_xact_tuples_hot_updated('orders'::regclass)", transaction);
        await using var reader = await counts.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var (updated, hot) = (reader.GetInt64(0), reader.GetInt64(1));
        Assert.Equal(5000, updated);
        // Pages 70% full have room for the new versions of about half their rows (2,511 here); full pages for none (0).
        Assert.True(hot >= 1500, $"{hot} of {updated} status changes were HOT updates");
    }

    [Fact]
    public async Task Order_writes_go_on_while_the_list_indexes_are_rebuilt_and_the_migration_finishes_after_them()
    {
        // A database as the previous release left it: the list indexes descending, version 18 not applied.
        var connectionString = await PostgresServer.CreateDatabaseAsync("tradedb");
        await using var database = Database(connectionString);
        var migrator = new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync();
        await using var admin = new NpgsqlConnection(connectionString);
        await admin.OpenAsync();
        await admin.Command("""
            DROP INDEX orders_by_seller; DROP INDEX orders_by_buyer;
            CREATE INDEX orders_by_seller ON orders (seller_id, created_at DESC, order_id DESC);
            CREATE INDEX orders_by_buyer ON orders (buyer_id, created_at DESC, order_id DESC);
            DELETE FROM trade_schema_migrations WHERE version = 18;
            """).ExecuteNonQueryAsync();
        const string insert = """
            INSERT INTO orders (order_id, buyer_id, seller_id, status, seller_total_minor, seller_currency, buyer_total_minor,
                buyer_currency, line_count, source, late, created_at, updated_at, version)
            VALUES (@id, 'buyer-1', 'seller-1', 'AwaitingPayment', 100, 'USD', 100, 'USD', 1, 'checkout', false, now(), now(), 1)
            """;

        // An order write of the previous release is in flight when the migration starts.
        await using var inFlight = new NpgsqlConnection(connectionString);
        await inFlight.OpenAsync();
        await using var transaction = await inFlight.BeginTransactionAsync();
        await inFlight.Command(insert, transaction).With("id", "o-in-flight").ExecuteNonQueryAsync();
        var migration = migrator.MigrateAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));

        // Other order writes go on meanwhile (a rebuild inside a transaction would hold them behind its lock until it committed).
        await using (var writer = new NpgsqlConnection(connectionString))
        {
            await writer.OpenAsync();
            var write = writer.Command(insert).With("id", "o-during");
            write.CommandTimeout = 10; // held behind a lock, it fails (and is cancelled on the server) instead of hanging the test
            Assert.Equal(1, await write.ExecuteNonQueryAsync());
        }
        // The index build waits for the write that was in flight before it, then finishes.
        Assert.False(migration.IsCompleted);
        await transaction.CommitAsync();
        Assert.Same(migration, await Task.WhenAny(migration, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Equal([18], await migration);

        Assert.Equal(["orders_by_buyer: (buyer_id, created_at, order_id) valid", "orders_by_seller: (seller_id, created_at, order_id) valid",
                "orders_by_shipped_at: (shipped_at) WHERE (shipped_at IS NOT NULL) valid",
                "orders_by_tracking: (carrier_key, tracking_key) WHERE (tracking_key IS NOT NULL) valid"],
            await Strings(admin.Command("""
                SELECT c.relname || ': ' || substring(pg_get_indexdef(i.indexrelid) from '\(.*\)$') || CASE WHEN i.indisvalid THEN ' valid' ELSE ' invalid' END
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = 'orders'::regclass AND c.relname LIKE 'orders_by_%' ORDER BY c.relname
                """)));
        Assert.Equal(2L, Convert.ToInt64(await admin.Command("SELECT count(*) FROM orders").ExecuteScalarAsync()));
    }

    [Fact]
    public void A_script_marked_to_run_outside_a_transaction_is_split_into_its_statements()
    {
        var scripts = SchemaMigrator.Scripts(StorageProvider.Postgres);
        var lists = Assert.Single(scripts, s => s.Version == 18);
        Assert.True(lists.OutsideTransaction);
        Assert.Equal(8, lists.Statements().Count);
        Assert.All(lists.Statements(), statement =>
        {
            Assert.DoesNotContain("--", statement);
            Assert.EndsWith(";", statement);
            Assert.Single(statement.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        });
        Assert.StartsWith("CREATE INDEX CONCURRENTLY orders_by_seller_ascending", lists.Statements()[1]);
        var byTime = Assert.Single(scripts, s => s.Version == 20);
        Assert.True(byTime.OutsideTransaction);
        Assert.Equal(["DROP INDEX CONCURRENTLY IF EXISTS ledger_transfers_by_time;",
            "CREATE INDEX CONCURRENTLY ledger_transfers_by_time ON ledger_transfers USING brin (created_at);"], byTime.Statements());
        var bySeller = Assert.Single(scripts, s => s.Version == 26);
        Assert.True(bySeller.OutsideTransaction);
        Assert.Equal(4, bySeller.Statements().Count);
        Assert.StartsWith("CREATE INDEX CONCURRENTLY service_tickets_by_seller_building", bySeller.Statements()[1]);
        var byTracking = Assert.Single(scripts, s => s.Version == 27);
        Assert.True(byTracking.OutsideTransaction);
        Assert.Equal(7, byTracking.Statements().Count);
        Assert.StartsWith("CREATE INDEX CONCURRENTLY orders_by_tracking_building", byTracking.Statements()[4]);
        var byShipping = Assert.Single(scripts, s => s.Version == 28);
        Assert.True(byShipping.OutsideTransaction);
        Assert.Equal(8, byShipping.Statements().Count);
        Assert.StartsWith("CREATE INDEX CONCURRENTLY orders_by_shipped_at_building", byShipping.Statements()[5]);
        // Every other script runs in a transaction, as a whole.
        Assert.All(scripts.Where(s => s.Version is not (18 or 20 or 26 or 27 or 28)), s => Assert.False(s.OutsideTransaction, $"{s.Version:D4}_{s.Name}"));
        Assert.All(SchemaMigrator.Scripts(StorageProvider.Sqlite), s => Assert.False(s.OutsideTransaction, $"{s.Version:D4}_{s.Name}"));
    }

    [Fact]
    public async Task A_database_with_a_linguistic_default_collation_is_reported_and_one_with_byte_order_is_not()
    {
        var (plain, _) = await StorageTestDatabase.OpenAsync("postgres", "collc");
        await using (plain)
        {
            Assert.Null(await new SchemaMigrator(plain, NullLogger<SchemaMigrator>.Instance).LinguisticCollationAsync());
        }

        var name = $"collicu_{Guid.NewGuid():N}"[..20];
        await using (var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand(
                $"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'", admin);
            await create.ExecuteNonQueryAsync();
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["ConnectionStrings:Trade"] = new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = name }.ConnectionString,
        }).Build();
        await using var icu = TradeDatabase.FromConfiguration(configuration);
        Assert.Equal("icu en-US", await new SchemaMigrator(icu, NullLogger<SchemaMigrator>.Instance).LinguisticCollationAsync());
    }

    [Fact]
    public async Task A_pooled_connection_is_handed_out_again_without_DISCARD_ALL()
    {
        await using var database = await Open("");
        Assert.Equal("left-behind", await SettingAfterReuse(database));
    }

    [Fact]
    public async Task An_explicit_reset_setting_in_the_connection_string_wins()
    {
        await using var database = await Open(";No Reset On Close=false");
        Assert.NotEqual("left-behind", await SettingAfterReuse(database));
    }
}
