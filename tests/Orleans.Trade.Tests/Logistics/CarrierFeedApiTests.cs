using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Trade.Orders;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>A silo on PostgreSQL with a configured carrier table, whose business clock the tests run ahead.</summary>
public sealed class CarrierFeedSiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public OrderTestShop Shop { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("carrierfeed");
        Silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "carrierfeed-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = "00:00:01",
                // A carrier with no built-in table, and one built-in code taken out.
                ["Carriers__StatusCodes__Acme-Post__A10"] = "inTransit",
                ["Carriers__StatusCodes__Acme-Post__A90"] = "delivered",
                ["Carriers__StatusCodes__dhl__RT"] = "",
            });
        Shop = new OrderTestShop(Silo);
        await Shop.WarehousesAsync();
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// A carrier's tracking feed over real HTTP on PostgreSQL (R-LOG-5): batches under the carrier's own tracking numbers and
/// status codes, each event answered on its own and recorded on the order its tracking number names; and the remedy a
/// stalled-shipment ticket proposes (R-LOG-6).
/// </summary>
public sealed class CarrierFeedApiTests(CarrierFeedSiloFixture fixture) : IClassFixture<CarrierFeedSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Sold(string OrderId, string SellerId, HttpClient Buyer, HttpClient Seller, DateTimeOffset ShippedAt, string TrackingNumber);

    /// <summary>A paid order of the seller (a new one unless given), shipped with the carrier under the tracking number unless told not to.</summary>
    private async Task<Sold> SoldAsync(string? carrier = "DHL", string? trackingNumber = null, string? sellerId = null)
    {
        sellerId ??= OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, stock: [("wh-de", 5)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        if (carrier is null)
        {
            return new Sold(orderId, sellerId, buyer, seller, default, "");
        }
        trackingNumber ??= "JD" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        var shipped = await Shop.ActAsync(seller, orderId, "ship", new { carrier, trackingNumber });
        return new Sold(orderId, sellerId, buyer, seller, shipped["shipment"]!["shippedAt"]!.GetValue<DateTimeOffset>(), trackingNumber);
    }

    private async Task<DateTimeOffset> Advance(TimeSpan by)
    {
        var (status, body) = await Shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = by.TotalSeconds });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!["now"]!.GetValue<DateTimeOffset>();
    }

    private static Task<(HttpStatusCode Status, JsonNode? Body)> Feed(HttpClient client, string carrier, params object?[] events) =>
        client.PostJsonAsync($"/api/v1/carriers/{carrier}/tracking-events", new { events });

    private static async Task<JsonArray> FeedOk(HttpClient client, string carrier, params object?[] events)
    {
        var (status, body) = await Feed(client, carrier, events);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!["results"]!.AsArray();
    }

    private static string Status(JsonArray results, int index) => results[index]!["status"]!.GetValue<string>();

    private async Task<string[]> TrackingKindsAsync(string orderId) =>
        (await Shop.OrderAsync(orderId))["tracking"]?.AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToArray() ?? [];

    private async Task<JsonNode[]> OpenTicketsAsync(string orderId) =>
        (await Shop.Admin.GetJsonAsync($"/api/v1/service-tickets?orderId={orderId}")).Body!.AsArray().Select(t => t!).ToArray();

    private async Task<string?> TrackingKeyAsync(string orderId) =>
        await fixture.Silo.Storage.ScalarAsync("SELECT tracking_key FROM orders WHERE order_id = @order", "order", orderId) as string;

    [Fact]
    public async Task A_batch_is_answered_event_by_event_and_each_recorded_event_is_on_the_order_its_tracking_number_names()
    {
        var a = await SoldAsync();
        var b = await SoldAsync();
        var completed = await SoldAsync();
        await Shop.ActAsync(completed.Buyer, completed.OrderId, "confirm-receipt");
        var fedex = await SoldAsync("FedEx", "7946" + Random.Shared.NextInt64(10_000_000, 99_999_999));
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Advance(TimeSpan.FromMinutes(1));

        object Event(string trackingNumber, string code, DateTimeOffset at, string? location = null) => new { trackingNumber, code, at, location };
        var batch = new object?[]
        {
            Event(a.TrackingNumber.ToLowerInvariant().Insert(2, " "), "PU", a.ShippedAt, "Leipzig"), // 0: as the carrier writes it
            Event(a.TrackingNumber, "ZZ", now), // 1: a code DHL's table does not list
            Event("JD000NOSUCHPARCEL", "PU", now), // 2
            Event(a.TrackingNumber, "pu", a.ShippedAt), // 3: the same scan again
            Event(completed.TrackingNumber, "AF", now), // 4: the buyer confirmed receipt
            Event(fedex.TrackingNumber, "PU", now), // 5: FedEx's parcel
            Event(b.TrackingNumber, "OK", now.AddSeconds(2), "Berlin"), // 6: delivered, after the hold below
            Event(b.TrackingNumber, "CD", now.AddSeconds(1), "Frankfurt"), // 7: held at customs
            new { trackingNumber = b.TrackingNumber, code = "PU" }, // 8: no time
            null, // 9
            Event(a.TrackingNumber, "AF", now.AddHours(1)), // 10: an hour in the future
            Event(b.TrackingNumber, "RT", now), // 11: a built-in code the configuration took out
        };
        var (status, body) = await Feed(dhl, "dhl", batch);

        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        var results = body!["results"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, batch.Length), results.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal(["recorded", "unknownCode", "unknownTrackingNumber", "duplicate", "notShipped", "unknownTrackingNumber", "recorded", "recorded",
            "invalid", "invalid", "invalid", "unknownCode"], results.Select(r => r!["status"]!.GetValue<string>()));
        Assert.Equal("dhl", body["carrier"]!.GetValue<string>());
        Assert.Equal(3, body["recorded"]!.GetValue<int>());
        Assert.Equal(1, body["duplicate"]!.GetValue<int>());
        Assert.Equal(8, body["notRecorded"]!.GetValue<int>());
        Assert.Equal("inTransit", results[0]!["kind"]!.GetValue<string>());
        Assert.Equal([a.OrderId], results[0]!["orderIds"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.Contains("ZZ", results[1]!["reason"]!.GetValue<string>());
        Assert.Equal("completed", results[4]!["currentStatus"]!.GetValue<string>());
        Assert.Equal("at", results[8]!["field"]!.GetValue<string>());
        Assert.Equal("at", results[10]!["field"]!.GetValue<string>());

        // Each order has what was recorded on it, in the carrier's time order: b was held, then delivered.
        var order = await Shop.OrderAsync(a.OrderId);
        var scan = Assert.Single(order["tracking"]!.AsArray())!;
        Assert.Equal("Leipzig", scan["location"]!.GetValue<string>());
        Assert.Equal("carrier:dhl", scan["recordedBy"]!.GetValue<string>());
        Assert.Equal(["customs", "delivered"], await TrackingKindsAsync(b.OrderId));
        Assert.Equal("delivered", (await Shop.OrderAsync(b.OrderId))["status"]!.GetValue<string>());
        Assert.Empty(await TrackingKindsAsync(completed.OrderId));
        Assert.Empty(await TrackingKindsAsync(fedex.OrderId));

        // The same batch again (a retry): what was recorded answers duplicate, nothing is recorded twice.
        var again = await FeedOk(dhl, "dhl", batch);
        Assert.Equal(["duplicate", "duplicate", "duplicate"], new[] { 0, 6, 7 }.Select(i => Status(again, i)));
        Assert.Single(await TrackingKindsAsync(a.OrderId));
        Assert.Equal(["customs", "delivered"], await TrackingKindsAsync(b.OrderId));
    }

    [Fact]
    public async Task A_corrected_tracking_number_finds_the_same_order_and_the_old_one_no_longer_does()
    {
        var unshipped = await SoldAsync(carrier: null);
        var sold = await SoldAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        Assert.Null(await TrackingKeyAsync(unshipped.OrderId));
        Assert.Equal(sold.TrackingNumber, await TrackingKeyAsync(sold.OrderId));
        // The keys are the feed's, not shown in order lists.
        var listed = (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sold.SellerId}/orders")).Body!["items"]!.AsArray().Single()!.AsObject();
        Assert.Equal(sold.OrderId, listed["orderId"]!.GetValue<string>());
        Assert.False(listed.ContainsKey("carrierKey") || listed.ContainsKey("trackingKey"), listed.ToJsonString());

        var corrected = "JD" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = corrected });
        var now = await Advance(TimeSpan.FromMinutes(1));

        var results = await FeedOk(dhl, "dhl",
            new { trackingNumber = sold.TrackingNumber, code = "PU", at = now },
            new { trackingNumber = corrected, code = "AF", at = now });
        Assert.Equal("unknownTrackingNumber", Status(results, 0));
        Assert.Equal("recorded", Status(results, 1));
        Assert.Equal([sold.OrderId], results[1]!["orderIds"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.Equal(["inTransit"], await TrackingKindsAsync(sold.OrderId));

        // A shipment moved to another carrier is that carrier's to report on.
        var moved = await SoldAsync();
        await Shop.ActAsync(moved.Seller, moved.OrderId, "ship", new { carrier = "Acme Post", trackingNumber = moved.TrackingNumber });
        now = await Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("unknownTrackingNumber", Status(await FeedOk(dhl, "dhl", new { trackingNumber = moved.TrackingNumber, code = "PU", at = now }), 0));
        var acme = await Shop.KeyAsync("carrier", "acme-post");
        Assert.Equal("recorded", Status(await FeedOk(acme, "acme-post", new { trackingNumber = moved.TrackingNumber, code = "A10", at = now }), 0));
        Assert.Equal(["inTransit"], await TrackingKindsAsync(moved.OrderId));
    }

    [Fact]
    public async Task A_carrier_finds_only_its_own_parcels_and_sends_only_its_own_feed()
    {
        var sold = await SoldAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var fedex = await Shop.KeyAsync("carrier", "fedex");
        var now = await Advance(TimeSpan.FromMinutes(1));
        var scan = new { trackingNumber = sold.TrackingNumber, code = "PU", at = now };

        // FedEx's feed does not find DHL's tracking number, even with a code FedEx's table knows.
        Assert.Equal("unknownTrackingNumber", Status(await FeedOk(fedex, "fedex", scan), 0));
        // A carrier's key sends its own feed only; an admin may send any carrier's.
        var (forbidden, problem) = await Feed(fedex, "dhl", scan);
        Assert.True(forbidden == HttpStatusCode.Forbidden, $"{forbidden} {problem}");
        Assert.Equal(HttpStatusCode.Forbidden, (await Feed(sold.Seller, "dhl", scan)).Status);
        Assert.Empty(await TrackingKindsAsync(sold.OrderId));
        Assert.Equal("recorded", Status(await FeedOk(Shop.Admin, "DHL", scan), 0));
        Assert.Equal(["inTransit"], await TrackingKindsAsync(sold.OrderId));

        // A carrier with no table at all is refused whole, naming what to configure.
        var (unknown, answer) = await Feed(await Shop.KeyAsync("carrier", "unknown-post"), "unknown-post", scan);
        Assert.True(unknown == HttpStatusCode.BadRequest, $"{unknown} {answer}");
        Assert.Contains("Carriers:StatusCodes:unknownpost", answer!["errors"]!["carrier"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_batch_over_the_limit_or_malformed_is_refused_whole_and_nothing_is_recorded()
    {
        var sold = await SoldAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Advance(TimeSpan.FromMinutes(10)); // 500 scans a second apart, all after the shipment
        var scans = Enumerable.Range(0, 501).Select(i => (object?)new { trackingNumber = sold.TrackingNumber, code = "PU", at = now.AddSeconds(-i) }).ToArray();

        var (tooMany, problem) = await Feed(dhl, "dhl", scans);
        Assert.True(tooMany == HttpStatusCode.BadRequest, $"{tooMany} {problem}");
        Assert.Contains("at most 500", problem!["errors"]!["events"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await Feed(dhl, "dhl")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await dhl.PostJsonAsync("/api/v1/carriers/dhl/tracking-events", new { })).Status);
        var (malformed, _) = await dhl.SendAsync(HttpMethod.Post, "/api/v1/carriers/dhl/tracking-events",
            $$"""{"events":[{"trackingNumber":"{{sold.TrackingNumber}}","code":"PU","at":"yesterday"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, malformed);
        Assert.Empty(await TrackingKindsAsync(sold.OrderId));

        // 500 is the limit, not over it.
        var atLimit = await FeedOk(dhl, "dhl", scans[..500]);
        Assert.Equal(500, atLimit.Count);
        Assert.All(atLimit, r => Assert.Equal("recorded", r!["status"]!.GetValue<string>()));

        // Sent again (a carrier resending the parcel's whole history): every one is a duplicate, also the 450 older than the 50
        // the order keeps, which were recorded and announced to the buyer once more.
        var buyerNotified = await InTransitNotificationsAsync(sold.OrderId);
        Assert.Equal(500, buyerNotified);
        var again = await FeedOk(dhl, "dhl", scans[..500]);
        Assert.All(again, r => Assert.Equal("duplicate", r!["status"]!.GetValue<string>()));
        Assert.Equal(buyerNotified, await InTransitNotificationsAsync(sold.OrderId));
    }

    private async Task<long> InTransitNotificationsAsync(string orderId) => Convert.ToInt64(await fixture.Silo.Storage.ScalarAsync(
        "SELECT count(*) FROM order_notifications WHERE order_id = @order AND event = 'InTransit'", "order", orderId));

    [Fact]
    public async Task An_event_found_under_a_tracking_number_the_seller_corrected_meanwhile_is_not_recorded_on_the_order()
    {
        // The feed finds orders by tracking number, then calls each: a seller correcting a mistyped number (same carrier) in
        // between got the old parcel's events, a delivery included, on the order with the new number.
        var sold = await SoldAsync();
        var corrected = "JD" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        await Shop.ActAsync(sold.Seller, sold.OrderId, "ship", new { carrier = "DHL", trackingNumber = corrected });
        var now = await Advance(TimeSpan.FromMinutes(1));
        using var client = await SiloClients.ConnectAsync(fixture.Silo);
        var order = client.Services.GetRequiredService<IClusterClient>().GetGrain<IOrderGrain>(sold.OrderId);
        var dhl = new OrderActor("carrier", "dhl");

        var old = await order.RecordTracking(new TrackingEventCommand(dhl, TrackingEventKind.Delivered, now, null, null, ShipmentKeys.TrackingNumber(sold.TrackingNumber)));
        Assert.Equal(TrackingEventStatus.NotFound, old.Status);
        Assert.Equal("shipped", (await Shop.OrderAsync(sold.OrderId))["status"]!.GetValue<string>());
        Assert.Empty(await TrackingKindsAsync(sold.OrderId));

        var current = await order.RecordTracking(new TrackingEventCommand(dhl, TrackingEventKind.InTransit, now, null, null, ShipmentKeys.TrackingNumber(corrected)));
        Assert.Equal(TrackingEventStatus.Recorded, current.Status);
        Assert.Equal(["inTransit"], await TrackingKindsAsync(sold.OrderId));
    }

    [Fact]
    public async Task An_event_whose_order_cannot_be_stored_is_answered_failed_and_the_rest_of_the_batch_is_recorded()
    {
        var broken = await SoldAsync();
        var sound = await SoldAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Advance(TimeSpan.FromMinutes(1));
        await fixture.Silo.Storage.ExecuteAsync($"""
            CREATE FUNCTION refuse_broken_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER refuse_broken_order BEFORE UPDATE ON orders FOR EACH ROW
                WHEN (NEW.order_id = '{broken.OrderId}') EXECUTE FUNCTION refuse_broken_order();
            """);
        object[] batch =
        [
            new { trackingNumber = broken.TrackingNumber, code = "PU", at = now },
            new { trackingNumber = sound.TrackingNumber, code = "PU", at = now },
        ];

        var results = await FeedOk(dhl, "dhl", batch);

        Assert.Equal("failed", Status(results, 0));
        Assert.Equal("recorded", Status(results, 1));
        Assert.Empty(await TrackingKindsAsync(broken.OrderId));
        Assert.Equal(["inTransit"], await TrackingKindsAsync(sound.OrderId));

        // Sent again once storage takes it: the failed event is recorded now, the recorded one answers duplicate.
        await fixture.Silo.Storage.ExecuteAsync("DROP TRIGGER refuse_broken_order ON orders; DROP FUNCTION refuse_broken_order();");
        var again = await FeedOk(dhl, "dhl", batch);
        Assert.Equal(["recorded", "duplicate"], new[] { Status(again, 0), Status(again, 1) });
        Assert.Equal(["inTransit"], await TrackingKindsAsync(broken.OrderId));
    }

    [Fact]
    public async Task A_parcel_of_one_sellers_orders_is_recorded_on_each_and_one_named_on_two_sellers_orders_on_neither()
    {
        var combined = "JD" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        var first = await SoldAsync(trackingNumber: combined);
        var second = await SoldAsync(trackingNumber: combined, sellerId: first.SellerId);
        var contested = "JD" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        var genuine = await SoldAsync(trackingNumber: contested);
        var copied = await SoldAsync(trackingNumber: contested);
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        var now = await Advance(TimeSpan.FromMinutes(1));

        var results = await FeedOk(dhl, "dhl",
            new { trackingNumber = combined, code = "OK", at = now },
            new { trackingNumber = contested, code = "OK", at = now });

        Assert.Equal("recorded", Status(results, 0));
        Assert.Equal(new[] { first.OrderId, second.OrderId }.Order(StringComparer.Ordinal), results[0]!["orderIds"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.Equal("delivered", (await Shop.OrderAsync(first.OrderId))["status"]!.GetValue<string>());
        Assert.Equal("delivered", (await Shop.OrderAsync(second.OrderId))["status"]!.GetValue<string>());
        // Another seller's tracking number on an order (a copied one fakes a shipment): neither order is delivered by the feed.
        Assert.Equal("ambiguousTrackingNumber", Status(results, 1));
        Assert.Equal("shipped", (await Shop.OrderAsync(genuine.OrderId))["status"]!.GetValue<string>());
        Assert.Equal("shipped", (await Shop.OrderAsync(copied.OrderId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stalled_shipment_ticket_proposes_a_remedy_from_what_the_order_knows()
    {
        var neverScanned = await SoldAsync();
        var heldAtCustoms = await SoldAsync();
        var dhl = await Shop.KeyAsync("carrier", "dhl");
        Assert.Equal("recorded", Status(await FeedOk(dhl, "dhl",
            new { trackingNumber = heldAtCustoms.TrackingNumber, code = "CD", at = heldAtCustoms.ShippedAt, location = "Frankfurt" }), 0));

        await Advance(TimeSpan.FromDays(20) + TimeSpan.FromMinutes(2));

        async Task<JsonNode> StallTicket(string orderId) => (await Eventually.UntilAsync(
            async () => (await OpenTicketsAsync(orderId)).Where(t => t["kind"]!.GetValue<string>() == "StalledShipment").ToArray(),
            t => t.Length > 0, "the stalled-shipment ticket")).Single();
        var unproven = await StallTicket(neverScanned.OrderId);
        Assert.Equal("proofOfDispatch", unproven["remedy"]!.GetValue<string>());
        Assert.Contains("Proposed remedy:", unproven["description"]!.GetValue<string>());
        Assert.Contains("proof of dispatch", unproven["description"]!.GetValue<string>());
        var customs = await StallTicket(heldAtCustoms.OrderId);
        Assert.Equal("customsFollowUp", customs["remedy"]!.GetValue<string>());
        Assert.Contains("customs", customs["description"]!.GetValue<string>());
        // Other tickets propose none.
        Assert.Null((await OpenTicketsAsync(heldAtCustoms.OrderId)).Single(t => t["kind"]!.GetValue<string>() == "CustomsHold")["remedy"]);
    }
}
