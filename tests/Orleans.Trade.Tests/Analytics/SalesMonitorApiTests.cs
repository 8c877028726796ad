using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// R-DAT-1 over real HTTP against a silo on PostgreSQL: checkouts counted per minute, the anomaly alerts driven by the business
/// clock. Each test has its own silo and database: the clock only goes forward, and the monitor is one per cluster.
/// </summary>
public sealed class SalesMonitorApiTests
{
    private static async Task<(SiloProcess Silo, OrderTestShop Shop)> StartAsync(Dictionary<string, string> analytics)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("sales");
        var settings = new Dictionary<string, string>
        {
            ["Clock__AllowTestControl"] = "true",
            ["Orders__RiskReviewAboveUsdMinor"] = "10000000",
            ["Analytics__FlushSeconds"] = "0.3",
        };
        foreach (var (key, value) in analytics)
        {
            settings[key] = value;
        }
        var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "sales-" + Guid.NewGuid().ToString("N")[..8], settings);
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        return (silo, shop);
    }

    private static async Task<DateTimeOffset> AdvanceAsync(OrderTestShop shop, double seconds)
    {
        var (status, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = seconds });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!["now"]!.GetValue<DateTimeOffset>();
    }

    /// <summary>Moves business time to a second past the next minute, so what follows happens within one minute.</summary>
    private static async Task<DateTimeOffset> StartOfAMinuteAsync(OrderTestShop shop)
    {
        var now = await AdvanceAsync(shop, 0.001);
        var next = now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerMinute)).AddMinutes(1);
        await AdvanceAsync(shop, (next - now).TotalSeconds + 1);
        return next;
    }

    private static async Task PlaceAsync(OrderTestShop shop, HttpClient buyer, string buyerId, string sku, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var (status, body) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
            Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        }
    }

    /// <summary>
    /// A <c>to</c> inside a minute includes that minute, by minute and by hour. Before 8 December it was rounded down first, so the
    /// sales of the minute holding <c>to</c> were in no interval and not in the total (and a window within one minute was a 400).
    /// </summary>
    [Fact]
    public async Task A_to_inside_a_minute_counts_that_minutes_sales()
    {
        var (silo, shop) = await StartAsync(new() { ["Analytics__MinOrders"] = "1000" });
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var analyst = await shop.KeyAsync("analyst", "ana");
        var minute = await StartOfAMinuteAsync(shop);
        await PlaceAsync(shop, buyer, buyerId, sku, 2);
        await AdvanceAsync(shop, 60); // the minute closes

        var from = Uri.EscapeDataString(minute.AddMinutes(-1).ToString("O"));
        var to = Uri.EscapeDataString(minute.AddSeconds(30).ToString("O"));
        var byMinute = await Eventually.ReadAsync(async () => (await analyst.GetJsonAsync($"/api/v1/analytics/sales?from={from}&to={to}&interval=minute")).Body!,
            s => s["total"]?["orders"]?.GetValue<long>() > 0, "the minute holding to in the window");
        Assert.Equal(2, byMinute["total"]!["orders"]!.GetValue<long>());
        Assert.Equal([0L, 2L], byMinute["intervals"]!.AsArray().Select(i => i!["orders"]!.GetValue<long>()));
        Assert.Equal(minute.AddMinutes(1), byMinute["to"]!.GetValue<DateTimeOffset>());

        var within = Uri.EscapeDataString(minute.AddSeconds(10).ToString("O"));
        var (oneMinute, inside) = await analyst.GetJsonAsync($"/api/v1/analytics/sales?from={within}&to={to}&interval=minute");
        Assert.True(oneMinute == HttpStatusCode.OK, $"{oneMinute} {inside}");
        Assert.Equal(2, inside!["total"]!["orders"]!.GetValue<long>());
        var (hourly, byHour) = await analyst.GetJsonAsync($"/api/v1/analytics/sales?from={from}&to={to}&interval=hour");
        Assert.True(hourly == HttpStatusCode.OK, $"{hourly} {byHour}");
        Assert.Equal(2, byHour!["total"]!["orders"]!.GetValue<long>());

        // A day by minute given to the millisecond is still allowed (1,441 minutes touched), a reversed window is not.
        var now = await AdvanceAsync(shop, 0.5);
        var day = $"from={Uri.EscapeDataString(now.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(now.ToString("O"))}&interval=minute";
        var (wholeDay, dayBody) = await analyst.GetJsonAsync($"/api/v1/analytics/sales?{day}");
        Assert.True(wholeDay == HttpStatusCode.OK, $"{wholeDay} {dayBody}");
        var (reversed, _) = await analyst.GetJsonAsync($"/api/v1/analytics/sales?from={to}&to={within}&interval=minute");
        Assert.Equal(HttpStatusCode.BadRequest, reversed);
    }

    [Fact]
    public async Task Checkouts_show_up_per_minute_with_orders_gmv_and_average_order_value_and_a_retried_checkout_counts_once()
    {
        var (silo, shop) = await StartAsync(new() { ["Analytics__MinOrders"] = "1000" });
        await using var _ = silo;
        var skuA = await shop.SkuAsync(OrderTestShop.NewId("sa"), priceMinor: 1999, currency: "USD", stock: [("wh-de", 10)]);
        var skuB = await shop.SkuAsync(OrderTestShop.NewId("sb"), priceMinor: 5000, currency: "CNY", stock: [("wh-cn", 10)]);
        var skuC = await shop.SkuAsync(OrderTestShop.NewId("sc"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var analyst = await shop.KeyAsync("analyst", "ana");

        var minute = await StartOfAMinuteAsync(shop);
        var key = OrderTestShop.NewId("key");
        var (one, oneBody) = await OrderTestShop.CheckoutAsync(buyer, buyerId, key, [new { skuId = skuC, quantity = 2 }]);
        Assert.True(one == HttpStatusCode.Created, $"{one} {oneBody}");
        var (retry, _) = await OrderTestShop.CheckoutAsync(buyer, buyerId, key, [new { skuId = skuC, quantity = 2 }]);
        Assert.Equal(HttpStatusCode.Created, retry);
        var (two, twoBody) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"),
            [new { skuId = skuA, quantity = 1 }, new { skuId = skuB, quantity = 1 }]);
        Assert.True(two == HttpStatusCode.Created, $"{two} {twoBody}");
        await AdvanceAsync(shop, 60); // the minute closes

        var from = Uri.EscapeDataString(minute.AddMinutes(-1).ToString("O"));
        var to = Uri.EscapeDataString(minute.AddMinutes(2).ToString("O"));
        var sales = await Eventually.ReadAsync(async () => (await analyst.GetJsonAsync($"/api/v1/analytics/sales?from={from}&to={to}&interval=minute")).Body!,
            s => s["total"]!["orders"]!.GetValue<long>() > 0, "the closed minute in the monitor");
        var intervals = sales["intervals"]!.AsArray();
        Assert.Equal(3, intervals.Count);
        Assert.Equal(minute, intervals[1]!["start"]!.GetValue<DateTimeOffset>());
        Assert.Equal([0L, 3L, 0L], intervals.Select(i => i!["orders"]!.GetValue<long>()));
        var gmv = intervals[1]!["gmv"]!.AsArray().ToDictionary(g => g!["currency"]!.GetValue<string>(),
            g => (g!["amountMinor"]!.GetValue<long>(), g["orders"]!.GetValue<long>(), g["averageOrderValueMinor"]!.GetValue<long>()));
        Assert.Equal(new Dictionary<string, (long, long, long)> { ["CNY"] = (5000, 1, 5000), ["USD"] = (3999, 2, 1999) }, gmv);
        // 50.00 CNY at the default 7.24 a dollar is 6.91 USD.
        Assert.Equal(3999 + 691, intervals[1]!["gmvUsdMinor"]!.GetValue<long>());
        Assert.Equal((3999 + 691) / 3, intervals[1]!["averageOrderValueUsdMinor"]!.GetValue<long>());

        var (hourly, byHour) = await analyst.GetJsonAsync($"/api/v1/analytics/sales?from={from}&to={to}&interval=hour");
        Assert.Equal(HttpStatusCode.OK, hourly);
        Assert.Equal(3, byHour!["total"]!["orders"]!.GetValue<long>());
        Assert.Equal(3, byHour["intervals"]!.AsArray().Sum(i => i!["orders"]!.GetValue<long>()));

        var metrics = await Eventually.UntilAsync(() => shop.Admin.GetStringAsync("/metrics"),
            t => Regex.IsMatch(t, @"(?m)^trade_orders_placed_total(\{[^}]*\})? 3(\.0)?(\s|$)"), "trade_orders_placed_total 3");
        Assert.Matches(@"(?m)^trade_gmv_minor_total\{[^}]*currency=""CNY""[^}]*\} 5000(\.0)?(\s|$)", metrics);
        Assert.Matches(@"(?m)^trade_gmv_minor_total\{[^}]*currency=""USD""[^}]*\} 3999(\.0)?(\s|$)", metrics);

        // Bad queries are refused, saying what is wrong; the sales are not a buyer's to read.
        foreach (var (query, member) in new[]
        {
            ("interval=week", "interval"),
            ($"from={to}&to={from}", "from"),
            ($"from={Uri.EscapeDataString(minute.AddDays(-1).ToString("O"))}&to={to}&interval=minute", "to"),
            ($"from={Uri.EscapeDataString(minute.AddDays(-5).ToString("O"))}&interval=hour", "from"),
            ("from=yesterday", "from"),
        })
        {
            var (status, problem) = await analyst.GetJsonAsync($"/api/v1/analytics/sales?{query}");
            Assert.True(status == HttpStatusCode.BadRequest, $"{query}: {status} {problem}");
            Assert.NotNull(problem!["errors"]![member]);
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await buyer.GetJsonAsync("/api/v1/analytics/sales")).Status);
    }

    [Fact]
    public async Task A_drop_raises_an_alert_that_ends_when_traffic_recovers_and_a_spike_raises_another()
    {
        var (silo, shop) = await StartAsync(new()
        {
            ["Analytics__WindowMinutes"] = "15",
            ["Analytics__BaselineWindows"] = "4",
            ["Analytics__MinOrders"] = "2",
            ["Analytics__MinGmvUsdMinor"] = "100000000",
        });
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 100)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var analyst = await shop.KeyAsync("analyst", "ana");
        Task<JsonNode> AlertsAsync() => analyst.GetJsonAsync("/api/v1/analytics/alerts").ContinueWith(t => t.Result.Body!["alerts"]!);

        // 8 orders, then 30 minutes of nothing: the last 15 minutes against a baseline of 2 orders per 15 minutes.
        await PlaceAsync(shop, buyer, buyerId, sku, 8);
        await AdvanceAsync(shop, 30 * 60);
        var alerts = await Eventually.ReadAsync(AlertsAsync, a => a.AsArray().Count > 0, "a drop alert");
        var drop = Assert.Single(alerts.AsArray())!;
        Assert.Equal(("orders", "drop", 0L, 2.0), (drop["metric"]!.GetValue<string>(), drop["kind"]!.GetValue<string>(),
            drop["observed"]!.GetValue<long>(), drop["expected"]!.GetValue<double>()));
        Assert.Null(drop["endedAt"]);
        var metrics = await Eventually.UntilAsync(() => shop.Admin.GetStringAsync("/metrics"),
            t => Regex.IsMatch(t, @"(?m)^trade_sales_alerts_open\{[^}]*kind=""drop""[^}]*\} 1(\s|$)"), "the open drop on the gauge");
        Assert.Contains("metric=\"orders\"", Regex.Match(metrics, @"(?m)^trade_sales_alerts_open\{[^}]*\}").Value);

        // Traffic comes back: the alert ends (recovered), and stays listed.
        await PlaceAsync(shop, buyer, buyerId, sku, 8);
        await AdvanceAsync(shop, 2 * 60);
        alerts = await Eventually.ReadAsync(AlertsAsync, a => a.AsArray().All(x => x!["endedAt"] is not null), "the drop to end");
        var ended = Assert.Single(alerts.AsArray())!;
        Assert.Equal(drop["alertId"]!.GetValue<string>(), ended["alertId"]!.GetValue<string>());
        Assert.Equal(8, ended["observedAtEnd"]!.GetValue<long>());

        // Three quiet hours (too quiet to judge), then 8 orders at once: a spike.
        await AdvanceAsync(shop, 3 * 3600);
        await PlaceAsync(shop, buyer, buyerId, sku, 8);
        await AdvanceAsync(shop, 2 * 60);
        alerts = await Eventually.ReadAsync(AlertsAsync, a => a.AsArray().Count == 2, "a spike alert");
        Assert.Equal(("spike", 8L), (alerts[0]!["kind"]!.GetValue<string>(), alerts[0]!["observed"]!.GetValue<long>()));
        Assert.Null(alerts[0]!["endedAt"]);
        var open = (await analyst.GetJsonAsync("/api/v1/analytics/alerts?open=true")).Body!["alerts"]!.AsArray();
        Assert.Equal(alerts[0]!["alertId"]!.GetValue<string>(), Assert.Single(open)!["alertId"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_minutes_the_monitor_took_in_survive_a_crash_of_its_silo()
    {
        var (silo, shop) = await StartAsync(new() { ["Analytics__PersistSeconds"] = "1" });
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var minute = await StartOfAMinuteAsync(shop);
        var range = $"from={Uri.EscapeDataString(minute.ToString("O"))}&to={Uri.EscapeDataString(minute.AddMinutes(10).ToString("O"))}";
        async Task<long> OrdersAsync(OrderTestShop s) =>
            (await s.Admin.GetJsonAsync($"/api/v1/analytics/sales?{range}")).Body!["total"]!["orders"]!.GetValue<long>();
        // Two minutes taken in one after the other (the second after the monitor's first write).
        await PlaceAsync(shop, buyer, buyerId, sku, 3);
        await AdvanceAsync(shop, 60);
        await Eventually.UntilAsync(() => OrdersAsync(shop), n => n == 3, "the first minute in the monitor");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await PlaceAsync(shop, buyer, buyerId, sku, 2);
        await AdvanceAsync(shop, 60);
        await Eventually.UntilAsync(() => OrdersAsync(shop), n => n == 5, "the second minute in the monitor");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a flush after the persist period writes it

        // Killed: no deactivation writes anything; business time comes back where it was.
        var offset = (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 0.001 })).Body!["offsetSeconds"]!.GetValue<double>();
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await silo.StartAsync();

        Assert.Equal(5, await OrdersAsync(new OrderTestShop(silo)));
    }
    [Fact]
    public async Task A_silo_stopped_gracefully_mid_minute_sends_that_minute_and_its_rest_after_a_restart_adds_to_it()
    {
        var (silo, shop) = await StartAsync(new() { ["Shutdown__TimeoutSeconds"] = "20" });
        await using var _ = silo;
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), priceMinor: 1000, currency: "USD", stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var minute = await StartOfAMinuteAsync(shop);
        var range = $"from={Uri.EscapeDataString(minute.ToString("O"))}&to={Uri.EscapeDataString(minute.AddMinutes(1).ToString("O"))}&interval=minute";
        async Task<(long Orders, long GmvUsdMinor)> MinuteAsync(OrderTestShop s)
        {
            var total = (await s.Admin.GetJsonAsync($"/api/v1/analytics/sales?{range}")).Body!["total"]!;
            return (total["orders"]!.GetValue<long>(), total["gmvUsdMinor"]!.GetValue<long>());
        }

        // Three orders, then SIGTERM (a rolling update) well before the minute ends.
        await PlaceAsync(shop, buyer, buyerId, sku, 3);
        var offset = (await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = 0.001 })).Body!["offsetSeconds"]!.GetValue<double>();
        var down = System.Diagnostics.Stopwatch.StartNew();
        silo.Terminate();
        Assert.Equal(0, await silo.WaitForExitAsync(TimeSpan.FromSeconds(40)));

        // Started again in the same business minute (the downtime taken off the clock): the minute holds what the stop sent.
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = (offset - down.Elapsed.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await silo.StartAsync();
        shop = new OrderTestShop(silo);
        Assert.Equal((3L, 3000L), await MinuteAsync(shop));

        // Two more in that minute from the new process: added to the three, not in their place.
        Assert.True(await AdvanceAsync(shop, 0.001) < minute.AddSeconds(50), "the restart took too long to stay in the minute");
        buyer = await shop.KeyAsync("buyer", buyerId);
        await PlaceAsync(shop, buyer, buyerId, sku, 2);
        await AdvanceAsync(shop, 60);
        await Eventually.UntilAsync(() => MinuteAsync(shop), m => m == (5L, 5000L), "the minute's five orders");
    }
}
