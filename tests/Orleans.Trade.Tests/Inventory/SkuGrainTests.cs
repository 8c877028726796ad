using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Tests.Inventory;

/// <summary>Records alerts in memory; fails the first <see cref="FailuresLeft"/> calls to exercise the grain's retry.</summary>
public sealed class RecordingAlertSink : IStockAlertSink
{
    public ConcurrentDictionary<string, StockAlert> Alerts { get; } = new();
    public int FailuresLeft;

    public Task RecordAsync(IReadOnlyList<StockAlert> alerts, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref FailuresLeft) >= 0)
        {
            throw new InvalidOperationException("alert table unavailable");
        }
        foreach (var alert in alerts)
        {
            Alerts.TryAdd(alert.AlertId, alert);
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// SKU ledgers in memory for the in-process grain tests, round-tripped through JSON like the SQL store so a test sees only
/// what a real write would keep. The SQL store itself is exercised by every HTTP test against PostgreSQL and SQLite.
/// </summary>
public sealed class InMemorySkuLedgerStore : ISkuLedgerStore
{
    private readonly Dictionary<string, (long Version, string State, Dictionary<string, StockReservation> Reservations)> _ledgers = new();
    public int Writes;
    /// <summary>Writes refused whole because they placed a checkout key stored before.</summary>
    public int TakenRefusals;

    /// <summary>Checkout keys stored (as the grain-state rows of their checkout grains): a write placing one again is refused whole.</summary>
    public HashSet<string> StoredCheckouts { get; } = new(StringComparer.Ordinal);

    public Task<SkuLedger?> LoadAsync(string skuId, CancellationToken cancellationToken)
    {
        lock (_ledgers)
        {
            return Task.FromResult(_ledgers.TryGetValue(skuId, out var l)
                ? new SkuLedger(l.Version, System.Text.Json.JsonSerializer.Deserialize<SkuState>(l.State)!, l.Reservations.Values.ToArray())
                : null);
        }
    }

    /// <summary>Writes of these SKUs wait until their gate opens (a slow database round trip, under the test's control).</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new(StringComparer.Ordinal);

    public async Task<long> WriteAsync(SkuLedgerWrite write, CancellationToken cancellationToken)
    {
        await Task.Delay(2, cancellationToken); // a database round trip: requests arriving meanwhile share the next write
        if (Gates.TryGetValue(write.SkuId, out var gate))
        {
            await gate.Task;
        }
        lock (_ledgers)
        {
            var current = _ledgers.TryGetValue(write.SkuId, out var l) ? l.Version : 0;
            if (current != write.ExpectedVersion)
            {
                throw new SkuLedgerConflictException(write.SkuId, write.ExpectedVersion);
            }
            var taken = (write.Placed ?? []).Select(p => p.CheckoutGrainId).Where(StoredCheckouts.Contains).ToArray();
            if (taken.Length > 0)
            {
                TakenRefusals++;
                throw new CheckoutKeysTakenException(taken);
            }
            StoredCheckouts.UnionWith((write.Placed ?? []).Select(p => p.CheckoutGrainId));
            var reservations = l.Reservations is null ? new Dictionary<string, StockReservation>() : new Dictionary<string, StockReservation>(l.Reservations);
            foreach (var id in write.Closed) reservations.Remove(id);
            foreach (var r in write.Opened) reservations[r.ReservationId] = r;
            _ledgers[write.SkuId] = (current + 1, System.Text.Json.JsonSerializer.Serialize(write.State), reservations);
            Writes++;
            return current + 1;
        }
    }
}

public sealed class NoPlacedOrders : IPlacedOrders
{
    public Task<IReadOnlySet<string>> WhichArePlacedAsync(IReadOnlyCollection<string> orderIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<string>>(new HashSet<string>());
}

public sealed class SkuGrainClusterFixture : IAsyncLifetime
{
    public RecordingAlertSink Sink { get; } = new();
    public InMemorySkuLedgerStore Ledgers { get; } = new();
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Trade);
            silo.Services.AddSingleton<IStockAlertSink>(Sink);
            silo.Services.AddSingleton<ISkuLedgerStore>(Ledgers);
            // These tests make no tentative holds (those are tested against the real order projection in OrderHoldTests).
            silo.Services.AddSingleton<IPlacedOrders, NoPlacedOrders>();
            silo.Services.AddSingleton<TimeProvider>(Clock);
            silo.Services.AddSingleton(new TradeClock(Clock));
            // What a one-line checkout placed by the SKU prices and ranks with.
            silo.Services.AddSingleton<Orleans.Trade.Orders.IFxRates>(new Orleans.Trade.Orders.ConfiguredFxRates(Orleans.Trade.Orders.ConfiguredFxRates.Defaults, Clock.GetUtcNow()));
            silo.Services.AddSingleton(Orleans.Trade.Orders.RegionMap.Default);
            silo.Services.AddSingleton<CachedWarehouses>();
            silo.Services.AddSingleton<Orleans.Trade.Logistics.CachedShippingTemplates>();
            silo.Services.AddSingleton<Orleans.Trade.Logistics.CachedCarrierCatalog>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The SKU grain on Orleans' in-process test cluster (memory storage): ownership, batching, alerts and their retry.</summary>
public sealed class SkuGrainTests(SkuGrainClusterFixture fixture) : IClassFixture<SkuGrainClusterFixture>
{
    private static SkuCatalog Catalog(string seller, int? threshold = null) =>
        new(seller, "Mug", "home", new Money(999, "EUR"), 350, "691200", "PT", threshold);

    private ISkuGrain Sku() => fixture.Cluster.Client.GetGrain<ISkuGrain>("g-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Stock_writes_need_catalog_data_first()
    {
        var result = await Sku().SetStock(new StockLevelUpdate("wh", 1, 1), null);

        Assert.Equal(StockWriteStatus.UnknownSku, result.Status);
    }

    [Fact]
    public async Task Another_seller_can_neither_take_over_nor_restock_a_sku()
    {
        var sku = Sku();
        Assert.Equal(CatalogWriteStatus.Created, (await sku.UpsertCatalog(Catalog("s1"), "s1")).Status);

        Assert.Equal(CatalogWriteStatus.Forbidden, (await sku.UpsertCatalog(Catalog("s2"), "s2")).Status);
        Assert.Equal(StockWriteStatus.Forbidden, (await sku.SetStock(new StockLevelUpdate("wh", 5, 1), "s2")).Status);
        Assert.Equal(StockWriteStatus.Forbidden, (await sku.AdjustStock(new StockAdjustment("wh", "e", 5, null), "s2")).Status);
        Assert.Equal(StockWriteStatus.Applied, (await sku.SetStock(new StockLevelUpdate("wh", 5, 1), "s1")).Status);
        Assert.Equal("s1", (await sku.Get())!.Catalog.SellerId);
    }

    [Fact]
    public async Task A_batch_applies_in_order_and_reports_each_update()
    {
        var sku = Sku();
        await sku.UpsertCatalog(Catalog("s1"), null);

        var results = await sku.SetStockBatch(
            [new StockLevelUpdate("a", 10, 2), new StockLevelUpdate("a", 7, 1), new StockLevelUpdate("b", 3, 1), new StockLevelUpdate("a", 4, 3)], null);

        Assert.Equal([StockWriteStatus.Applied, StockWriteStatus.Stale, StockWriteStatus.Applied, StockWriteStatus.Applied], results.Select(r => r.Status));
        var view = await sku.Get();
        Assert.Equal(7, view!.TotalAvailable);
        Assert.Equal(fixture.Clock.GetUtcNow(), view.UpdatedAt);
    }

    [Fact]
    public async Task Concurrent_reservations_on_one_sku_share_writes_and_never_oversell()
    {
        var sku = Sku();
        await sku.UpsertCatalog(Catalog("s1"), null);
        await sku.SetStock(new StockLevelUpdate("wh", 300, 1), null);
        var writesBefore = fixture.Ledgers.Writes;

        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            sku.Reserve(new StockReservationRequest($"order-{i}:0", 1, ["wh"]))));

        Assert.Equal(300, results.Count(r => r.Status == ReservationStatus.Reserved));
        Assert.Equal(700, results.Count(r => r.Status == ReservationStatus.Insufficient));
        var view = await sku.Get();
        Assert.Equal(0, view!.TotalAvailable);
        Assert.Equal(300, view.Warehouses[0].Reserved);
        Assert.True(fixture.Ledgers.Writes - writesBefore < 300, $"{fixture.Ledgers.Writes - writesBefore} writes for 300 reservations: no group commit");

        // Retrying a reservation is a no-op; releasing twice gives the units back once.
        var reservedId = results.Select((r, i) => (r, i)).First(x => x.r.Status == ReservationStatus.Reserved).i;
        Assert.Equal(ReservationStatus.Reserved, (await sku.Reserve(new StockReservationRequest($"order-{reservedId}:0", 1, ["wh"]))).Status);
        Assert.Equal(0, (await sku.Get())!.TotalAvailable);
        await sku.ReleaseReservation($"order-{reservedId}:0");
        await sku.ReleaseReservation($"order-{reservedId}:0");
        Assert.Equal(1, (await sku.Get())!.TotalAvailable);
    }

    /// <summary>A new SKU of seller s1 with <paramref name="units"/> in warehouse "wh".</summary>
    private async Task<(ISkuGrain Sku, string SkuId)> StockedSkuAsync(long units)
    {
        var sku = Sku();
        await sku.UpsertCatalog(Catalog("s1"), null);
        await sku.SetStock(new StockLevelUpdate("wh", units, 1), null);
        return (sku, sku.GetPrimaryKeyString());
    }

    private static Orleans.Trade.Orders.SkuCheckout OneLine(string skuId, string key, long quantity = 1, string body = "body") => new(key,
        new Orleans.Trade.Orders.CheckoutCommand("buyer-1", "EUR",
            new Orleans.Trade.Orders.ShippingAddress("Anna", "Invalidenstr. 1", null, "Berlin", null, "10115", "DE", "+49301234567"),
            [new Orleans.Trade.Orders.CartLine(skuId, quantity)], null, "hash-" + body, "buyer:buyer-1"));

    [Fact]
    public async Task Copies_of_a_one_line_checkout_sent_at_once_place_one_order_and_another_body_goes_to_the_saga()
    {
        var (sku, skuId) = await StockedSkuAsync(10);
        // The silo's copy of the warehouse ranking is loaded first, so no copy below waits for it while the gate is open.
        var (warm, warmId) = await StockedSkuAsync(10);
        Assert.NotNull(await warm.PlaceOrder(OneLine(warmId, "buyer:buyer-1/warm", 1)));

        // The first copy's write is held, so every copy arrives while it is in flight: a read sent after the copies answers
        // once all of them have been taken in (the grain is reentrant and takes its calls in order), and the pause lets each
        // reach the in-flight check (a fixed pause alone was too short once on a loaded machine).
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Ledgers.Gates[skuId] = gate;
        var sending = Task.WhenAll(Enumerable.Range(0, 20).Select(_ => sku.PlaceOrder(OneLine(skuId, "buyer:buyer-1/copies", 2))));
        await sku.Get();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(sending.IsCompleted);
        gate.SetResult();
        fixture.Ledgers.Gates.TryRemove(skuId, out _);
        var answers = await sending;

        // Copies that came while the first was being written share its answer; one that comes after it meets the stored key and
        // is left to the saga (null), holding nothing.
        var placed = answers.Where(a => a is not null).ToArray();
        Assert.Equal(20, placed.Length);
        Assert.All(placed, a => Assert.Equal(Orleans.Trade.Orders.CheckoutStatus.Created, a!.Status));
        var order = Assert.Single(placed.Select(a => a!.Orders.Single().OrderId).Distinct());
        Assert.Equal(8, (await sku.Get())!.TotalAvailable);
        Assert.Null(await sku.PlaceOrder(OneLine(skuId, "buyer:buyer-1/copies", 2)));
        Assert.Equal(8, (await sku.Get())!.TotalAvailable);
        Assert.Null(await sku.PlaceOrder(OneLine(skuId, "buyer:buyer-1/copies", 2, body: "another body")));
        var stored = await fixture.Ledgers.LoadAsync(skuId, CancellationToken.None);
        Assert.Equal([ReservationIds.For(order, 0)], stored!.Reservations.Select(r => r.ReservationId));
        Assert.All(stored.Reservations, r => Assert.Null(r.HoldUntil));
    }

    [Fact]
    public async Task A_read_shows_the_last_durable_state_at_once_while_a_write_is_in_flight()
    {
        var (sku, skuId) = await StockedSkuAsync(10);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Ledgers.Gates[skuId] = gate;

        var placing = sku.PlaceOrder(OneLine(skuId, "buyer:buyer-1/read-" + skuId, 3));
        var read = sku.Get();
        var first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5)));

        Assert.Same(read, first); // answered while the write is held
        Assert.Equal(10, (await read)!.TotalAvailable); // the reservation is not durable yet, so it is not shown
        Assert.False(placing.IsCompleted);
        gate.SetResult();
        fixture.Ledgers.Gates.TryRemove(skuId, out _);
        Assert.Equal(Orleans.Trade.Orders.CheckoutStatus.Created, (await placing)!.Status);
        Assert.Equal(7, (await sku.Get())!.TotalAvailable);
        Assert.Equal(3, (await sku.Get())!.Warehouses.Single().Reserved);
    }

    [Fact]
    public async Task A_one_line_checkout_that_cannot_be_placed_here_is_left_to_the_saga_holding_nothing()
    {
        var (sku, skuId) = await StockedSkuAsync(3);

        Assert.Null(await sku.PlaceOrder(OneLine(skuId, "buyer:buyer-1/short", 4))); // short: the saga answers with substitutes
        Assert.Null(await sku.PlaceOrder(OneLine("another-sku", "buyer:buyer-1/elsewhere"))); // not this SKU's line
        Assert.Null(await Sku().PlaceOrder(OneLine(skuId, "buyer:buyer-1/unknown"))); // a SKU without a catalog
        Assert.Equal(3, (await sku.Get())!.TotalAvailable);
        Assert.Empty((await fixture.Ledgers.LoadAsync(skuId, CancellationToken.None))!.Reservations);
    }

    [Fact]
    public async Task A_one_line_checkout_whose_key_was_stored_before_gives_its_units_back_and_the_rest_of_its_write_lands()
    {
        var (sku, skuId) = await StockedSkuAsync(10);
        var usedKey = "buyer:buyer-1/used-" + skuId;
        fixture.Ledgers.StoredCheckouts.Add(fixture.Cluster.Client.GetGrain<Orleans.Trade.Orders.ICheckoutGrain>(usedKey).GetGrainId().ToString());

        // Sent together so that they share writes with the one whose key is taken.
        var answers = await Task.WhenAll(new[] { "a", "b" }.Select(k => sku.PlaceOrder(OneLine(skuId, $"buyer:buyer-1/{k}-{skuId}")))
            .Append(sku.PlaceOrder(OneLine(skuId, usedKey, 3)))
            .Concat(new[] { "c", "d" }.Select(k => sku.PlaceOrder(OneLine(skuId, $"buyer:buyer-1/{k}-{skuId}")))));

        Assert.Null(answers[2]);
        var placed = answers.Where(a => a is not null).Select(a => a!.Orders.Single().OrderId).ToArray();
        Assert.Equal(4, placed.Length);
        Assert.Equal(6, (await sku.Get())!.TotalAvailable);
        var stored = await fixture.Ledgers.LoadAsync(skuId, CancellationToken.None);
        Assert.Equal(placed.Select(o => ReservationIds.For(o, 0)).Order(StringComparer.Ordinal),
            stored!.Reservations.Select(r => r.ReservationId).Order(StringComparer.Ordinal));
        Assert.Equal(4, stored.State.Warehouses["wh"].Reserved);
        // A later copy of the refused checkout meets the stored key again and holds nothing either.
        Assert.Null(await sku.PlaceOrder(OneLine(skuId, usedKey, 3)));
        Assert.Equal(6, (await sku.Get())!.TotalAvailable);
    }

    [Fact]
    public async Task A_checkout_refused_for_its_stored_key_leaves_no_alert_for_the_units_it_gave_back()
    {
        // R-INV-2: the out-of-stock and low-stock alerts of checkouts whose write was refused (their keys were stored before)
        // were kept and published, although no write ever stored the stock they describe.
        var sku = Sku();
        var skuId = sku.GetPrimaryKeyString();
        await sku.UpsertCatalog(Catalog("s1", threshold: 2), null);
        await sku.SetStock(new StockLevelUpdate("wh", 3, 1), null);
        foreach (var (key, quantity) in new[] { ("all", 3L), ("one", 1L) })
        {
            var usedKey = $"buyer:buyer-1/used-{key}-{skuId}";
            fixture.Ledgers.StoredCheckouts.Add(fixture.Cluster.Client.GetGrain<Orleans.Trade.Orders.ICheckoutGrain>(usedKey).GetGrainId().ToString());
            Assert.Null(await sku.PlaceOrder(OneLine(skuId, usedKey, quantity)));
        }
        Assert.Equal(3, (await sku.Get())!.TotalAvailable);
        Assert.Empty((await fixture.Ledgers.LoadAsync(skuId, CancellationToken.None))!.State.PendingAlerts);

        // A checkout that does take the last units raises its alert, and it is the only one published.
        Assert.NotNull(await sku.PlaceOrder(OneLine(skuId, $"buyer:buyer-1/real-{skuId}", 3)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!fixture.Sink.Alerts.Values.Any(a => a.SkuId == skuId) && DateTime.UtcNow < deadline)
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(6));
            await Task.Delay(200);
        }
        await Task.Delay(500);
        var alert = Assert.Single(fixture.Sink.Alerts.Values, a => a.SkuId == skuId);
        Assert.Equal((StockAlertKind.OutOfStock, 0L), (alert.Kind, alert.Available));
    }

    [Fact]
    public async Task A_retry_of_a_checkout_the_sku_knows_is_stored_goes_to_the_saga_without_costing_a_refused_write()
    {
        var (sku, skuId) = await StockedSkuAsync(10);
        var placedKey = "buyer:buyer-1/placed-" + skuId;
        var usedKey = "buyer:buyer-1/used-elsewhere-" + skuId;
        fixture.Ledgers.StoredCheckouts.Add(fixture.Cluster.Client.GetGrain<Orleans.Trade.Orders.ICheckoutGrain>(usedKey).GetGrainId().ToString());
        Assert.NotNull(await sku.PlaceOrder(OneLine(skuId, placedKey, 2)));
        Assert.Null(await sku.PlaceOrder(OneLine(skuId, usedKey, 1))); // refused once by the store: the key was placed before
        var (writes, refusals) = (fixture.Ledgers.Writes, fixture.Ledgers.TakenRefusals);

        // A storm of retries of both keys: each goes to the saga (null) at once, holding nothing and writing nothing.
        var retries = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => sku.PlaceOrder(OneLine(skuId, i % 2 == 0 ? placedKey : usedKey, 2))));

        Assert.All(retries, Assert.Null);
        Assert.Equal((writes, refusals), (fixture.Ledgers.Writes, fixture.Ledgers.TakenRefusals));
        Assert.Equal(8, (await sku.Get())!.TotalAvailable);
        // Other checkouts go on as before.
        Assert.NotNull(await sku.PlaceOrder(OneLine(skuId, "buyer:buyer-1/next-" + skuId)));
        Assert.Equal(7, (await sku.Get())!.TotalAvailable);
    }

    [Fact]
    public async Task Alerts_are_kept_with_the_state_and_delivered_after_the_sink_recovers()
    {
        var sku = Sku();
        await sku.UpsertCatalog(Catalog("s1", threshold: 2), null);
        await sku.SetStock(new StockLevelUpdate("wh", 10, 1), null);
        fixture.Sink.FailuresLeft = 1;

        var result = await sku.SetStock(new StockLevelUpdate("wh", 0, 2), null);

        Assert.Equal(StockWriteStatus.Applied, result.Status);
        var skuId = sku.GetPrimaryKeyString();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!fixture.Sink.Alerts.Values.Any(a => a.SkuId == skuId) && DateTime.UtcNow < deadline)
        {
            // Grain timers run on the injected clock: move it past the retry period.
            fixture.Clock.Advance(TimeSpan.FromSeconds(6));
            await Task.Delay(200);
        }
        var alert = Assert.Single(fixture.Sink.Alerts.Values, a => a.SkuId == skuId);
        Assert.Equal(StockAlertKind.OutOfStock, alert.Kind);
        Assert.True(alert.RaisedAt <= fixture.Clock.GetUtcNow());
    }

    [Fact]
    public async Task Pre_sale_terms_taken_off_keep_their_campaign_date_in_what_is_stored()
    {
        // R-INV-5: terms taken off and put back with the same date go on counting the units the campaign sold, also after
        // the SKU was reloaded from storage (an idle collection, a restart).
        var sku = Sku();
        var date = DateOnly.FromDateTime(fixture.Clock.GetUtcNow().UtcDateTime).AddDays(10);
        var terms = new PreSaleTerms(5, date);
        await sku.UpsertCatalog(Catalog("s1") with { PreSale = terms }, null);
        Assert.Equal(ReservationStatus.Reserved, (await sku.Reserve(new StockReservationRequest("pre-1:0", 2, ["wh"]))).Status);
        await sku.CommitReservation("pre-1:0"); // shipped: no longer open, still counted against the campaign's quota

        await sku.UpsertCatalog(Catalog("s1"), null); // terms taken off

        var stored = await fixture.Ledgers.LoadAsync(sku.GetPrimaryKeyString(), CancellationToken.None);
        Assert.Equal(date, stored!.State.PreSaleCampaignDate);
        StockRules.ApplyPreSaleTerms(stored.State, null, terms); // put back with the same date by the reloaded SKU
        Assert.Equal(2, stored.State.PreSaleReserved);
    }
}
