using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Trade.Common;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>
/// A seller ledger archives its settled orders, on a silo process over PostgreSQL and over SQLite whose business clock the test
/// moves, with an Orleans client calling the ledger as order grains do: settled orders leave the books (the ledger endpoint and
/// the stored snapshot), open and recent ones stay, a late refund of an archived order takes it back from its stored transfers
/// and books exactly as before, and after a kill the ledger comes back from a snapshot without the order plus that refund.
/// </summary>
public sealed class LedgerArchiveTests
{
    private static Money Usd(long minor) => new(minor, "USD");

    private static async Task<SiloStorage> Storage(string provider) => provider == "postgres"
        ? SiloStorage.Postgres(await PostgresServer.CreateDatabaseAsync("archive"))
        : SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));

    /// <summary>A silo process that archives orders older than 30 days, with a pass on every write and activation.</summary>
    private static Task<SiloProcess> StartAsync(SiloStorage storage, string name, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["Settlement__LedgerArchiveOrdersAfter"] = "30.00:00:00",
            ["Settlement__LedgerArchivePassEvery"] = "00:00:00",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        return SiloProcess.StartAsync(storage, name + "-" + Guid.NewGuid().ToString("N")[..8], environment);
    }

    /// <summary>The seller's ledger grain, called from an Orleans client as order grains call it.</summary>
    private static ISellerLedgerGrain Ledger(Microsoft.Extensions.Hosting.IHost client, string sellerId) =>
        client.Services.GetRequiredService<IClusterClient>().GetGrain<ISellerLedgerGrain>(sellerId);

    private static Dictionary<string, (long Posted, long PendingIn, long PendingOut)> Accounts(JsonNode ledger) =>
        ledger["accounts"]!.AsArray().ToDictionary(a => a!["accountId"]!.GetValue<string>(),
            a => (a!["posted"]!.GetValue<long>(), a["pendingIn"]!.GetValue<long>(), a["pendingOut"]!.GetValue<long>()));

    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task Settled_orders_leave_the_books_and_a_late_refund_takes_one_back_also_after_a_restart(string provider)
    {
        var storage = await Storage(provider);
        await using var silo = await StartAsync(storage, "archive",
            ("Clock__AllowTestControl", "true"),
            ("Settlement__MaturityCheckPeriod", "00:00:01"),
            ("Orleans__DirectoryCacheSize", "10"));   // a grain-address cache this small evicts all the time: answers do not change
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        using var client = await SiloClients.ConnectAsync(silo);
        var ledger = Ledger(client, sellerId);
        var (_, clock) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 1 });
        var now = clock!["now"]!.GetValue<DateTimeOffset>();
        // Order ids are ULIDs minted at the order's creation: three orders from two months ago, one from now.
        var settled = Ulid.NewUlid(now.AddDays(-60)).ToString();
        var voided = Ulid.NewUlid(now.AddDays(-60).AddMinutes(1)).ToString();
        var open = Ulid.NewUlid(now.AddDays(-60).AddMinutes(2)).ToString();
        var recent = Ulid.NewUlid(now).ToString();
        var release = new EscrowRelease(settled, Usd(800), Usd(0), Usd(0), null, Usd(9_200));
        await ledger.HoldInEscrow(settled, Usd(10_000));
        await ledger.HoldInEscrow(voided, Usd(5_000));
        await ledger.HoldInEscrow(open, Usd(7_000));
        await ledger.HoldInEscrow(recent, Usd(3_000));
        await ledger.ReleaseEscrow(release);
        await ledger.VoidEscrow(voided);
        await ledger.VoidEscrow(recent);
        Assert.Contains($"escrow:{settled}", Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!).Keys);
        // The previous release's silos still read every account through Balances during a rolling update.
        Assert.Equal((await ledger.View(null, 1_000)).Accounts, await ledger.Balances());

        // Past the seller's T+7: the release matures, and the settled and voided orders leave the books.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = TimeSpan.FromDays(8).TotalSeconds })).Status);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Dictionary<string, (long Posted, long PendingIn, long PendingOut)> books;
        while ((books = Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!)).ContainsKey($"escrow:{settled}"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the settled order was not archived: {string.Join(", ", books.Keys)}");
            await Task.Delay(250);
        }
        Assert.DoesNotContain($"escrow:{voided}", books.Keys);
        Assert.Equal((0, 7_000, 0), books[$"escrow:{open}"]);
        Assert.Equal((0, 0, 0), books[$"escrow:{recent}"]);   // settled, but younger than 30 days
        Assert.Equal(9_200, books["seller:available:USD"].Posted);
        Assert.Equal(800, books["platform:commission:USD"].Posted);
        Assert.Equal(0, books.Values.Sum(a => a.Posted));
        // The snapshot stored after archiving (in the background: the books answer archived before it is stored) leaves the
        // archived orders out and says from when orders may be archived.
        var (snapshot, snapshotThrough) = await StoredSnapshot(storage, sellerId);
        var stored = DateTime.UtcNow.AddSeconds(30);
        string[] InSnapshot() => snapshot.Orders.Select(o => o.OrderId).Concat(snapshot.Ledger.Accounts.Select(a => a.AccountId)).ToArray();
        while (snapshot.ArchivedBefore is null || InSnapshot().Any(id => id.Contains(settled)))
        {
            Assert.True(DateTime.UtcNow < stored, "no snapshot without the archived orders was stored");
            await Task.Delay(250);
            (snapshot, snapshotThrough) = await StoredSnapshot(storage, sellerId);
        }
        Assert.NotNull(snapshot.ArchivedBefore);
        var inSnapshot = InSnapshot();
        Assert.DoesNotContain(inSnapshot, id => id.Contains(settled) || id.Contains(voided));
        Assert.Contains(open, inSnapshot);

        // A late refund of the settled order: taken back from its transfers; the platform gives back its share of the commission
        // (8%, 160) and the rest is charged to the seller's available balance.
        Assert.Equal(LedgerRefundResult.Applied, await ledger.Refund(new LedgerRefund(settled, "late-1", Usd(2_000))));
        Assert.Equal(LedgerRefundResult.AlreadyApplied, await ledger.Refund(new LedgerRefund(settled, "late-1", Usd(2_000))));
        Assert.Equal(LedgerRefundResult.ExceedsPaid, await ledger.Refund(new LedgerRefund(settled, "late-5", Usd(8_001))));
        Assert.Equal(LedgerRefundResult.ExceedsPaid, await ledger.Refund(new LedgerRefund(voided, "late-3", Usd(1))));
        await ledger.ReleaseEscrow(release);                  // retries of what was done before archiving change nothing
        await ledger.HoldInEscrow(settled, Usd(10_000));
        await ledger.VoidEscrow(voided);
        var refunded = Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!);
        Assert.Equal(7_360, refunded["seller:available:USD"].Posted);
        Assert.Equal(640, refunded["platform:commission:USD"].Posted);
        Assert.Equal(2_000, refunded["psp:refunds:USD"].Posted);
        Assert.Equal((0, 0, 0), refunded[$"escrow:{settled}"]);
        Assert.Equal((0, 0, 0), refunded.GetValueOrDefault($"escrow:{voided}")); // taken back by its refund, which it refused
        Assert.True(await LastEntryNo(storage, sellerId) > snapshotThrough, "the refund should be stored after the snapshot");

        // After a crash the books come from that snapshot, the settled order taken back from the transfers it covers, then the
        // refund replayed; the refund id is still known and a second refund takes what is left.
        silo.Kill();
        await silo.StartAsync();
        var restarted = Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!);
        // The same balances; settled orders' zero escrow accounts come and go with archiving.
        static IEnumerable<KeyValuePair<string, (long, long, long)>> Holding(Dictionary<string, (long Posted, long PendingIn, long PendingOut)> accounts) =>
            accounts.Where(a => !(a.Key.StartsWith("escrow:", StringComparison.Ordinal) && a.Value == (0, 0, 0)))
                .Select(a => KeyValuePair.Create(a.Key, (a.Value.Posted, a.Value.PendingIn, a.Value.PendingOut))).OrderBy(a => a.Key, StringComparer.Ordinal);
        Assert.Equal(Holding(refunded), Holding(restarted));
        Assert.DoesNotContain($"escrow:{settled}", restarted.Keys); // archived again at activation
        using var again = await SiloClients.ConnectAsync(silo);
        ledger = Ledger(again, sellerId);
        Assert.Equal(LedgerRefundResult.AlreadyApplied, await ledger.Refund(new LedgerRefund(settled, "late-1", Usd(2_000))));
        Assert.Equal(LedgerRefundResult.Applied, await ledger.Refund(new LedgerRefund(settled, "late-2", Usd(7_000))));
        Assert.Equal(LedgerRefundResult.ExceedsPaid, await ledger.Refund(new LedgerRefund(settled, "late-4", Usd(1_001))));
        var final = Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!);
        Assert.Equal(920, final["seller:available:USD"].Posted);                // 9,200 - 1,840 - 6,440
        Assert.Equal(80, final["platform:commission:USD"].Posted);
        Assert.Equal(9_000, final["psp:refunds:USD"].Posted);

        // Late refunds of an archived order racing writes that archive (every write runs a pass here): an order being worked
        // on is never archived between being taken back and its operation, so every refund books.
        await ledger.FundDeposit("d-0", Usd(1_000));                                   // a write without it: archived again
        Assert.DoesNotContain($"escrow:{settled}", Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!).Keys);
        var refunds = Enumerable.Range(1, 40).Select(i => ledger.Refund(new LedgerRefund(settled, $"race-{i}", Usd(10)))).ToArray();
        var deposits = Enumerable.Range(1, 40).Select(i => ledger.FundDeposit($"d-{i}", Usd(100))).ToArray();
        await Task.WhenAll(deposits);
        Assert.All(await Task.WhenAll(refunds), r => Assert.Equal(LedgerRefundResult.Applied, r));
        var raced = Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!);
        Assert.Equal(9_400, raced["psp:refunds:USD"].Posted);
        Assert.Equal(920 + 1_000 + 4_000 - 400, raced["seller:available:USD"].Posted + raced["seller:deposit:USD"].Posted);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task A_quiet_sellers_archiving_pass_stores_its_snapshot_through_the_same_entry_as_the_last(string provider)
    {
        var storage = await Storage(provider);
        await using var silo = await StartAsync(storage, "quiet", ("Clock__AllowTestControl", "true"));
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        using var client = await SiloClients.ConnectAsync(silo);
        var ledger = Ledger(client, sellerId);
        var older = Ulid.NewUlid(DateTimeOffset.UtcNow.AddDays(-60)).ToString();
        var younger = Ulid.NewUlid(DateTimeOffset.UtcNow.AddDays(-20)).ToString();
        await ledger.HoldInEscrow(older, Usd(5_000));
        await ledger.HoldInEscrow(younger, Usd(3_000));
        await ledger.VoidEscrow(older);
        await ledger.VoidEscrow(younger);   // this write's pass archives the older order, and the write stores a snapshot
        var (first, through) = await SnapshotWhen(storage, sellerId, image => !Mentions(image, older));
        Assert.True(Mentions(first, younger), "the younger order is not 30 days old yet");
        Assert.Equal(await LastEntryNo(storage, sellerId), through);

        // Fifteen days later the seller has sold nothing more: the pass at the ledger's next activation archives the younger
        // order, and its snapshot covers the same transfers as the one stored. It must replace it, or the stored snapshot would
        // keep the order, and every activation would restore it and archive it again.
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = TimeSpan.FromDays(15).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await silo.StartAsync();
        Assert.DoesNotContain($"escrow:{younger}", Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!).Keys);
        var (second, throughAgain) = await SnapshotWhen(storage, sellerId, image => !Mentions(image, younger));
        Assert.Equal(through, throughAgain);
        Assert.False(Mentions(second, older));
        Assert.NotNull(second.ArchivedBefore);
        Assert.True(second.ArchivedBefore > first.ArchivedBefore, $"{second.ArchivedBefore} after {first.ArchivedBefore}");
    }

    [Fact]
    public async Task An_archiving_snapshot_that_could_not_be_stored_is_stored_with_the_next_write()
    {
        var storage = await Storage("postgres");
        await using var silo = await StartAsync(storage, "refused");
        var sellerId = OrderTestShop.NewId("s");
        using var client = await SiloClients.ConnectAsync(silo);
        var ledger = Ledger(client, sellerId);
        var older = Ulid.NewUlid(DateTimeOffset.UtcNow.AddDays(-60)).ToString();
        await ledger.HoldInEscrow(older, Usd(5_000));
        await ledger.VoidEscrow(older);
        await storage.ExecuteAsync("""
            CREATE FUNCTION refuse_snapshots() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER refuse_snapshots BEFORE INSERT OR UPDATE ON ledger_snapshots FOR EACH ROW EXECUTE FUNCTION refuse_snapshots();
            """);
        // This write's pass archives the voided order; the snapshot without it cannot be stored.
        await ledger.FundDeposit("d-1", Usd(100));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!silo.RecentLog.Contains($"The ledger snapshot of seller {sellerId} through entry", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the refused snapshot was not reported:\n{silo.RecentLog}");
            await Task.Delay(100);
        }
        Assert.Null(await storage.ScalarAsync("SELECT body FROM ledger_snapshots WHERE ledger_id = @ledger", "ledger", sellerId));

        // The store takes snapshots again: the next write stores one, although too few transfers came for one to be due.
        await storage.ExecuteAsync("DROP TRIGGER refuse_snapshots ON ledger_snapshots");
        await ledger.FundDeposit("d-2", Usd(100));
        var (image, through) = await SnapshotWhen(storage, sellerId, image => !Mentions(image, older));
        Assert.Equal(await LastEntryNo(storage, sellerId), through);
        Assert.NotNull(image.ArchivedBefore);
    }

    private static bool Mentions(SellerBooksImage image, string orderId) =>
        image.Orders.Any(o => o.OrderId == orderId) || image.Ledger.Accounts.Any(a => a.AccountId.Contains(orderId, StringComparison.Ordinal));

    /// <summary>The stored snapshot once it satisfies <paramref name="condition"/> (snapshots are stored off the write path).</summary>
    private static async Task<(SellerBooksImage Image, long Through)> SnapshotWhen(SiloStorage storage, string sellerId, Func<SellerBooksImage, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (await storage.ScalarAsync("SELECT body FROM ledger_snapshots WHERE ledger_id = @ledger", "ledger", sellerId) is byte[]
                && await StoredSnapshot(storage, sellerId) is var stored && condition(stored.Image))
            {
                return stored;
            }
            Assert.True(DateTime.UtcNow < deadline, "the stored snapshot never became what was expected");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task With_archiving_switched_off_for_a_rolling_update_settled_orders_stay_in_the_books()
    {
        var storage = await Storage("sqlite");
        await using var silo = await StartAsync(storage, "noarchive", ("Settlement__LedgerArchiveEnabled", "false"));
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        using var client = await SiloClients.ConnectAsync(silo);
        var ledger = Ledger(client, sellerId);
        var voided = Ulid.NewUlid(DateTimeOffset.UtcNow.AddDays(-60)).ToString();
        await ledger.HoldInEscrow(voided, Usd(5_000));
        await ledger.VoidEscrow(voided);
        await ledger.FundDeposit("d-1", Usd(100));                                    // a write: a pass would run here

        silo.Kill();
        await silo.StartAsync();                                                       // and at activation

        Assert.Equal((0, 0, 0), Accounts((await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!)[$"escrow:{voided}"]);
        Assert.Null(await storage.ScalarAsync("SELECT body FROM ledger_snapshots WHERE ledger_id = @ledger", "ledger", sellerId));
    }

    private static async Task<(SellerBooksImage Image, long Through)> StoredSnapshot(SiloStorage storage, string sellerId)
    {
        var body = await storage.ScalarAsync("SELECT body FROM ledger_snapshots WHERE ledger_id = @ledger", "ledger", sellerId);
        Assert.True(body is byte[], "no snapshot was stored");
        var through = await storage.ScalarAsync("SELECT through_entry_no FROM ledger_snapshots WHERE ledger_id = @ledger", "ledger", sellerId);
        return (SellerBooksBinary.Read((byte[])body!), Convert.ToInt64(through));
    }

    private static async Task<long> LastEntryNo(SiloStorage storage, string sellerId) =>
        Convert.ToInt64(await storage.ScalarAsync("SELECT MAX(entry_no) FROM ledger_transfers WHERE ledger_id = @ledger", "ledger", sellerId));
}
