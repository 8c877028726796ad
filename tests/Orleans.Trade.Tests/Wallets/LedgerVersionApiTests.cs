using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Orleans.Trade.Silo.Storage;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>
/// A second writer of a seller's ledger, as a second activation during a partition would be: the silo's activation finds its
/// books out of date at its next append, acknowledges nothing of it, and the next activation holds both writers' transfers.
/// </summary>
public sealed class LedgerVersionApiTests
{
    private static long Posted(JsonNode ledger, string account) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?["posted"]!.GetValue<long>() ?? 0;

    [Fact]
    public async Task An_activation_whose_ledger_another_writer_appended_to_refuses_its_next_append_and_the_retry_sees_both()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("ledgerversion");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "ledgerversion-" + Guid.NewGuid().ToString("N")[..8]);
        var shop = new OrderTestShop(silo);
        var sellerId = OrderTestShop.NewId("s");
        Task<(HttpStatusCode Status, JsonNode? Body)> Deposit(string id, long amount) => shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits",
            new { depositId = id, amount = new { amountMinor = amount, currency = "USD" } });
        Assert.Equal(HttpStatusCode.Created, (await Deposit("d1", 100)).Status);
        var first = (await shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(100, Posted(first, "seller:deposit:USD"));

        // The other writer loads the ledger as it stands and appends a deposit of its own, with the same accounts as d1's.
        var settings = new Dictionary<string, string?> { ["Storage:Provider"] = "postgres", ["ConnectionStrings:Trade"] = connectionString };
        await using (var database = TradeDatabase.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()))
        {
            var other = new SqlLedgerStore(database);
            var loaded = await other.LoadAsync(sellerId, CancellationToken.None);
            var d1 = Assert.Single(loaded.Entries, e => e.Transfer.TransferId == "deposit:d1");
            await other.AppendAsync(sellerId, loaded.Version,
                [new LedgerEntry(d1.Transfer with { TransferId = "deposit:elsewhere", Amount = 1_000 }, d1.At)], CancellationToken.None);
        }

        // The silo's activation computed d2 from books without that deposit: it is not acknowledged (retry), and nothing of it is stored.
        var refused = await Deposit("d2", 10);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Null(await SiloStorage.Postgres(connectionString).ScalarAsync(
            "SELECT transfer_id FROM ledger_transfers WHERE ledger_id = @ledger AND transfer_id = 'deposit:d2'", "ledger", sellerId));

        // The retry goes to a new activation, which loaded both writers' transfers.
        Assert.Equal(HttpStatusCode.Created, (await Deposit("d2", 10)).Status);
        var after = (await shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(1_110, Posted(after, "seller:deposit:USD"));
    }
}
