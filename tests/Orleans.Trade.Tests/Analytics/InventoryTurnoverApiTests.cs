using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>
/// Inventory turnover over real HTTP on PostgreSQL (R-DAT-3): each business day the silo snapshots every SKU's stock; units shipped
/// between two snapshots are the window's sales, against the mean stock on hand. On the payments silo (card checkouts, business
/// clock moved on a day at a time, snapshots checked every second).
/// </summary>
public sealed class InventoryTurnoverApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static string Day(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime).ToString("yyyy-MM-dd");

    /// <summary>Moves business time on a day and waits until that day's snapshot holds the SKU.</summary>
    private async Task<string> NextDaySnapshotAsync(string skuId)
    {
        var day = Day((await Shop.AdvanceClockAsync(TimeSpan.FromDays(1)))["now"]!.GetValue<DateTimeOffset>());
        await Eventually.ReadAsync(async () => (await Shop.Admin.GetJsonAsync($"/api/v1/analytics/inventory-turnover?skuId={skuId}&from={day}&to={day}")).Body!,
            r => r["skuCount"]!.GetValue<long>() == 1, $"the snapshot of {day} to hold {skuId}");
        return day;
    }

    [Fact]
    public async Task Units_shipped_between_two_daily_snapshots_are_the_windows_sales_against_the_mean_stock_on_hand()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var slowSku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 50)]);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var first = await NextDaySnapshotAsync(sku);

        // Two orders paid and shipped: their units leave the warehouse as sales.
        foreach (var buyerId in new[] { OrderTestShop.NewId("b"), OrderTestShop.NewId("b") })
        {
            var created = await OrderTestShop.CardCheckoutAsync(await Shop.KeyAsync("buyer", buyerId), buyerId, [new { skuId = sku, quantity = 1 }]);
            var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
            await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", $"order {orderId} paid");
            await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "TT" + orderId[^10..] });
        }
        var second = await NextDaySnapshotAsync(sku);

        var (status, report) = await seller.GetJsonAsync($"/api/v1/analytics/inventory-turnover?from={first}&to={second}");

        Assert.True(status == HttpStatusCode.OK, $"{status} {report}");
        Assert.Equal(2, report!["skuCount"]!.GetValue<long>());
        Assert.Equal(2, report["unitsSold"]!.GetValue<long>());
        var rows = report["skus"]!.AsArray();
        // Slowest first: the 50 mugs nobody bought, then the lamp.
        Assert.Equal([slowSku, sku], rows.Select(r => r!["skuId"]!.GetValue<string>()));
        var lamp = rows[1]!;
        Assert.Equal((first, second, 2), (lamp["firstDay"]!.GetValue<string>(), lamp["lastDay"]!.GetValue<string>(), lamp["snapshots"]!.GetValue<int>()));
        Assert.Equal((10L, 8L, 2L), (lamp["onHandStart"]!.GetValue<long>(), lamp["onHandEnd"]!.GetValue<long>(), lamp["unitsSold"]!.GetValue<long>()));
        Assert.Equal((9.0, 0.22, 2.0, 4.0, 0.2), (lamp["averageOnHand"]!.GetValue<double>(), lamp["turnover"]!.GetValue<double>(),
            lamp["salesPerDay"]!.GetValue<double>(), lamp["daysOfCover"]!.GetValue<double>(), lamp["sellThroughRate"]!.GetValue<double>()));
        Assert.Null(rows[0]!["daysOfCover"]);
        Assert.Equal(0, rows[0]!["turnover"]!.GetValue<double>());
        var fastest = (await seller.GetJsonAsync($"/api/v1/analytics/inventory-turnover?from={first}&to={second}&sort=fastest&pageSize=1")).Body!;
        Assert.Equal(sku, Assert.Single(fastest["skus"]!.AsArray())!["skuId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_sellers_key_is_refused_403_and_a_wrong_window_or_sort_400()
    {
        var sellerId = OrderTestShop.NewId("s");
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        var buyer = await Shop.KeyAsync("buyer", OrderTestShop.NewId("b"));

        var (foreign, _) = await other.GetJsonAsync($"/api/v1/analytics/inventory-turnover?sellerId={sellerId}");
        var (byBuyer, _) = await buyer.GetJsonAsync("/api/v1/analytics/inventory-turnover");
        var (backwards, backwardsProblem) = await Shop.Admin.GetJsonAsync("/api/v1/analytics/inventory-turnover?from=2026-12-05&to=2026-12-01");
        var (tooLong, tooLongProblem) = await Shop.Admin.GetJsonAsync("/api/v1/analytics/inventory-turnover?from=2026-01-01&to=2026-12-01");
        var (badSort, badSortProblem) = await Shop.Admin.GetJsonAsync("/api/v1/analytics/inventory-turnover?sort=random");
        var (badDay, _) = await Shop.Admin.GetJsonAsync("/api/v1/analytics/inventory-turnover?from=yesterday");
        // The default start, 30 days before `to`, is not before the calendar's first day (a 500).
        var (firstDays, firstDaysBody) = await Shop.Admin.GetJsonAsync("/api/v1/analytics/inventory-turnover?to=0001-01-05");

        Assert.Equal(HttpStatusCode.Forbidden, foreign);
        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);
        Assert.Equal(HttpStatusCode.BadRequest, backwards);
        Assert.NotNull(backwardsProblem!["errors"]!["from"]);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong);
        Assert.NotNull(tooLongProblem!["errors"]!["to"]);
        Assert.Equal(HttpStatusCode.BadRequest, badSort);
        Assert.NotNull(badSortProblem!["errors"]!["sort"]);
        Assert.Equal(HttpStatusCode.BadRequest, badDay);
        Assert.True(firstDays == HttpStatusCode.OK, $"{firstDays} {firstDaysBody}");
    }
}
