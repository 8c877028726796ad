using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>The batched grain storage on real PostgreSQL and on SQLite: version checks per grain, the wake index, and outbox rows.</summary>
public sealed class BatchedGrainStorageTests
{
    public static TheoryData<string> Providers => StorageTestDatabase.Providers;

    private static async Task<(BatchedGrainStorage Storage, SqlOrderStore Orders, TradeDatabase Database)> Open(string provider, NewGrainIds? newGrains = null,
        int roundTripsInFlight = 2)
    {
        var (database, configuration) = await StorageTestDatabase.OpenAsync(provider, "grainstate", new Dictionary<string, string?>
        {
            ["Storage:MaxBatch"] = "64",
            ["Storage:RoundTripsInFlight"] = roundTripsInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var orders = new SqlOrderStore(database);
        var storage = new BatchedGrainStorage(database, StorageTestDatabase.Serializer, Options.Create(new ClusterOptions { ServiceId = "svc", ClusterId = "c" }),
            configuration, [orders], newGrains ?? new NewGrainIds());
        return (storage, orders, database);
    }

    private static GrainId Checkout(string key) => GrainId.Create("checkout", key);

    /// <summary>Stores an order being prepared whose write carries <paramref name="wakeAt"/> into the deadline index.</summary>
    private static async Task<HeldState<OrderState>> WriteOrderAsync(BatchedGrainStorage storage, string key, DateTimeOffset? wakeAt)
    {
        var order = new HeldState<OrderState>(new OrderState { Phase = OrderPhase.Preparing });
        order.State.CarryWithNextWrite(wakeAt, null);
        await storage.WriteStateAsync("order", GrainId.Create("order", key), order);
        return order;
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Hundreds_of_concurrent_writes_all_land_and_read_back_with_their_versions(string provider)
    {
        var (storage, _, database) = await Open(provider);
        await using var _ = database;
        var ids = Enumerable.Range(0, 300).Select(i => Checkout($"k{i}")).ToArray();

        var states = ids.Select(id => new HeldState<CheckoutState>(new CheckoutState { CheckoutId = id.Key.ToString(), RequestHash = "h1" })).ToArray();
        await Task.WhenAll(ids.Select((id, i) => storage.WriteStateAsync("checkout", id, states[i])));
        Assert.All(states, s => Assert.Equal("1", s.ETag));
        foreach (var s in states)
        {
            s.State.RequestHash = "h2";
        }
        await Task.WhenAll(ids.Select((id, i) => storage.WriteStateAsync("checkout", id, states[i])));

        var read = ids.Select(_ => new HeldState<CheckoutState>(new CheckoutState())).ToArray();
        await Task.WhenAll(ids.Select((id, i) => storage.ReadStateAsync("checkout", id, read[i])));
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.True(read[i].RecordExists);
            Assert.Equal("2", read[i].ETag);
            Assert.Equal(ids[i].Key.ToString(), read[i].State.CheckoutId);
            Assert.Equal("h2", read[i].State.RequestHash);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_stale_write_is_refused_without_touching_the_other_writes_of_its_batch(string provider)
    {
        var (storage, _, database) = await Open(provider);
        await using var _ = database;
        var contested = Checkout("contested");
        var mine = new HeldState<CheckoutState>(new CheckoutState { RequestHash = "mine" });
        await storage.WriteStateAsync("checkout", contested, mine);
        var stale = new HeldState<CheckoutState>(new CheckoutState { RequestHash = "stale" }) { ETag = mine.ETag };
        mine.State.RequestHash = "mine-2";
        await storage.WriteStateAsync("checkout", contested, mine);

        // A first write of a grain that exists is stale too.
        var blind = new HeldState<CheckoutState>(new CheckoutState { RequestHash = "blind" });
        var others = Enumerable.Range(0, 20).Select(i => (Id: Checkout($"other{i}"), State: new HeldState<CheckoutState>(new CheckoutState { RequestHash = $"o{i}" }))).ToArray();
        var staleWrite = storage.WriteStateAsync("checkout", contested, stale);
        var blindWrite = storage.WriteStateAsync("checkout", contested, blind);
        await Task.WhenAll(others.Select(o => storage.WriteStateAsync("checkout", o.Id, o.State)));

        await Assert.ThrowsAsync<InconsistentStateException>(() => staleWrite);
        await Assert.ThrowsAsync<InconsistentStateException>(() => blindWrite);
        var read = new HeldState<CheckoutState>(new CheckoutState());
        await storage.ReadStateAsync("checkout", contested, read);
        Assert.Equal(("mine-2", "2"), (read.State.RequestHash, read.ETag));
        Assert.All(others, o => Assert.Equal("1", o.State.ETag));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task State_names_and_grain_types_keep_separate_rows_and_a_missing_row_reads_as_new(string provider)
    {
        var (storage, _, database) = await Open(provider);
        await using var _ = database;
        await storage.WriteStateAsync("checkout", Checkout("same"), new HeldState<CheckoutState>(new CheckoutState { RequestHash = "a" }));
        await storage.WriteStateAsync("other", Checkout("same"), new HeldState<CheckoutState>(new CheckoutState { RequestHash = "b" }));
        await storage.WriteStateAsync("checkout", GrainId.Create("import", "same"), new HeldState<CheckoutState>(new CheckoutState { RequestHash = "c" }));

        var read = new HeldState<CheckoutState>(new CheckoutState { RequestHash = "left over" }) { ETag = "9" };
        await storage.ReadStateAsync("checkout", Checkout("same"), read);
        Assert.Equal("a", read.State.RequestHash);
        await storage.ReadStateAsync("checkout", Checkout("missing"), read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Null(read.State.RequestHash);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_grain_marked_as_just_minted_reads_as_new_once_and_cannot_overwrite_a_row_it_did_not_read(string provider)
    {
        var newGrains = new NewGrainIds();
        var (storage, _, database) = await Open(provider, newGrains);
        await using var _ = database;
        await storage.WriteStateAsync("checkout", Checkout("taken"), new HeldState<CheckoutState>(new CheckoutState { RequestHash = "stored" }));

        // Marked although a row exists (the case the mark must survive): the first read skips the database and reads as new...
        newGrains.Minted(Checkout("taken"));
        var first = new HeldState<CheckoutState>(new CheckoutState());
        await storage.ReadStateAsync("checkout", Checkout("taken"), first);
        Assert.False(first.RecordExists);
        Assert.Null(first.ETag);
        Assert.Equal(0, newGrains.Count);
        // ...its write, as of a new row, loses to the stored one instead of replacing it...
        first.State.RequestHash = "overwrite";
        await Assert.ThrowsAsync<Orleans.Storage.InconsistentStateException>(() => storage.WriteStateAsync("checkout", Checkout("taken"), first));
        // ...and the mark is gone: the next activation reads the row as it was.
        var second = new HeldState<CheckoutState>(new CheckoutState());
        await storage.ReadStateAsync("checkout", Checkout("taken"), second);
        Assert.True(second.RecordExists);
        Assert.Equal("stored", second.State.RequestHash);

        // A truly new grain: read as new without a row, then written as version 1.
        newGrains.Minted(Checkout("fresh"));
        var fresh = new HeldState<CheckoutState>(new CheckoutState());
        await storage.ReadStateAsync("checkout", Checkout("fresh"), fresh);
        fresh.State.RequestHash = "new";
        await storage.WriteStateAsync("checkout", Checkout("fresh"), fresh);
        Assert.Equal("1", fresh.ETag);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_wake_move_skips_a_row_a_state_write_holds_and_of_two_moves_of_one_row_applies_the_last(string provider)
    {
        var (storage, _, database) = await Open(provider);
        await using var _ = database;
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        foreach (var key in new[] { "held", "free" })
        {
            await WriteOrderAsync(storage, key, now.AddMinutes(-1));
        }
        var due = (await storage.DueAsync(now, 10, CancellationToken.None)).ToDictionary(d => d.GrainId);
        var free = due["order/free"];
        var moves = new List<(DueGrain, WakeAnswer)>
        {
            (due["order/held"], new WakeAnswer("1", now.AddHours(1))),
            (free, new WakeAnswer("1", now.AddHours(3))),
            (free, new WakeAnswer("1", now.AddHours(2))),
        };
        if (provider == "postgres")
        {
            // A state write's transaction holds the row: the move leaves it (the write brings its own wake time) instead of
            // waiting, where a write batch locking rows in another order would deadlock with it.
            await using var writer = await database.OpenAsync(CancellationToken.None);
            await using var transaction = await writer.BeginTransactionAsync();
            await writer.Command("SELECT version FROM grain_state WHERE grain_id = 'order/held' FOR UPDATE", transaction).ExecuteScalarAsync();
            var move = storage.ReindexAsync(moves, CancellationToken.None);
            Assert.Same(move, await Task.WhenAny(move, Task.Delay(TimeSpan.FromSeconds(10))));
            await move;
            await transaction.RollbackAsync();
            Assert.Equal(["order/held"], (await storage.DueAsync(now, 10, CancellationToken.None)).Select(d => d.GrainId));
        }
        else
        {
            await storage.ReindexAsync(moves, CancellationToken.None);
            Assert.Empty(await storage.DueAsync(now, 10, CancellationToken.None));
        }
        // The later of the two moves of "free" (2 h, asked for last) is the one that stands.
        Assert.DoesNotContain("order/free", (await storage.DueAsync(now.AddHours(1.5), 10, CancellationToken.None)).Select(d => d.GrainId));
        Assert.Contains("order/free", (await storage.DueAsync(now.AddHours(2.5), 10, CancellationToken.None)).Select(d => d.GrainId));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_wake_index_lists_due_grains_in_order_and_moves_only_rows_still_at_the_answered_version(string provider)
    {
        var (storage, _, database) = await Open(provider);
        await using var _ = database;
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        Task<HeldState<OrderState>> Write(string key, DateTimeOffset? wakeAt) => WriteOrderAsync(storage, key, wakeAt);
        await Write("late", now.AddMinutes(-1));
        var early = await Write("early", now.AddMinutes(-5));
        await Write("future", now.AddMinutes(5));
        await Write("never", null);

        var due = await storage.DueAsync(now, 10, CancellationToken.None);
        Assert.Equal(["order/early", "order/late"], due.Select(d => d.GrainId));
        Assert.Equal(now.AddMinutes(-5), due[0].WakeAt);

        // "early" wrote again meanwhile (version 2): the answer for version 1 must not move it.
        early.State.CarryWithNextWrite(now.AddMinutes(-4), null);
        await storage.WriteStateAsync("order", GrainId.Create("order", "early"), early);
        await storage.ReindexAsync([(due[0], new WakeAnswer("1", null)), (due[1], new WakeAnswer(due[1].ETag, now.AddHours(1)))], CancellationToken.None);

        Assert.Equal(["order/early"], (await storage.DueAsync(now, 10, CancellationToken.None)).Select(d => d.GrainId));
        Assert.Equal(["order/early", "order/future", "order/late"], (await storage.DueAsync(now.AddHours(2), 10, CancellationToken.None)).Select(d => d.GrainId));
    }

    private static readonly DateTimeOffset SummaryTime = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static OrderSummary Summary(string orderId, string buyerId, OrderStatus status, long version, OrderSource source = OrderSource.Checkout) =>
        new(orderId, buyerId, "seller-1", status, new Money(1000, "EUR"), new Money(1100, "USD"), 1, source, false, SummaryTime, SummaryTime, version);

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Outbox_rows_commit_with_the_state_and_a_refused_write_leaves_none(string provider)
    {
        var (storage, orders, database) = await Open(provider);
        await using var _ = database;
        OrderOutbox Outbox(string orderId, long version, OrderStatus status) => new(Summary(orderId, "buyer-1", status, version),
            [new OrderNotification($"n-{orderId}-{version}", orderId, "buyer-1", "email", "Placed", status, SummaryTime)], []);

        var accepted = new HeldState<OrderState>(new OrderState());
        accepted.State.CarryWithNextWrite(null, Outbox("o-1", 1, OrderStatus.AwaitingPayment));
        await storage.WriteStateAsync("order", GrainId.Create("order", "o-1"), accepted);
        var refused = new HeldState<OrderState>(new OrderState()) { ETag = "7" };
        refused.State.CarryWithNextWrite(null, Outbox("o-2", 1, OrderStatus.AwaitingPayment));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("order", GrainId.Create("order", "o-2"), refused));

        var page = await orders.ListAsync(new Orleans.Trade.Api.Orders.OrderListQuery("seller-1", null, null, null, null, 1, 50), CancellationToken.None);
        Assert.Equal(["o-1"], page.Items.Select(o => o.OrderId));
    }

    [Fact]
    public async Task A_row_the_database_refuses_fails_its_own_grains_write_and_not_the_others_of_its_batch_on_postgres()
    {
        var (storage, orders, database) = await Open("postgres", roundTripsInFlight: 1);
        await using var _ = database;
        await using (var connection = new Npgsql.NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var triggers = new Npgsql.NpgsqlCommand("""
                CREATE FUNCTION refuse_bad_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'bad row'; END $$;
                CREATE TRIGGER refuse_bad_order BEFORE INSERT ON orders FOR EACH ROW WHEN (NEW.order_id = 'o-bad') EXECUTE FUNCTION refuse_bad_order();
                CREATE FUNCTION slow_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$;
                CREATE TRIGGER slow_order BEFORE INSERT ON orders FOR EACH ROW WHEN (NEW.order_id = 'o-slow') EXECUTE FUNCTION slow_order();
                """, connection);
            await triggers.ExecuteNonQueryAsync();
        }
        Task Write(string orderId)
        {
            var state = new HeldState<OrderState>(new OrderState());
            state.State.CarryWithNextWrite(null, new OrderOutbox(Summary(orderId, "buyer-1", OrderStatus.AwaitingPayment, 1), [], []));
            return storage.WriteStateAsync("order", GrainId.Create("order", orderId), state);
        }

        // One round trip at a time: the two writes queued behind the slow one share the next, which the bad row fails.
        var slow = Write("o-slow");
        await Task.Delay(300);
        var good = Write("o-good");
        var bad = Write("o-bad");
        await slow;
        await good;
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => bad);

        var page = await orders.ListAsync(new Orleans.Trade.Api.Orders.OrderListQuery("seller-1", null, null, null, null, 1, 50), CancellationToken.None);
        Assert.Equal(["o-good", "o-slow"], page.Items.Select(o => o.OrderId).Order());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_imported_orders_list_row_stored_with_a_bare_buyer_id_moves_to_its_owner_at_the_next_change(string provider)
    {
        var (storage, orders, database) = await Open(provider);
        await using var _ = database;

        // Stored before imports qualified their buyer; the order's next write carries its owner.
        var order = new HeldState<OrderState>(new OrderState());
        foreach (var (buyerId, version, status) in new[] { ("amz-buyer-1", 1L, OrderStatus.AwaitingShipment), ("amazon:amz-buyer-1", 2L, OrderStatus.Shipped) })
        {
            order.State.CarryWithNextWrite(null, new OrderOutbox(Summary("o-imp", buyerId, status, version, OrderSource.Import), [], []));
            await storage.WriteStateAsync("order", GrainId.Create("order", "o-imp"), order);
        }

        async Task<string[]> ListOf(string buyerId) => (await orders.ListAsync(
            new Orleans.Trade.Api.Orders.OrderListQuery(null, buyerId, null, null, null, 1, 50), CancellationToken.None)).Items.Select(o => o.OrderId).ToArray();
        Assert.Empty(await ListOf("amz-buyer-1"));
        Assert.Equal(["o-imp"], await ListOf("amazon:amz-buyer-1"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_imported_orders_list_row_still_stored_with_a_bare_buyer_id_is_in_no_list_of_this_platforms_buyer_with_that_id(string provider)
    {
        var (storage, orders, database) = await Open(provider);
        await using var _ = database;

        // Stored before imports qualified their buyer, and not changed since; beside it, that id's own checkout order here.
        foreach (var (orderId, source) in new[] { ("o-old-import", OrderSource.Import), ("o-checkout", OrderSource.Checkout) })
        {
            var order = new HeldState<OrderState>(new OrderState());
            order.State.CarryWithNextWrite(null, new OrderOutbox(Summary(orderId, "amz-buyer-2", OrderStatus.AwaitingShipment, 1, source), [], []));
            await storage.WriteStateAsync("order", GrainId.Create("order", orderId), order);
        }

        var page = await orders.ListAsync(new Orleans.Trade.Api.Orders.OrderListQuery(null, "amz-buyer-2", null, null, null, 1, 50), CancellationToken.None);
        Assert.Equal(["o-checkout"], page.Items.Select(o => o.OrderId));
        Assert.Equal(1, page.Total);
        // The seller still sees both.
        var sellers = await orders.ListAsync(new Orleans.Trade.Api.Orders.OrderListQuery(page.Items[0].SellerId, null, null, null, null, 1, 50), CancellationToken.None);
        Assert.Equal(["o-checkout", "o-old-import"], sellers.Items.Select(o => o.OrderId).Order());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Order_lists_page_by_cursor_through_orders_sharing_a_creation_time_as_by_page_number(string provider)
    {
        var (storage, orders, database) = await Open(provider);
        await using var _ = database;
        var t0 = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        // Seven orders, three of them created in the same millisecond (one SKU write places many), ids not in time order.
        (string Id, DateTimeOffset At)[] placed = [("o-5", t0), ("o-1", t0.AddSeconds(1)), ("o-7", t0.AddSeconds(1)), ("o-3", t0.AddSeconds(1)),
            ("o-2", t0.AddSeconds(2)), ("o-6", t0.AddSeconds(3)), ("o-4", t0.AddSeconds(4))];
        foreach (var (id, at) in placed)
        {
            var state = new HeldState<OrderState>(new OrderState());
            state.State.CarryWithNextWrite(null, new OrderOutbox(new OrderSummary(id, "buyer-1", "seller-1", OrderStatus.AwaitingPayment,
                new Money(1000, "EUR"), new Money(1000, "EUR"), 1, OrderSource.Checkout, false, at, at, 1), [], []));
            await storage.WriteStateAsync("order", GrainId.Create("order", id), state);
        }
        Orleans.Trade.Api.Orders.OrderListQuery Query(int page, Orleans.Trade.Api.Orders.OrderListCursor? after = null) =>
            new("seller-1", null, null, null, null, page, 2, after);

        var byNumber = new List<string>();
        for (var page = 1; page <= 4; page++)
        {
            byNumber.AddRange((await orders.ListAsync(Query(page), CancellationToken.None)).Items.Select(o => o.OrderId));
        }
        var byCursor = new List<string>();
        var next = (Orleans.Trade.Api.Orders.OrderListCursor?)null;
        var pages = 0;
        do
        {
            var page = await orders.ListAsync(Query(1, next), CancellationToken.None);
            Assert.Equal(next is null ? 7 : null, page.Total);           // the first page is by number, the rest by cursor
            byCursor.AddRange(page.Items.Select(o => o.OrderId));
            next = page.Next;
            // A cursor survives its text form, as a client sends it back.
            Assert.True(next is null || (Orleans.Trade.Api.Orders.OrderListCursor.TryParse(next.ToString(), out var parsed) && parsed == next));
        }
        while (next is not null && ++pages < 10);

        Assert.Equal(["o-4", "o-6", "o-2", "o-7", "o-3", "o-1", "o-5"], byNumber);   // newest first, then by id, descending
        Assert.Equal(byNumber, byCursor);
        Assert.Equal(3, pages);
        Assert.Equal(7, (await orders.ListAsync(Query(1), CancellationToken.None)).Total);
        Assert.Null((await orders.ListAsync(Query(4), CancellationToken.None)).Next);
    }
}
