using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>One silo on PostgreSQL whose rate table makes 1 USD = 0.50 EUR, shared by the tests of a class.</summary>
public sealed class HalfEuroSiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public OrderTestShop Shop { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("fxsettle");
        Silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "fxsettle-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Fx__UsdRates__EUR"] = "0.5" });
        Shop = new OrderTestShop(Silo);
        await Shop.WarehousesAsync();
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>R-SET-2, R-PAY-2 and R-SET-3 over HTTP on PostgreSQL: settlement in the seller's currency, and seller deposits.</summary>
public sealed class SettlementCurrencyApiTests(HalfEuroSiloFixture fixture) : IClassFixture<HalfEuroSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static long Posted(JsonNode ledger, string account) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?["posted"]!.GetValue<long>() ?? 0;

    private static void AssertEveryCurrencySumsToZero(JsonNode ledger) =>
        Assert.All(ledger["accounts"]!.AsArray().GroupBy(a => a!["currency"]!.GetValue<string>()),
            g => Assert.Equal(0, g.Sum(a => a!["posted"]!.GetValue<long>() + a["pendingIn"]!.GetValue<long>() - a["pendingOut"]!.GetValue<long>())));

    [Fact]
    public async Task A_seller_settling_in_euros_gets_the_net_of_a_dollar_order_converted_at_release()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var settlement = $"/api/v1/sellers/{sellerId}/settlement";
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.PutJsonAsync(settlement, new { })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.PutJsonAsync(settlement, new { currency = "XYZ" })).Status);
        var (noRate, problem) = await seller.PutJsonAsync(settlement, new { currency = "ARS" }); // ISO 4217, but no rate for it
        Assert.Equal(HttpStatusCode.BadRequest, noRate);
        Assert.Contains("exchange rate", problem!["errors"]!["currency"]![0]!.GetValue<string>());
        var (set, body) = await seller.PutJsonAsync(settlement, new { currency = "EUR" });
        Assert.Equal(HttpStatusCode.OK, set);
        Assert.Equal("EUR", body!["currency"]!.GetValue<string>());
        Assert.Equal(7, body["cycleDays"]!.GetValue<int>());                 // the cycle was left as it was
        var (cycleOnly, kept) = await seller.PutJsonAsync(settlement, new { cycleDays = 3 });
        Assert.Equal(HttpStatusCode.OK, cycleOnly);
        Assert.Equal("EUR", kept!["currency"]!.GetValue<string>());

        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_500, stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 2 }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "FX1" });
        await Shop.ActAsync(buyer, orderId, "confirm-receipt");

        var ledger = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(400, Posted(ledger, "platform:commission:USD"));          // fees and tax stay in the order currency
        Assert.Equal(950, Posted(ledger, "tax:payable:DE:USD"));
        Assert.Equal(4_600, Posted(ledger, "fx:conversion:USD"));              // the seller's 46.00 USD ...
        Assert.Equal(-2_300, Posted(ledger, "fx:conversion:EUR"));
        Assert.Equal(2_300, Posted(ledger, "seller:pending:EUR"));             // ... arrive as 23.00 EUR
        Assert.Equal(0, Posted(ledger, "seller:pending:USD"));
        AssertEveryCurrencySumsToZero(ledger);
    }

    [Fact]
    public async Task Deposits_are_admin_only_idempotent_by_id_and_credit_the_sellers_deposit()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var deposits = $"/api/v1/sellers/{sellerId}/deposits";
        var deposit = new { depositId = "dep-1", amount = new { amountMinor = 50_000, currency = "EUR" } };

        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync(deposits, deposit)).Status);
        var (invalid, problem) = await Shop.Admin.PostJsonAsync(deposits, new { depositId = "dep-x", amount = new { amountMinor = 0, currency = "eur" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Assert.NotNull(problem!["errors"]!["amount.amountMinor"]);
        Assert.NotNull(problem["errors"]!["amount.currency"]);
        var (first, body) = await Shop.Admin.PostJsonAsync(deposits, deposit);
        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(50_000, body!["amount"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.Created, (await Shop.Admin.PostJsonAsync(deposits, deposit)).Status);      // a retry: same answer
        Assert.Equal(HttpStatusCode.Conflict,
            (await Shop.Admin.PostJsonAsync(deposits, new { depositId = "dep-1", amount = new { amountMinor = 1, currency = "EUR" } })).Status);

        var ledger = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(50_000, Posted(ledger, "seller:deposit:EUR"));
        Assert.Equal(-50_000, Posted(ledger, "psp:deposits:EUR"));
        AssertEveryCurrencySumsToZero(ledger);

        var openApi = JsonNode.Parse(await Shop.Admin.GetStringAsync("/openapi/v1.json"))!;
        Assert.NotNull(openApi["paths"]!["/api/v1/sellers/{sellerId}/deposits"]!["post"]);
        Assert.NotNull(openApi["components"]!["schemas"]!["SettlementRequest"]!["properties"]!["currency"]);
    }

    [Fact]
    public async Task A_statement_of_a_period_that_has_ended_holds_a_line_still_being_stored_when_it_was_asked_for()
    {
        // A line stamped before `to` but stored after the read was in no statement: not this one, and the next starts after it.
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        await fixture.Silo.Storage.ExecuteAsync($"""
            CREATE FUNCTION slow_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1.5); RETURN NEW; END $$;
            CREATE TRIGGER slow_ledger BEFORE INSERT ON ledger_transfers FOR EACH ROW
                WHEN (NEW.ledger_id = '{sellerId}') EXECUTE FUNCTION slow_ledger();
            """);
        string statement;
        try
        {
            var deposit = Shop.Admin.PostJsonAsync($"/api/v1/sellers/{sellerId}/deposits", new { depositId = "dep-late", amount = new { amountMinor = 700, currency = "EUR" } });
            await Task.Delay(500);
            var to = DateTimeOffset.UtcNow;
            statement = await seller.GetStringAsync($"/api/v1/sellers/{sellerId}/statement.csv?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}");
            Assert.Equal(HttpStatusCode.Created, (await deposit).Status);
        }
        finally
        {
            await fixture.Silo.Storage.ExecuteAsync("DROP TRIGGER slow_ledger ON ledger_transfers; DROP FUNCTION slow_ledger();");
        }

        Assert.Contains("dep-late", statement);
    }
}
