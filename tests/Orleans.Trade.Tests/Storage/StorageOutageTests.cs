using System.Net;
using Npgsql;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Storage;

/// <summary>When grain state cannot be written, a checkout answers 503 with ProblemDetails (retry), never 500, and keeps nothing.</summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task A_checkout_whose_state_cannot_be_stored_is_a_503_to_retry_and_the_retry_succeeds_once_storage_is_back()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("outage");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "outage-" + Guid.NewGuid().ToString("N")[..8]);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);

        await Sql(connectionString, "ALTER TABLE grain_state RENAME TO grain_state_away");
        var key = OrderTestShop.NewId("key");
        var (status, body) = await OrderTestShop.CheckoutAsync(buyer, buyerId, key, [new { skuId = sku, quantity = 2 }]);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{status} {body}");
        Assert.Equal("Temporarily unavailable", body!["title"]!.GetValue<string>());
        // Nothing is sold: the order could not be stored. Its units are held by its tentative reservation (whether its write
        // landed cannot be told while storage is away), until the retry places the same order or the hold runs out.
        var held = await shop.ReservedAsync(sku);
        Assert.True(held is 0 or 2, $"{held} units held");
        Assert.Equal(5 - held, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());

        await Sql(connectionString, "ALTER TABLE grain_state_away RENAME TO grain_state");
        var retried = await Eventually.ReadAsync(async () => (await OrderTestShop.CheckoutAsync(buyer, buyerId, key, [new { skuId = sku, quantity = 2 }])).Body!,
            b => b["orders"] is not null, "the retried checkout to create its order");
        var orderId = retried["orders"]![0]!["orderId"]!.GetValue<string>();
        Assert.Equal("awaitingPayment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        // The retry placed the order on the units its first attempt held: two units taken, not four.
        Assert.Equal(3, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());
        Assert.Equal(2, await shop.ReservedAsync(sku));
    }

    private static async Task Sql(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
