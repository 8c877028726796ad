using System.Net;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Payments;

/// <summary>R-PAY-2 over HTTP on PostgreSQL: rates from a file at start-up, then from the API; each order keeps the rate it used.</summary>
public sealed class FxRatesApiTests
{
    [Fact]
    public async Task Orders_price_with_the_loaded_rates_and_keep_the_rate_they_used()
    {
        var file = Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N") + ".csv");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "currency,unitsPerUsd\nEUR,0.5\nJPY,150\n");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-10));
        var connectionString = await PostgresServer.CreateDatabaseAsync("fx");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "fx-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Fx__RatesFile"] = file, ["Fx__RefreshSeconds"] = "0.5" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 100)]);
        var buyer = await shop.KeyAsync("buyer", "fx-buyer");

        var loaded = await Eventually(shop, body => body?["source"]?.GetValue<string>().StartsWith("file:") == true);
        Assert.Equal(0.5m, loaded!["unitsPerUsd"]!["EUR"]!.GetValue<decimal>());
        await Task.Delay(1_000); // one refresh period: the silo's cache has the table
        var (_, first) = await OrderTestShop.CheckoutAsync(buyer, "fx-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        var firstOrder = first!["orders"]![0]!;
        Assert.Equal(595, firstOrder["totals"]!["buyer"]!["amountMinor"]!.GetValue<long>()); // (10.00 + 19% IOSS VAT) x 0.5

        var (put, _) = await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.8m), ("JPY", 151.5m)) });
        Assert.Equal(HttpStatusCode.OK, put);
        await Task.Delay(1_500);
        var (_, second) = await OrderTestShop.CheckoutAsync(buyer, "fx-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.Equal(952, second!["orders"]![0]!["totals"]!["buyer"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0.8m, second["orders"]![0]!["totals"]!["fxRate"]!.GetValue<decimal>());
        var (_, again) = await shop.Admin.GetJsonAsync($"/api/v1/orders/{firstOrder["orderId"]}");
        Assert.Equal(595, again!["totals"]!["buyer"]!["amountMinor"]!.GetValue<long>());
        Assert.Equal(0.5m, again["totals"]!["fxRate"]!.GetValue<decimal>());

        var (stale, _) = await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.1m)), asOf = DateTimeOffset.UtcNow.AddHours(-1) });
        Assert.Equal(HttpStatusCode.Conflict, stale);
        var (bad, problem) = await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", -1m), ("XXX", 2m)) });
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.NotNull(problem!["errors"]!["unitsPerUsd.EUR"]);
        Assert.NotNull(problem["errors"]!["unitsPerUsd.XXX"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.9m)) })).Status);
    }

    [Fact]
    public async Task A_checkout_into_another_currency_at_a_rate_older_than_the_limit_is_refused_until_the_table_is_updated()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("fxage");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "fxage-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Fx__RefreshSeconds"] = "0.5", ["Orders__FxRateMaxAge"] = "01:00:00" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-us", 10)]);
        var buyer = await shop.KeyAsync("buyer", "fxage-buyer");
        var usAddress = OrderTestShop.Address("US", "10001");

        // Until a table is loaded the configured rates apply, and they do not age.
        var (fixedRate, _) = await OrderTestShop.CheckoutAsync(buyer, "fxage-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }], "EUR", usAddress);
        Assert.Equal(HttpStatusCode.Created, fixedRate);

        // The feed stopped two hours ago: the last table it loaded is past the one-hour limit.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PutJsonAsync("/api/v1/fx-rates",
            new { unitsPerUsd = Rates(("EUR", 0.8m)), asOf = DateTimeOffset.UtcNow.AddHours(-2) })).Status);
        await Task.Delay(1_500); // a few refresh periods: the silo's cache has the table
        var (refused, problem) = await OrderTestShop.CheckoutAsync(buyer, "fxage-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }], "EUR", usAddress);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused);
        Assert.Contains("older than the 1 hours", problem!["detail"]!.GetValue<string>());
        Assert.Equal(9, (await shop.StockAsync(sku))["totalAvailable"]!.GetValue<long>()); // the refused checkout kept no unit
        // Operators see the table's age (what they alert on before checkouts are refused).
        Assert.InRange(await SiloInspection.MetricAsync(shop.Admin, "trade_fx_rate_table_age_seconds"), 7_000, 8_000);
        // Paying in the seller's currency needs no rate.
        var (sameCurrency, _) = await OrderTestShop.CheckoutAsync(buyer, "fxage-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }], "USD", usAddress);
        Assert.Equal(HttpStatusCode.Created, sameCurrency);

        // A current table: priced again, at its rate.
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.9m)) })).Status);
        await Task.Delay(1_500);
        var (priced, order) = await OrderTestShop.CheckoutAsync(buyer, "fxage-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }], "EUR", usAddress);
        Assert.Equal(HttpStatusCode.Created, priced);
        Assert.Equal(0.9m, order!["orders"]![0]!["totals"]!["fxRate"]!.GetValue<decimal>());
        Assert.InRange(await SiloInspection.MetricAsync(shop.Admin, "trade_fx_rate_table_age_seconds"), 0, 600);
    }

    [Fact]
    public async Task The_silo_that_takes_a_rate_update_prices_with_it_from_the_next_checkout_on()
    {
        // Other silos take it within Fx:RefreshSeconds; the one that answered the update priced with its old copy until then.
        var connectionString = await PostgresServer.CreateDatabaseAsync("fxnow");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "fxnow-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Fx__RefreshSeconds"] = "3600" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-us", 10)]);
        var buyer = await shop.KeyAsync("buyer", "fxnow-buyer");

        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.5m)) })).Status);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, "fxnow-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }],
            "EUR", OrderTestShop.Address("US", "10001"));

        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        Assert.Equal(0.5m, created!["orders"]![0]!["totals"]!["fxRate"]!.GetValue<decimal>());
        Assert.Equal(500, created["orders"]![0]!["totals"]!["buyer"]!["amountMinor"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_rate_table_with_a_currency_absurdly_dear_against_the_dollar_is_refused_and_prices_nothing()
    {
        // 0.0000000001 EUR per dollar (a feed's unit slip) made a 10 USD item cost 0 EUR, a 10 EUR item 100 billion USD, and every
        // consignment to the EU worth less than EUR 150 (IOSS VAT charged on any amount).
        var connectionString = await PostgresServer.CreateDatabaseAsync("fxtiny");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "fxtiny-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Fx__RefreshSeconds"] = "0.5" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000_00, currency: "USD", stock: [("wh-cn", 10)]);
        var buyer = await shop.KeyAsync("buyer", "fxtiny-buyer");

        var (status, problem) = await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.0000000001m), ("JPY", 150m)) });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(problem!["errors"]!["unitsPerUsd.EUR"]);
        Assert.Equal(HttpStatusCode.NotFound, (await shop.Admin.GetJsonAsync("/api/v1/fx-rates")).Status);
        await Task.Delay(1_500);
        var (placed, created) = await OrderTestShop.CheckoutAsync(buyer, "fxtiny-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {created}");
        var totals = created!["orders"]![0]!["totals"]!;
        Assert.Equal(0.92m, totals["fxRate"]!.GetValue<decimal>()); // the built-in rate, not the refused table's
        Assert.Null(totals["tax"]); // 920 EUR: above the IOSS threshold
    }

    /// <summary>Currency codes are dictionary keys: they travel as written, not camel-cased.</summary>
    [Fact]
    public async Task A_rate_table_whose_write_fails_never_prices_an_order_not_even_on_a_silo_that_read_it_while_it_was_written()
    {
        // The grain answered reads from the state an update had changed while its write was still in flight; the silos' caches,
        // which never go back to an older table, kept one whose write then failed.
        var connectionString = await PostgresServer.CreateDatabaseAsync("fxfail");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "fxfail-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Fx__RefreshSeconds"] = "0.2" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 10)]);
        var buyer = await shop.KeyAsync("buyer", "fxfail-buyer");
        Assert.Equal(HttpStatusCode.OK, (await shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.5m)) })).Status);
        var refusing = await silo.Storage.RefuseStateWritesAsync("fx-rates");

        var update = shop.Admin.PutJsonAsync("/api/v1/fx-rates", new { unitsPerUsd = Rates(("EUR", 0.8m)) });
        await Task.Delay(700); // several refreshes of the silo's cache while the write waits
        var (_, during) = await shop.Admin.GetJsonAsync("/api/v1/fx-rates");
        var (refused, _) = await update;
        await refusing.DisposeAsync();
        await Task.Delay(1_000);

        Assert.Equal(0.5m, during!["unitsPerUsd"]!["EUR"]!.GetValue<decimal>());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Equal(0.5m, (await shop.Admin.GetJsonAsync("/api/v1/fx-rates")).Body!["unitsPerUsd"]!["EUR"]!.GetValue<decimal>());
        var (placed, order) = await OrderTestShop.CheckoutAsync(buyer, "fxfail-buyer", OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(placed == HttpStatusCode.Created, $"{placed} {order}");
        Assert.Equal(0.5m, order!["orders"]![0]!["totals"]!["fxRate"]!.GetValue<decimal>());
    }

    private static Dictionary<string, decimal> Rates(params (string Currency, decimal UnitsPerUsd)[] rates) =>
        rates.ToDictionary(r => r.Currency, r => r.UnitsPerUsd);

    private static async Task<System.Text.Json.Nodes.JsonNode?> Eventually(OrderTestShop shop, Func<System.Text.Json.Nodes.JsonNode?, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (_, body) = await shop.Admin.GetJsonAsync("/api/v1/fx-rates");
            if (done(body) || DateTime.UtcNow > deadline)
            {
                return body;
            }
            await Task.Delay(200);
        }
    }
}
