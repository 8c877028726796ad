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
        Assert.Equal(5, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());

        await Sql(connectionString, "ALTER TABLE grain_state_away RENAME TO grain_state");
        var retried = await Eventually.ReadAsync(async () => (await OrderTestShop.CheckoutAsync(buyer, buyerId, key, [new { skuId = sku, quantity = 2 }])).Body!,
            b => b["orders"] is not null, "the retried checkout to create its order");
        var orderId = retried["orders"]![0]!["orderId"]!.GetValue<string>();
        Assert.Equal("awaitingPayment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        Assert.Equal(3, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>());
    }

    private static async Task Sql(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
