using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Storage;

/// <summary>The coupon ledger's rows on real PostgreSQL and on SQLite: writes carry only what changed, checked by version.</summary>
public sealed class SqlCouponLedgerStoreTests
{
    public static TheoryData<string> Providers => StorageTestDatabase.Providers;

    private static readonly DateTimeOffset At = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static KeyValuePair<string, CouponRedemptionRecord> Row(string orderId, string buyerId, long discount, DateTimeOffset? holdUntil = null,
        string? checkoutKey = null) =>
        KeyValuePair.Create(orderId, new CouponRedemptionRecord("SAVE-10", buyerId, At, holdUntil, discount, checkoutKey));

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Writes_add_change_and_remove_rows_and_each_moves_the_version_on(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "couponledger");
        await using var _ = database;
        var store = new SqlCouponLedgerStore(database);
        Assert.Equal(0, (await store.LoadAsync("s1", CancellationToken.None)).Version);

        var v1 = await store.WriteAsync(new CouponLedgerWrite("s1", 0, [Row("o1", "b1", 100, At.AddMinutes(5)), Row("o2", "b2", 200)], []), CancellationToken.None);
        var v2 = await store.WriteAsync(new CouponLedgerWrite("s1", v1, [Row("o1", "b1", 100), Row("o3", "b3", 300, At.AddMinutes(5), "b3:key-1")], ["o2"]),
            CancellationToken.None);
        await store.WriteAsync(new CouponLedgerWrite("s2", 0, [Row("o9", "b1", 900)], []), CancellationToken.None);

        var loaded = await store.LoadAsync("s1", CancellationToken.None);
        Assert.Equal((1L, 2L), (v1, v2));
        Assert.Equal(2, loaded.Version);
        Assert.Equal(["o1", "o3"], loaded.Redemptions.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new CouponRedemptionRecord("SAVE-10", "b1", At, null, 100), loaded.Redemptions["o1"]);
        Assert.Equal(new CouponRedemptionRecord("SAVE-10", "b3", At, At.AddMinutes(5), 300, "b3:key-1"), loaded.Redemptions["o3"]); // its checkout kept
        Assert.Single((await store.LoadAsync("s2", CancellationToken.None)).Redemptions);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_write_naming_a_version_another_writer_moved_on_is_refused_and_stores_nothing(string provider)
    {
        var (database, _) = await StorageTestDatabase.OpenAsync(provider, "couponledgerrace");
        await using var _ = database;
        var store = new SqlCouponLedgerStore(database);
        await store.WriteAsync(new CouponLedgerWrite("s1", 0, [Row("o1", "b1", 100)], []), CancellationToken.None);

        // A second activation that loaded before the first write (version 0), and one that loaded at 1 after another write.
        await Assert.ThrowsAsync<CouponLedgerConflictException>(() =>
            store.WriteAsync(new CouponLedgerWrite("s1", 0, [Row("o2", "b2", 200)], ["o1"]), CancellationToken.None));
        await store.WriteAsync(new CouponLedgerWrite("s1", 1, [Row("o3", "b3", 300)], []), CancellationToken.None);
        await Assert.ThrowsAsync<CouponLedgerConflictException>(() =>
            store.WriteAsync(new CouponLedgerWrite("s1", 1, [Row("o4", "b4", 400)], ["o3"]), CancellationToken.None));

        var loaded = await store.LoadAsync("s1", CancellationToken.None);
        Assert.Equal(2, loaded.Version);
        Assert.Equal(["o1", "o3"], loaded.Redemptions.Keys.Order(StringComparer.Ordinal));
    }
}
