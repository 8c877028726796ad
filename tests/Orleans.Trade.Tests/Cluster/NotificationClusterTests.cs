using System.Net;
using Npgsql;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>
/// R-ORD-5 with silos that disagree on the webhook, as during a rolling change of the setting: a silo without one leaves the
/// notifications that silos with one stored as due to them; each is POSTed, and none is recorded as skipped. (It polled the
/// shared outbox and recorded them as skipped, so nobody sent them.)
/// </summary>
public sealed class NotificationClusterTests
{
    [Fact]
    public async Task A_silo_without_a_webhook_leaves_the_notifications_of_silos_with_one_to_them()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("notify");
        var clusterId = "notify-" + Guid.NewGuid().ToString("N")[..8];
        // The silent silo shares the database but not the cluster, so every order's rows are stored by the silo with the
        // webhook; in one cluster a grain placed on the silent silo stores its own notifications recorded as skipped.
        var storage = SiloStorage.Postgres(connectionString);
        await using var receiver = new WebhookReceiver(failFirstAttempt: false);
        // The silo with the webhook polls once a second; the one without every 50 ms, so it would reach most rows first.
        await using var sending = await SiloProcess.StartAsync(storage, clusterId, new Dictionary<string, string>
        {
            ["Notifications__WebhookUrl"] = receiver.Url.ToString(),
            ["Notifications__PollInterval"] = "00:00:01",
        });
        await using var silent = await SiloProcess.StartAsync(storage, clusterId + "-silent", new Dictionary<string, string>
        {
            ["Notifications__WebhookUrl"] = "",
            ["Notifications__PollInterval"] = "00:00:00.050",
        });
        var shop = new OrderTestShop(sending);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", 100)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);

        var orders = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var (status, body) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("k"), [new { skuId = sku, quantity = 1 }]);
            Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
            orders.Add(body!["orders"]![0]!["orderId"]!.GetValue<string>());
            await Task.Delay(100);
        }

        var rows = await Eventually.UntilAsync(() => NotificationsAsync(connectionString, orders),
            r => r.Count >= orders.Count && r.All(n => n.Delivered), "every notification to be recorded as delivered", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(rows, n => n.Note is not null);
        var posted = receiver.Delivered.Select(b => b["notificationId"]!.GetValue<string>()).ToHashSet();
        Assert.All(rows, n => Assert.Contains(n.Id, posted));
        Assert.Equal(orders.Order(), rows.Where(n => n.Event == "Placed").Select(n => n.OrderId).Order());
    }

    private sealed record Row(string Id, string OrderId, string Event, bool Delivered, string? Note);

    private static async Task<List<Row>> NotificationsAsync(string connectionString, IReadOnlyList<string> orders)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT notification_id, order_id, event, delivered_at IS NOT NULL, last_error FROM order_notifications WHERE order_id = ANY(@orders)", connection);
        command.Parameters.AddWithValue("orders", orders.ToArray());
        var rows = new List<Row>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return rows;
    }
}
