using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>Seller ledger snapshots on PostgreSQL: after a kill, the books come back from the snapshot plus later transfers.</summary>
public sealed class LedgerSnapshotApiTests
{
    private static long Account(JsonNode ledger, string account, string field) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?[field]!.GetValue<long>() ?? 0;

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // JSON, as silos of the previous release read them during a rolling update
    public async Task A_seller_ledger_restarts_from_its_snapshot_and_still_knows_every_transfer_id(bool binary)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("snapshot");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "snapshot-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Settlement__LedgerSnapshotEveryTransfers"] = "3",
                ["Settlement__LedgerBinarySnapshots"] = binary ? "true" : "false",
            });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sellerId = OrderTestShop.NewId("s");
        var seller = await shop.KeyAsync("seller", sellerId);
        var buyer = await shop.KeyAsync("buyer", "snap-buyer");
        var sku = await shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-us", 5)]);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, "snap-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }],
            currency: "USD", shipTo: OrderTestShop.Address("US", "10001"));
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        // Every third transfer makes a snapshot (the books are small), stored off the write path, one at a time; the transfers
        // after the last stored snapshot are replayed on activation. Deposits go on until a snapshot that covers the first
        // deposit is stored and at least one transfer comes after it.
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        async Task<(long Through, long Replayed, long FirstDeposit)> Stored()
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT COALESCE((SELECT through_entry_no FROM ledger_snapshots WHERE ledger_id = @l), 0), " +
                "(SELECT count(*) FROM ledger_transfers t WHERE t.ledger_id = @l AND t.entry_no > COALESCE((SELECT through_entry_no FROM ledger_snapshots WHERE ledger_id = @l), 0)), " +
                "COALESCE((SELECT min(entry_no) FROM ledger_transfers WHERE ledger_id = @l AND transfer_id = 'deposit:d1'), 0)", connection);
            command.Parameters.AddWithValue("l", sellerId);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }
        var deposited = 0L;
        var (through, replayed, firstDeposit) = (0L, 0L, 0L);
        for (var i = 1; i <= 30; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits",
                new { depositId = $"d{i}", amount = new { amountMinor = 100 * i, currency = "USD" } })).Status);
            deposited += 100 * i;
            await Task.Delay(50);
            (through, replayed, firstDeposit) = await Stored();
            if (i >= 7 && firstDeposit > 0 && through >= firstDeposit && replayed >= 1)
            {
                break;
            }
        }
        Assert.True(firstDeposit > 0 && through >= firstDeposit, $"no snapshot covers the first deposit (through {through}, first deposit {firstDeposit})");
        Assert.InRange(replayed, 1, 30);
        var before = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        await using (var body = new Npgsql.NpgsqlCommand("SELECT body FROM ledger_snapshots WHERE ledger_id = @l", connection))
        {
            body.Parameters.AddWithValue("l", sellerId);
            var stored = (byte[])(await body.ExecuteScalarAsync())!;
            Assert.Equal(binary, Orleans.Trade.Wallets.SellerBooksBinary.IsBinary(stored));
            Assert.Equal(!binary, stored[0] == (byte)'{');
        }

        silo.Kill();
        await silo.StartAsync();

        var after = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(before.ToJsonString(), after.ToJsonString());
        Assert.Equal(deposited, Account(after, "seller:deposit:USD", "posted"));
        Assert.Equal(HttpStatusCode.Created, (await shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits",
            new { depositId = "d1", amount = new { amountMinor = 100, currency = "USD" } })).Status);   // a repeat from before the snapshot
        Assert.Equal(HttpStatusCode.Conflict, (await shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits",
            new { depositId = "d1", amount = new { amountMinor = 999, currency = "USD" } })).Status);   // its id is still taken
        await shop.ActAsync(buyer, orderId, "cancel", new { reason = "changed my mind" });                  // the hold came back from the snapshot
        var cancelled = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(0, Account(cancelled, $"escrow:{orderId}", "pendingIn"));
        Assert.Equal(deposited, Account(cancelled, "seller:deposit:USD", "posted"));
    }
}
