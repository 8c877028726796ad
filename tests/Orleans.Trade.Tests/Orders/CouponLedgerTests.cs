using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// A seller's coupon redemptions are rows of the coupon ledger (R-SET-3): the grain's state keeps the terms only and does not grow
/// with the redemptions, the limits hold across a crash, and redemptions the first release kept in the grain's state move to the
/// ledger and still count. On a silo process over real PostgreSQL.
/// </summary>
public sealed class CouponLedgerTests
{
    private static async Task<(SiloProcess Silo, OrderTestShop Shop)> StartAsync(string connectionString, string clusterId)
    {
        var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), clusterId,
            new Dictionary<string, string> { ["Notifications__WebhookUrl"] = "" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        return (silo, shop);
    }

    private static Task<(HttpStatusCode Status, JsonNode? Body)> CheckoutAsync(OrderTestShop shop, string buyerId, string sku, string coupon) =>
        shop.Admin.PostWithKeyAsync("/api/v1/checkout", OrderTestShop.NewId("key"), new
        {
            buyerId, currency = "USD", shipTo = OrderTestShop.Address(), items = new object[] { new { skuId = sku, quantity = 1 } }, couponCode = coupon,
        });

    private static async Task<int> RedeemedAsync(OrderTestShop shop, string sellerId, string code) =>
        (await shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/coupons/{code}")).Body!["redeemed"]!.GetValue<int>();

    private static async Task<object?> ScalarAsync(string connectionString, string sql, string parameter)
    {
        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        command.Parameters.AddWithValue("p", parameter);
        return await command.ExecuteScalarAsync();
    }

    private static Task<object?> CouponStateSizeAsync(string connectionString, string sellerId) =>
        ScalarAsync(connectionString, "SELECT length(payload) FROM grain_state WHERE state_name = 'coupon' AND grain_id = 'sellercoupons/' || @p", sellerId);

    private static Task<object?> RowsAsync(string connectionString, string sellerId) =>
        ScalarAsync(connectionString, "SELECT count(*) FROM coupon_redemptions WHERE seller_id = @p", sellerId);

    [Fact]
    public async Task Redemptions_are_ledger_rows_the_grain_state_does_not_grow_and_the_limits_hold_after_a_crash()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("couponrows");
        var (silo, shop) = await StartAsync(connectionString, $"couponrows-{Guid.NewGuid().ToString("N")[..8]}");
        await using var _ = silo;
        var sellerId = OrderTestShop.NewId("s");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 20)]);
        var (created, _) = await shop.Admin.PutJsonAsync($"/api/v1/sellers/{sellerId}/coupons/FLASH",
            new { currency = "USD", percentOff = 10, maxRedemptions = 5, maxPerBuyer = 1 });
        Assert.Equal(HttpStatusCode.Created, created);
        var stateSize = await CouponStateSizeAsync(connectionString, sellerId);
        Assert.NotNull(stateSize);

        var answers = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => CheckoutAsync(shop, $"buyer-{i}", sku, "FLASH")));

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Created, $"{a.Status} {a.Body}"));
        Assert.Equal(4L, await RowsAsync(connectionString, sellerId));
        Assert.Equal(stateSize, await CouponStateSizeAsync(connectionString, sellerId));

        // Killed with no chance to flush anything: what was answered is in the ledger, and counts.
        silo.Kill();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);
        Assert.Equal(4, await RedeemedAsync(shop, sellerId, "FLASH"));
        var (again, perBuyer) = await CheckoutAsync(shop, "buyer-1", sku, "FLASH");
        var (fifth, _) = await CheckoutAsync(shop, "buyer-5", sku, "FLASH");
        var (sixth, usedUp) = await CheckoutAsync(shop, "buyer-6", sku, "FLASH");
        Assert.True(again == HttpStatusCode.UnprocessableEntity, $"{again} {perBuyer}");
        Assert.Equal(HttpStatusCode.Created, fifth);
        Assert.True(sixth == HttpStatusCode.UnprocessableEntity, $"{sixth} {usedUp}");

        // A cancelled order's redemption leaves the ledger, and another buyer takes its place.
        await shop.ActAsync(shop.Admin, answers[0].Body!["orders"]![0]!["orderId"]!.GetValue<string>(), "cancel", new { reason = "changed my mind" });
        await Eventually.UntilAsync(() => RedeemedAsync(shop, sellerId, "FLASH"), n => n == 4, "the cancelled order's redemption to be given back");
        Assert.Equal(4L, await RowsAsync(connectionString, sellerId));
        var (afterCancel, _) = await CheckoutAsync(shop, "buyer-6", sku, "FLASH");
        Assert.Equal(HttpStatusCode.Created, afterCancel);
        Assert.Equal(5L, await RowsAsync(connectionString, sellerId));
        Assert.Equal(stateSize, await CouponStateSizeAsync(connectionString, sellerId));
    }

    [Fact]
    public async Task Redemptions_the_first_release_kept_in_the_grain_state_move_to_the_ledger_and_still_count()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("couponmove");
        var clusterId = $"couponmove-{Guid.NewGuid().ToString("N")[..8]}";
        var sellerId = OrderTestShop.NewId("s");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres", ["ConnectionStrings:Trade"] = connectionString,
        }).Build();
        var now = DateTimeOffset.UtcNow;
        await using (var database = TradeDatabase.FromConfiguration(configuration))
        {
            // What a silo of the first release stored: the terms and, in the same state, the two orders that redeemed the coupon.
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
            var storage = new BatchedGrainStorage(database, StorageTestDatabase.Serializer,
                Options.Create(new ClusterOptions { ServiceId = clusterId, ClusterId = clusterId }), configuration, [new SqlOrderStore(database)], new NewGrainIds());
            var terms = new CouponTerms("SAVE-5", "USD", 10, null, null, 0, null, null, MaxRedemptions: 3, MaxPerBuyer: 1, Enabled: true);
            var legacy = new SellerCouponsState();
            legacy.Coupons["SAVE-5"] = new CouponView(sellerId, terms, 2, 1, now, now);
            legacy.Redemptions["legacy-order-1"] = new CouponRedemptionRecord("SAVE-5", "buyer-a", now, null, 100);
            legacy.Redemptions["legacy-order-2"] = new CouponRedemptionRecord("SAVE-5", "buyer-b", now, null, 100);
            await storage.WriteStateAsync("coupon", GrainId.Create("sellercoupons", sellerId), new HeldState<SellerCouponsState>(legacy));
        }
        var legacySize = (int)(await CouponStateSizeAsync(connectionString, sellerId))!;
        var (silo, shop) = await StartAsync(connectionString, clusterId);
        await using var _ = silo;
        var sku = await shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-de", 10)]);

        Assert.Equal(2, await RedeemedAsync(shop, sellerId, "SAVE-5"));
        var (legacyBuyer, perBuyer) = await CheckoutAsync(shop, "buyer-a", sku, "SAVE-5");
        var (third, _) = await CheckoutAsync(shop, "buyer-c", sku, "SAVE-5");
        var (fourth, usedUp) = await CheckoutAsync(shop, "buyer-d", sku, "SAVE-5");

        Assert.True(legacyBuyer == HttpStatusCode.UnprocessableEntity, $"{legacyBuyer} {perBuyer}");
        Assert.Equal(HttpStatusCode.Created, third);
        Assert.True(fourth == HttpStatusCode.UnprocessableEntity, $"{fourth} {usedUp}");
        Assert.Equal(3L, await RowsAsync(connectionString, sellerId));
        Assert.Equal("buyer-a", await ScalarAsync(connectionString, "SELECT buyer_id FROM coupon_redemptions WHERE order_id = @p", "legacy-order-1"));

        // The state no longer holds them (it shrank to the terms): a restart loads them from the ledger alone, once.
        Assert.True((int)(await CouponStateSizeAsync(connectionString, sellerId))! < legacySize, "the grain state still holds the redemptions");
        silo.Kill();
        await silo.StartAsync();
        Assert.Equal(3, await RedeemedAsync(new OrderTestShop(silo), sellerId, "SAVE-5"));
    }
}
