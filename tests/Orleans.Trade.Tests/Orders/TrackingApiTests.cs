using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>A silo on PostgreSQL whose business clock the tests run ahead, with deadlines checked every second.</summary>
public sealed class TrackingSiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public OrderTestShop Shop { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("tracking");
        Silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "tracking-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = "00:00:01",
            });
        Shop = new OrderTestShop(Silo);
        await Shop.WarehousesAsync();
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Carrier tracking over real HTTP on PostgreSQL (R-LOG-5, R-LOG-6, R-ORD-5, R-ORD-6): the order's carrier records normalised
/// events of a shipped order, which go on the order, its timeline and the buyer's notifications; a customs hold or an exception
/// opens a ticket; the stall deadline counts from the last update; the seller corrects a tracking number nothing was reported under.
/// </summary>
public sealed class TrackingApiTests(TrackingSiloFixture fixture) : IClassFixture<TrackingSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, HttpClient Buyer, HttpClient Seller, DateTimeOffset ShippedAt);

    /// <summary>An order paid by an admin and (unless told otherwise) shipped by its seller with DHL.</summary>
    private async Task<Sold> ShippedAsync(bool ship = true)
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        if (!ship)
        {
            return new Sold(orderId, buyer, seller, default);
        }
        var shipped = await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "JD" + orderId[^10..] });
        return new Sold(orderId, buyer, seller, shipped["shipment"]!["shippedAt"]!.GetValue<DateTimeOffset>());
    }

    private async Task<DateTimeOffset> Advance(TimeSpan by)
    {
        var (status, body) = await Shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = by.TotalSeconds });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!["now"]!.GetValue<DateTimeOffset>();
    }

    private Task<DateTimeOffset> Now() => Advance(TimeSpan.FromMilliseconds(1));

    private static Task<(HttpStatusCode Status, JsonNode? Body)> Track(HttpClient client, string orderId, object body) =>
        client.PostJsonAsync($"/api/v1/orders/{orderId}/tracking-events", body);

    private async Task<string[]> OpenTicketKindsAsync(string orderId) =>
        (await Shop.Admin.GetJsonAsync("/api/v1/service-tickets?limit=500")).Body!.AsArray()
            .Where(t => t!["orderId"]!.GetValue<string>() == orderId).Select(t => t!["kind"]!.GetValue<string>()).Order().ToArray();

    private async Task<long> NotificationsAsync(string orderId, string @event) => Convert.ToInt64(await fixture.Silo.Storage.ScalarAsync(
        $"SELECT count(*) FROM order_notifications WHERE order_id = @order AND event = '{@event}'", "order", orderId));

    [Fact]
    public async Task The_carrier_records_tracking_events_on_the_order_its_timeline_and_the_buyers_notifications_once_each()
    {
        var sold = await ShippedAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Now();
        var inTransit = new { kind = "inTransit", at = sold.ShippedAt, location = "Leipzig hub", note = "Arrived at sorting centre" };

        var (recorded, order) = await Track(dhl, sold.OrderId, inTransit);
        var (again, replay) = await Track(dhl, sold.OrderId, inTransit);
        var (outFor, _) = await Track(dhl, sold.OrderId, new { kind = "outForDelivery", at = now.AddSeconds(2) });

        Assert.True(recorded == HttpStatusCode.Created, $"{recorded} {order}");
        var tracked = Assert.Single(order!["tracking"]!.AsArray())!;
        Assert.Equal("inTransit", tracked["kind"]!.GetValue<string>());
        Assert.Equal("Leipzig hub", tracked["location"]!.GetValue<string>());
        Assert.Equal("Arrived at sorting centre", tracked["note"]!.GetValue<string>());
        Assert.Equal("carrier:dhl", tracked["recordedBy"]!.GetValue<string>());
        Assert.Equal("shipped", order["status"]!.GetValue<string>());
        // Sent again: answered, kept once.
        Assert.True(again == HttpStatusCode.OK, $"{again} {replay}");
        Assert.Single(replay!["tracking"]!.AsArray());
        Assert.Equal(HttpStatusCode.Created, outFor);
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped", "InTransit", "OutForDelivery"], await Shop.TimelineEventsAsync(sold.OrderId));
        var timeline = (await Shop.Admin.GetJsonAsync($"/api/v1/orders/{sold.OrderId}/timeline")).Body!["entries"]!.AsArray();
        Assert.Contains("Leipzig hub", timeline[4]!["reason"]!.GetValue<string>());
        Assert.Equal(1, await NotificationsAsync(sold.OrderId, "InTransit"));
        Assert.Equal(1, await NotificationsAsync(sold.OrderId, "OutForDelivery"));

        // A delivery event delivers the order, as POST …/delivery does; the buyer's 15 days count from now.
        var (delivered, done) = await Track(dhl, sold.OrderId, new { kind = "delivered", at = now.AddSeconds(3), location = "Berlin" });
        Assert.True(delivered == HttpStatusCode.Created, $"{delivered} {done}");
        Assert.Equal("delivered", done!["status"]!.GetValue<string>());
        Assert.Equal(["inTransit", "outForDelivery", "delivered"], done["tracking"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()));
        Assert.True(done["deadlines"]!["autoCompleteAt"]!.GetValue<DateTimeOffset>() >= now + TimeSpan.FromDays(15));
        Assert.Equal(1, await NotificationsAsync(sold.OrderId, "Delivered"));
        // The same delivery again is a retry; anything else after delivery is not the carrier's to add.
        Assert.Equal(HttpStatusCode.OK, (await Track(dhl, sold.OrderId, new { kind = "delivered", at = now.AddSeconds(3), location = "Berlin" })).Status);
        var (late, conflict) = await Track(dhl, sold.OrderId, new { kind = "inTransit", at = now.AddSeconds(4) });
        Assert.Equal(HttpStatusCode.Conflict, late);
        Assert.Equal("delivered", conflict!["currentStatus"]!.GetValue<string>());
        Assert.Single(await Shop.TimelineEventsAsync(sold.OrderId), e => e == "Delivered");
    }

    [Fact]
    public async Task Tracking_events_are_the_carriers_and_admins_on_a_shipped_order_and_bad_ones_are_refused_naming_the_field()
    {
        var sold = await ShippedAsync();
        var unshipped = await ShippedAsync(ship: false);
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Now();
        var event_ = new { kind = "inTransit", at = now };

        // Someone else's order is missing, as for POST …/delivery; the order's own buyer and seller may not record.
        Assert.Equal(HttpStatusCode.NotFound, (await Track(await Shop.KeyAsync("carrier", "fedex"), sold.OrderId, event_)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Track(await Shop.KeyAsync("buyer", OrderTestShop.NewId("b")), sold.OrderId, event_)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Track(dhl, unshipped.OrderId, event_)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Track(dhl, "no-such-order", event_)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Track(sold.Seller, sold.OrderId, event_)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Track(sold.Buyer, sold.OrderId, event_)).Status);
        var (notShipped, problem) = await Track(Shop.Admin, unshipped.OrderId, event_);
        Assert.Equal(HttpStatusCode.Conflict, notShipped);
        Assert.Equal("awaitingShipment", problem!["currentStatus"]!.GetValue<string>());

        async Task BadRequest(object body, string field)
        {
            var (status, answer) = await Track(dhl, sold.OrderId, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{status} {answer}");
            Assert.NotNull(answer!["errors"]![field]);
        }
        await BadRequest(new { kind = "lost", at = now }, "kind");
        await BadRequest(new { at = now }, "kind");
        await BadRequest(new { kind = "customs" }, "at");
        await BadRequest(new { kind = "customs", at = sold.ShippedAt.AddMinutes(-1) }, "at");
        await BadRequest(new { kind = "customs", at = now.AddHours(1) }, "at");
        await BadRequest(new { kind = "customs", at = now, location = new string('x', 201) }, "location");
        await BadRequest(new { kind = "customs", at = now, note = new string('x', 501) }, "note");
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped"], await Shop.TimelineEventsAsync(sold.OrderId));
        Assert.Null((await Shop.OrderAsync(sold.OrderId))["tracking"]);

        // A few minutes ahead of the platform's clock is a carrier's clock, not the future; an admin may record too.
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "inTransit", at = now.AddMinutes(5) })).Status);
        Assert.Equal(HttpStatusCode.Created, (await Track(Shop.Admin, sold.OrderId, new { kind = "inTransit", at = now })).Status);
        Assert.Equal(2, (await Shop.OrderAsync(sold.OrderId))["tracking"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_customs_hold_or_an_exception_opens_one_ticket_per_kind_which_closes_when_the_order_is_delivered()
    {
        var sold = await ShippedAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Now();

        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "customs", at = sold.ShippedAt.AddSeconds(1), location = "Frankfurt" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "customs", at = sold.ShippedAt.AddSeconds(2), location = "Frankfurt" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "exception", at = now.AddSeconds(3), note = "Address incomplete" })).Status);

        Assert.Equal(["CustomsHold", "DeliveryException"], await OpenTicketKindsAsync(sold.OrderId));
        var tickets = (await Shop.Admin.GetJsonAsync("/api/v1/service-tickets?limit=500")).Body!.AsArray()
            .Where(t => t!["orderId"]!.GetValue<string>() == sold.OrderId).ToArray();
        Assert.Contains("Frankfurt", tickets.Single(t => t!["kind"]!.GetValue<string>() == "CustomsHold")!["description"]!.GetValue<string>());
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped", "HeldAtCustoms", "HeldAtCustoms", "DeliveryException"],
            await Shop.TimelineEventsAsync(sold.OrderId));

        await Shop.ActAsync(dhl, sold.OrderId, "delivery");
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
        Assert.Equal(2L, Convert.ToInt64(await fixture.Silo.Storage.ScalarAsync(
            "SELECT count(*) FROM service_tickets WHERE order_id = @order AND status = 'Closed'", "order", sold.OrderId)));
    }

    [Fact]
    public async Task A_customs_hold_or_an_exception_ticket_closes_when_a_later_event_shows_the_parcel_moving_again()
    {
        // R-ORD-6: the exception is over once the parcel cleared customs or is back on its way; left open, it waited for the delivery.
        var sold = await ShippedAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "customs", at = sold.ShippedAt.AddSeconds(1) })).Status);
        // A scan from before the hold, reported late, does not show it cleared.
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "inTransit", at = sold.ShippedAt })).Status);
        Assert.Equal(["CustomsHold"], await OpenTicketKindsAsync(sold.OrderId));
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "inTransit", at = now, location = "Frankfurt" })).Status);
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));

        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "exception", at = now.AddSeconds(1) })).Status);
        Assert.Equal(["DeliveryException"], await OpenTicketKindsAsync(sold.OrderId));
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "outForDelivery", at = now.AddSeconds(2) })).Status);
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));

        // A new exception after that is a new ticket; a hold reported late that the parcel has cleared since opens none.
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "exception", at = now.AddSeconds(3) })).Status);
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "customs", at = sold.ShippedAt.AddSeconds(2) })).Status);
        Assert.Equal(["DeliveryException"], await OpenTicketKindsAsync(sold.OrderId));
        await Shop.ActAsync(dhl, sold.OrderId, "delivery");
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
        Assert.Equal(3L, Convert.ToInt64(await fixture.Silo.Storage.ScalarAsync(
            "SELECT count(*) FROM service_tickets WHERE order_id = @order AND status = 'Closed' AND closed_by = 'system'", "order", sold.OrderId)));
    }

    [Fact]
    public async Task Scans_a_carrier_back_fills_after_the_delivery_are_kept_as_history_and_later_ones_are_refused()
    {
        var sold = await ShippedAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "delivered", at = now.AddSeconds(-5) })).Status);
        var autoCompleteAt = (await Shop.OrderAsync(sold.OrderId))["deadlines"]!["autoCompleteAt"]!.GetValue<DateTimeOffset>();

        // Scanned before the delivery, sent after it: kept, in time order, on the timeline, but not news to the buyer.
        var backFilled = new { kind = "inTransit", at = now.AddSeconds(-6), location = "Leipzig hub" };
        var (recorded, order) = await Track(dhl, sold.OrderId, backFilled);
        Assert.True(recorded == HttpStatusCode.Created, $"{recorded} {order}");
        Assert.Equal("delivered", order!["status"]!.GetValue<string>());
        Assert.Equal(["inTransit", "delivered"], order["tracking"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()));
        Assert.Equal(autoCompleteAt, order["deadlines"]!["autoCompleteAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(HttpStatusCode.OK, (await Track(dhl, sold.OrderId, backFilled)).Status);
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "customs", at = now.AddSeconds(-5) })).Status);
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped", "Delivered", "InTransit", "HeldAtCustoms"], await Shop.TimelineEventsAsync(sold.OrderId));
        Assert.Equal(0, await NotificationsAsync(sold.OrderId, "InTransit"));
        Assert.Equal(0, await NotificationsAsync(sold.OrderId, "HeldAtCustoms"));

        // After the delivery, or another delivery: not the carrier's to add; bad input is still 400.
        var (after, conflict) = await Track(dhl, sold.OrderId, new { kind = "inTransit", at = now.AddSeconds(-4) });
        Assert.Equal(HttpStatusCode.Conflict, after);
        Assert.Equal("delivered", conflict!["currentStatus"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await Track(dhl, sold.OrderId, new { kind = "delivered", at = now.AddSeconds(-7) })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Track(dhl, sold.OrderId, new { kind = "inTransit", at = sold.ShippedAt.AddMinutes(-1) })).Status);
        Assert.Equal(3, (await Shop.OrderAsync(sold.OrderId))["tracking"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_corrected_shipment_counts_its_stall_from_the_correction_not_from_shipping()
    {
        // The new tracking number has had no chance to show movement: counted from shipping, it was flagged stalled early.
        var sold = await ShippedAsync();
        await Advance(TimeSpan.FromDays(10));
        var corrected = await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = "JD" + sold.OrderId[^9..] + "X" });
        var correctedAt = corrected["shipment"]!["correctedAt"]!.GetValue<DateTimeOffset>();
        Assert.True(correctedAt >= sold.ShippedAt + TimeSpan.FromDays(10));
        Assert.Equal(sold.ShippedAt, corrected["shipment"]!["shippedAt"]!.GetValue<DateTimeOffset>());

        await Advance(TimeSpan.FromDays(11)); // 21 days after shipping, 11 after the correction
        await Task.Delay(TimeSpan.FromSeconds(4)); // the sweeper runs every second
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
        Assert.DoesNotContain("ShipmentStalled", await Shop.TimelineEventsAsync(sold.OrderId));

        await Advance(TimeSpan.FromDays(9) + TimeSpan.FromMinutes(1)); // 20 days after the correction
        Assert.Equal(["StalledShipment"], await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), t => t.Length > 0, "the stalled-shipment ticket"));
    }

    [Fact]
    public async Task A_tracking_number_corrected_after_a_stall_was_flagged_is_flagged_again_if_it_shows_nothing_either()
    {
        // Once flagged, the stall was never counted again: a corrected number that never moved ran on to completion unflagged.
        var sold = await ShippedAsync();
        await Advance(TimeSpan.FromDays(20) + TimeSpan.FromMinutes(1));
        Assert.Equal(["StalledShipment"], await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), t => t.Length > 0, "the first stalled-shipment ticket"));

        await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = "JD" + sold.OrderId[^9..] + "Y" });
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId)); // the ticket named the old number

        await Advance(TimeSpan.FromDays(19));
        await Task.Delay(TimeSpan.FromSeconds(4)); // the sweeper runs every second
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
        Assert.Single(await Shop.TimelineEventsAsync(sold.OrderId), e => e == "ShipmentStalled");

        await Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1)); // 20 days after the correction
        Assert.Equal(["StalledShipment"], await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), t => t.Length > 0, "the second stalled-shipment ticket"));
        Assert.Equal(2, (await Shop.TimelineEventsAsync(sold.OrderId)).Count(e => e == "ShipmentStalled"));
    }

    [Fact]
    public async Task A_shipment_is_stalled_after_20_days_without_a_tracking_update_not_20_days_after_shipping()
    {
        // R-LOG-6: "no update for N days". Counted from shipping, a parcel scanned every few days was flagged stalled on day 20.
        var sold = await ShippedAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");

        var now = await Advance(TimeSpan.FromDays(15));
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "inTransit", at = now, location = "Singapore" })).Status);
        await Advance(TimeSpan.FromDays(6)); // 21 days after shipping, 6 after the last update
        await Task.Delay(TimeSpan.FromSeconds(4)); // the sweeper runs every second
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
        Assert.DoesNotContain("ShipmentStalled", await Shop.TimelineEventsAsync(sold.OrderId));

        now = await Advance(TimeSpan.FromDays(14) + TimeSpan.FromMinutes(1)); // 20 days after the last update
        Assert.Equal(["StalledShipment"], await Eventually.UntilAsync(() => OpenTicketKindsAsync(sold.OrderId), t => t.Length > 0, "the stalled-shipment ticket"));
        Assert.Single(await Shop.TimelineEventsAsync(sold.OrderId), e => e == "ShipmentStalled");

        // The parcel moves again: the stall is over, its ticket closes.
        Assert.Equal(HttpStatusCode.Created, (await Track(dhl, sold.OrderId, new { kind = "inTransit", at = now, location = "Leipzig" })).Status);
        Assert.Empty(await OpenTicketKindsAsync(sold.OrderId));
    }

    [Fact]
    public async Task The_seller_corrects_a_tracking_number_before_the_carrier_reports_anything_and_the_same_shipment_again_changes_nothing()
    {
        var sold = await ShippedAsync();
        var shipped = await Shop.OrderAsync(sold.OrderId);
        var first = shipped["shipment"]!.DeepClone();

        var same = await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = first["trackingNumber"]!.GetValue<string>() });
        Assert.True(JsonNode.DeepEquals(first, same["shipment"]));
        Assert.Equal(shipped["updatedAt"]!.GetValue<DateTimeOffset>(), same["updatedAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped"], await Shop.TimelineEventsAsync(sold.OrderId));

        await Shop.ActAsync(sold.Buyer, sold.OrderId, "ship", new { carrier = "FedEx", trackingNumber = "FX1" }, HttpStatusCode.Forbidden);
        var corrected = await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "FedEx", trackingNumber = "794600003828" });
        Assert.Equal("shipped", corrected["status"]!.GetValue<string>());
        Assert.Equal("FedEx", corrected["shipment"]!["carrier"]!.GetValue<string>());
        Assert.Equal("794600003828", corrected["shipment"]!["trackingNumber"]!.GetValue<string>());
        Assert.Equal(sold.ShippedAt, corrected["shipment"]!["shippedAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped", "ShipmentCorrected"], await Shop.TimelineEventsAsync(sold.OrderId));
        Assert.Equal(1, await NotificationsAsync(sold.OrderId, "ShipmentCorrected"));

        // The order is now the new carrier's.
        var now = await Now();
        Assert.Equal(HttpStatusCode.NotFound, (await Track(await Shop.KeyAsync("carrier", "dhl"), sold.OrderId, new { kind = "inTransit", at = now })).Status);
        Assert.Equal(HttpStatusCode.Created, (await Track(await Shop.KeyAsync("carrier", "fedex"), sold.OrderId, new { kind = "inTransit", at = now })).Status);

        // Once the carrier reported under it, the tracking number stands; the same shipment again still answers 200.
        var refused = await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "FedEx", trackingNumber = "794600003829" }, HttpStatusCode.Conflict);
        Assert.Equal("shipped", refused["currentStatus"]!.GetValue<string>());
        await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "FedEx", trackingNumber = "794600003828" });
        Assert.Equal("794600003828", (await Shop.OrderAsync(sold.OrderId))["shipment"]!["trackingNumber"]!.GetValue<string>());
    }
}
