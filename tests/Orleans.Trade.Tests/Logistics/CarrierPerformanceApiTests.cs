using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>
/// Carriers' on-time and complaint rates over real HTTP on PostgreSQL (R-LOG-7): counted from the orders shipped in a window, each
/// delivery against the most days the carrier's lane promises, undelivered parcels past it as late, and buyers' delivery disputes as
/// complaints.
/// </summary>
public sealed class CarrierPerformanceApiTests(Payments.PaymentsSiloFixture fixture) : IClassFixture<Payments.PaymentsSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Shipped(string OrderId, HttpClient Buyer, DateTimeOffset ShippedAt);

    private async Task<Shipped> ShippedAsync(string sellerId, string sku, string carrier)
    {
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        var orderId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        await Eventually.ReadAsync(() => Shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "awaitingShipment", $"order {orderId} paid");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var order = await Shop.ActAsync(seller, orderId, "ship", new { carrier, trackingNumber = "PT" + orderId[^10..] });
        return new Shipped(orderId, buyer, order["shipment"]!["shippedAt"]!.GetValue<DateTimeOffset>());
    }

    private async Task DeliveredAsync(Shipped order, TimeSpan after)
    {
        var (status, body) = await Shop.Admin.PostJsonAsync($"/api/v1/orders/{order.OrderId}/tracking-events",
            new { kind = "delivered", at = order.ShippedAt + after, location = "Berlin" });
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
    }

    private static JsonNode Carrier(JsonNode report, string key) =>
        report["carriers"]!.AsArray().Single(c => c!["carrierKey"]!.GetValue<string>() == key)!;

    [Fact]
    public async Task A_carriers_deliveries_count_against_its_lanes_promise_its_late_parcels_and_its_buyers_complaints()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var carrierId = "lane-" + suffix;
        var (registered, registeredBody) = await Shop.Admin.PutJsonAsync($"/api/v1/carriers/{carrierId}", new
        {
            name = "Lane Post " + suffix, service = "dedicatedLine", currency = "USD", maxWeightGrams = 5_000, tracked = true,
            lanes = new object[] { new { countries = new[] { "DE" }, transitDaysMin = 1, transitDaysMax = 3, baseFeeMinor = 500, perKgFeeMinor = 200 } },
        });
        Assert.True(registered == HttpStatusCode.Created, $"{registered} {registeredBody}");
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var start = (await Shop.AdvanceClockAsync(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();

        // Four parcels by the registered line (its shipments name it by its name, in another spelling), one by a courier it does not know.
        var name = "lane post " + suffix.ToUpperInvariant();
        var onTime = await ShippedAsync(sellerId, sku, name);
        var lateDelivery = await ShippedAsync(sellerId, sku, name);
        var neverDelivered = await ShippedAsync(sellerId, sku, name);
        var disputed = await ShippedAsync(sellerId, sku, carrierId);
        var courier = await ShippedAsync(sellerId, sku, "Kurier " + suffix);
        await Shop.AdvanceClockAsync(TimeSpan.FromDays(5));
        await DeliveredAsync(onTime, TimeSpan.FromDays(2));
        await DeliveredAsync(lateDelivery, TimeSpan.FromDays(4.5));
        await DeliveredAsync(courier, TimeSpan.FromHours(20));
        var (opened, dispute) = await disputed.Buyer.PostJsonAsync($"/api/v1/orders/{disputed.OrderId}/disputes",
            new { reason = "notReceived", description = "Nothing came." });
        Assert.True(opened == HttpStatusCode.Created, $"{opened} {dispute}");

        var analyst = await Shop.KeyAsync("analyst", OrderTestShop.NewId("an"));
        var (read, report) = await analyst.GetJsonAsync($"/api/v1/analytics/carriers?from={Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"))}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {report}");

        var line = Carrier(report!, "lane" + suffix); // its id's key: shipments named it by its id and by its name
        Assert.Equal("Lane Post " + suffix, line["name"]!.GetValue<string>());
        Assert.Equal(carrierId, line["carrierId"]!.GetValue<string>());
        Assert.Equal(4, line["shipped"]!.GetValue<long>());
        Assert.Equal(2, line["delivered"]!.GetValue<long>());
        Assert.Equal(2, line["inTransit"]!.GetValue<long>());
        Assert.Equal(1, line["onTime"]!.GetValue<long>());
        Assert.Equal(3, line["late"]!.GetValue<long>()); // delivered in 4.5 days, and two out for 5 days, against 3
        Assert.Equal(0.25, line["onTimeRate"]!.GetValue<double>());
        Assert.Equal(2, line["transitDaysP50"]!.GetValue<int>());
        Assert.Equal(5, line["transitDaysP90"]!.GetValue<int>());
        Assert.Equal(1, line["complaints"]!.GetValue<long>());
        Assert.Equal(1, line["complaintsByReason"]!["notReceived"]!.GetValue<long>());
        Assert.Equal(0.25, line["complaintRate"]!.GetValue<double>());
        Assert.Equal("DE", Assert.Single(line["countries"]!.AsArray())!["country"]!.GetValue<string>());

        var unknown = Carrier(report!, "kurier" + suffix);
        Assert.Null(unknown["carrierId"]);
        Assert.Null(unknown["onTimeRate"]); // it promised nothing here
        Assert.Equal(1, unknown["transitDaysP50"]!.GetValue<int>());

        // A window without those shipments has none of them; bad windows and buyers are refused.
        var (earlier, earlierReport) = await analyst.GetJsonAsync(
            $"/api/v1/analytics/carriers?from={Uri.EscapeDataString(start.AddDays(-20).ToString("O"))}&to={Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"))}");
        Assert.Equal(HttpStatusCode.OK, earlier);
        Assert.DoesNotContain(earlierReport!["carriers"]!.AsArray(), c => c!["carrierKey"]!.GetValue<string>() == "lane" + suffix);
        var (backwards, _) = await analyst.GetJsonAsync($"/api/v1/analytics/carriers?from={Uri.EscapeDataString(start.ToString("O"))}&to={Uri.EscapeDataString(start.AddDays(-1).ToString("O"))}");
        var (tooLong, _) = await analyst.GetJsonAsync($"/api/v1/analytics/carriers?from={Uri.EscapeDataString(start.AddDays(-100).ToString("O"))}&to={Uri.EscapeDataString(start.ToString("O"))}");
        var (byBuyer, _) = await onTime.Buyer.GetJsonAsync("/api/v1/analytics/carriers");
        Assert.Equal(HttpStatusCode.BadRequest, backwards);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong);
        Assert.Equal(HttpStatusCode.Forbidden, byBuyer);
    }

    [Fact]
    public async Task A_sellers_shipping_times_count_hours_to_ship_days_to_deliver_and_are_its_own_to_read()
    {
        var sellerId = OrderTestShop.NewId("s");
        var seller = await Shop.KeyAsync("seller", sellerId);
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-de", 10)]);
        var start = (await Shop.AdvanceClockAsync(TimeSpan.FromSeconds(1)))["now"]!.GetValue<DateTimeOffset>();

        var quick = await ShippedAsync(sellerId, sku, "DHL");
        // Placed now, shipped 30 hours later.
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var created = await OrderTestShop.CardCheckoutAsync(buyer, buyerId, [new { skuId = sku, quantity = 1 }]);
        var slowId = created["orders"]![0]!["orderId"]!.GetValue<string>();
        await Eventually.ReadAsync(() => Shop.OrderAsync(slowId), o => o["status"]!.GetValue<string>() == "awaitingShipment", $"order {slowId} paid");
        await Shop.AdvanceClockAsync(TimeSpan.FromHours(30));
        await Shop.ActAsync(seller, slowId, "ship", new { carrier = "DHL", trackingNumber = "SL" + slowId[^10..] });
        await Shop.AdvanceClockAsync(TimeSpan.FromDays(4));
        await DeliveredAsync(quick, TimeSpan.FromDays(2.5));

        var window = $"from={Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"))}";
        var (read, report) = await seller.GetJsonAsync($"/api/v1/analytics/shipping-times?{window}");
        Assert.True(read == HttpStatusCode.OK, $"{read} {report}");
        Assert.Null(report!["total"]);
        var times = Assert.Single(report["sellers"]!.AsArray())!;
        Assert.Equal(sellerId, times["sellerId"]!.GetValue<string>());
        Assert.Equal(2, times["shipped"]!.GetValue<long>());
        Assert.Equal(1, times["handlingHoursP50"]!.GetValue<int>()); // shipped within its first hour
        Assert.Equal(31, times["handlingHoursP90"]!.GetValue<int>()); // 30 hours and a few seconds
        Assert.Equal(1, times["delivered"]!.GetValue<long>());
        Assert.Equal(3, times["deliveryDaysP50"]!.GetValue<int>()); // 2.5 days, rounded up
        var germany = Assert.Single(times["destinations"]!.AsArray())!;
        Assert.Equal("DE", germany["country"]!.GetValue<string>());

        // Staff read every seller with the platform's total; a seller reads no other seller's.
        var (all, allReport) = await Shop.Admin.GetJsonAsync($"/api/v1/analytics/shipping-times?{window}");
        Assert.Equal(HttpStatusCode.OK, all);
        Assert.Contains(allReport!["sellers"]!.AsArray(), s => s!["sellerId"]!.GetValue<string>() == sellerId);
        Assert.True(allReport["total"]!["shipped"]!.GetValue<long>() >= 2);
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.GetJsonAsync($"/api/v1/analytics/shipping-times?sellerId={OrderTestShop.NewId("s")}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.GetJsonAsync($"/api/v1/analytics/shipping-times?from={Uri.EscapeDataString(start.ToString("O"))}&to={Uri.EscapeDataString(start.AddDays(-1).ToString("O"))}")).Status);
    }
}
