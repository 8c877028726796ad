using System.Text.Json.Nodes;
using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>
/// Deadlines are durable reminders checked against the business clock. Each test has its own silo on PostgreSQL whose business
/// clock the test runs ahead (Clock:AllowTestControl), with reminders ticking every 2 seconds.
/// </summary>
public sealed class OrderDeadlineTests
{
    private static async Task<SiloProcess> StartSilo()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("deadline");
        return await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "deadline-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string>
            {
                ["Clock__AllowTestControl"] = "true",
                ["Orders__DeadlineCheckPeriod"] = "00:00:02",
            });
    }

    private static async Task Advance(OrderTestShop shop, TimeSpan by)
    {
        var (status, body) = await shop.Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = by.TotalSeconds });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
    }

    private static async Task<string[]> EventuallyTimeline(OrderTestShop shop, string orderId, Func<string[], bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            var events = await shop.TimelineEventsAsync(orderId);
            if (done(events) || DateTime.UtcNow > deadline)
            {
                return events;
            }
            await Task.Delay(250);
        }
    }

    private static async Task<(string OrderId, string Sku, HttpClient Buyer)> PlaceOrder(OrderTestShop shop, long onHand = 10, long quantity = 3)
    {
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), stock: [("wh-de", onHand)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity }]);
        Assert.Equal(HttpStatusCode.Created, status);
        return (created!["orders"]![0]!["orderId"]!.GetValue<string>(), sku, buyer);
    }

    [Fact]
    public async Task Unpaid_orders_cancel_after_30_minutes_and_release_stock_once_across_a_restart()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, sku, _) = await PlaceOrder(shop);

        await Advance(shop, TimeSpan.FromMinutes(29));
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal("awaitingPayment", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());

        // Crash, and come back 31 minutes after the order in business time.
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = TimeSpan.FromMinutes(31).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("Cancelled"));
        Assert.Equal(["Placed", "Cancelled"], events);
        Assert.Equal("cancelled", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        await Task.Delay(TimeSpan.FromSeconds(6)); // several more ticks: nothing fires twice
        Assert.Equal(["Placed", "Cancelled"], await shop.TimelineEventsAsync(orderId));
        var stock = await shop.StockAsync(sku);
        Assert.Equal(10, stock["totalAvailable"]!.GetValue<long>());
        Assert.Equal(0, stock["warehouses"]![0]!["reserved"]!.GetValue<long>());
    }

    [Fact]
    public async Task Orders_not_shipped_in_the_handling_time_are_marked_late_once_with_a_48_hour_ticket_across_a_restart()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");

        // The deadline passes while the silo is down: it fires after the restart.
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = (TimeSpan.FromDays(5) + TimeSpan.FromMinutes(1)).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("MarkedLate"));
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "MarkedLate"], events);
        var order = await shop.OrderAsync(orderId);
        Assert.True(order["late"]!.GetValue<bool>());
        Assert.Equal("awaitingShipment", order["status"]!.GetValue<string>());
        var tickets = (await shop.Admin.GetJsonAsync("/api/v1/service-tickets")).Body!.AsArray();
        var ticket = Assert.Single(tickets, t => t!["orderId"]!.GetValue<string>() == orderId)!;
        Assert.Equal("LateShipment", ticket["kind"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromHours(48), ticket["dueAt"]!.GetValue<DateTimeOffset>() - ticket["openedAt"]!.GetValue<DateTimeOffset>());
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Single(await shop.TimelineEventsAsync(orderId), e => e == "MarkedLate");
    }

    [Fact]
    public async Task Customer_service_closes_a_ticket_by_hand_saying_what_it_did_and_only_once()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        await Advance(shop, TimeSpan.FromDays(5) + TimeSpan.FromMinutes(1));
        var ticket = Assert.Single(await Eventually.UntilAsync(() => TicketsOf(shop, orderId), t => t.Length > 0, "the late-shipment ticket"));
        var ticketId = ticket["ticketId"]!.GetValue<string>();
        var analyst = await shop.KeyAsync("analyst", "cs-ana");
        var seller = await shop.KeyAsync("seller", (await shop.OrderAsync(orderId))["sellerId"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Forbidden, (await seller.PostJsonAsync($"/api/v1/service-tickets/{ticketId}/closure", new { note = "done" })).Status);
        var (noNote, problem) = await analyst.PostJsonAsync($"/api/v1/service-tickets/{ticketId}/closure", new { note = " " });
        Assert.Equal(HttpStatusCode.BadRequest, noNote);
        Assert.NotNull(problem!["errors"]!["note"]);
        var (closed, body) = await analyst.PostJsonAsync($"/api/v1/service-tickets/{ticketId}/closure", new { note = "called the seller; ships tomorrow, buyer offered 5%" });

        Assert.True(closed == HttpStatusCode.OK, $"{closed} {body}");
        Assert.Equal("closed", body!["status"]!.GetValue<string>());
        Assert.Equal("analyst:cs-ana", body["closedBy"]!.GetValue<string>());
        Assert.Empty(await TicketsOf(shop, orderId));
        Assert.Equal("analyst:cs-ana|called the seller; ships tomorrow, buyer offered 5%", await silo.Storage.ScalarAsync(
            "SELECT closed_by || '|' || closed_note FROM service_tickets WHERE ticket_id = @id", "id", ticketId));
        Assert.Equal(HttpStatusCode.Conflict, (await analyst.PostJsonAsync($"/api/v1/service-tickets/{ticketId}/closure", new { note = "again" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await analyst.PostJsonAsync("/api/v1/service-tickets/no-such-ticket/closure", new { note = "x" })).Status);
    }

    [Fact]
    public async Task A_pre_order_ships_by_its_promised_date_and_is_not_marked_late_before_it()
    {
        // R-INV-5: its ship-by time was the handling days from payment, so it was marked late, with a ticket, weeks inside the
        // seller's promise (and then never again when the promise itself was missed).
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var promised = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(20));
        var sku = await shop.SkuAsync(OrderTestShop.NewId("s"), preSale: new { quota = 5, promisedShipDate = promised.ToString("yyyy-MM-dd") }, stock: [("wh-de", 0)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();

        var paid = await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");

        var endOfPromisedDay = new DateTimeOffset(promised.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        Assert.Equal(endOfPromisedDay, paid["deadlines"]!["shipBy"]!.GetValue<DateTimeOffset>());
        // Past the handling days (5), inside the promise: not late.
        await Advance(shop, TimeSpan.FromDays(6));
        await Task.Delay(TimeSpan.FromSeconds(5)); // the sweeper runs every 2 seconds
        Assert.DoesNotContain("MarkedLate", await shop.TimelineEventsAsync(orderId));
        // Past the promised date: late, once.
        await Advance(shop, TimeSpan.FromDays(16));
        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("MarkedLate"));
        Assert.Single(events, e => e == "MarkedLate");
    }

    [Fact]
    public async Task Delivered_orders_complete_by_themselves_after_15_days_once_across_a_restart()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        await shop.ActAsync(shop.Admin, orderId, "ship", new { carrier = "Cainiao", trackingNumber = "LP00123456789" });
        await shop.ActAsync(shop.Admin, orderId, "delivery");

        await Advance(shop, TimeSpan.FromDays(14));
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal("delivered", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = (TimeSpan.FromDays(15) + TimeSpan.FromMinutes(1)).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);

        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("Completed"));
        Assert.Equal("Completed", events[^1]);
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Single(await shop.TimelineEventsAsync(orderId), e => e == "Completed");
        var timeline = (await shop.Admin.GetJsonAsync($"/api/v1/orders/{orderId}/timeline")).Body!["entries"]!.AsArray();
        Assert.Equal("system", timeline[^1]!["actor"]!.GetValue<string>());
        Assert.Equal("completed", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
    }

    private static async Task<JsonNode[]> TicketsOf(OrderTestShop shop, string orderId) =>
        (await shop.Admin.GetJsonAsync("/api/v1/service-tickets")).Body!.AsArray().Where(t => t!["orderId"]!.GetValue<string>() == orderId).ToArray()!;

    [Fact]
    public async Task A_shipment_with_no_delivery_event_opens_a_stalled_ticket_after_20_days_and_completes_after_the_60_day_protection_window()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (orderId, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, orderId, "payment-confirmations");
        var shipped = await shop.ActAsync(shop.Admin, orderId, "ship", new { carrier = "China Post", trackingNumber = "RR123456785CN" });
        var shippedAt = shipped["shipment"]!["shippedAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal(shippedAt + TimeSpan.FromDays(60), shipped["deadlines"]!["autoCompleteAt"]!.GetValue<DateTimeOffset>());

        await Advance(shop, TimeSpan.FromDays(19));
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Empty(await TicketsOf(shop, orderId));

        await Advance(shop, TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("ShipmentStalled"));
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped", "ShipmentStalled"], events);
        var ticket = Assert.Single(await Eventually.UntilAsync(() => TicketsOf(shop, orderId), t => t.Length > 0, "the stalled-shipment ticket"));
        Assert.Equal("StalledShipment", ticket["kind"]!.GetValue<string>());
        Assert.Contains("RR123456785CN", ticket["description"]!.GetValue<string>());
        Assert.Equal("shipped", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());

        // The protection window lapses while the silo is down: the order completes after the restart, once.
        silo.Kill();
        silo.ExtraEnvironment["Clock__OffsetSeconds"] = (TimeSpan.FromDays(60) + TimeSpan.FromMinutes(2)).TotalSeconds.ToString();
        await silo.StartAsync();
        shop = new OrderTestShop(silo);
        events = await EventuallyTimeline(shop, orderId, e => e.Contains("Completed"));
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "Shipped", "ShipmentStalled", "Completed"], events);
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(events, await shop.TimelineEventsAsync(orderId));
        // Completed by the lapse of its window, not by a delivery: the stall is not resolved, and its ticket stays open.
        Assert.Single(await TicketsOf(shop, orderId));
        var timeline = (await shop.Admin.GetJsonAsync($"/api/v1/orders/{orderId}/timeline")).Body!["entries"]!.AsArray();
        Assert.Equal("system", timeline[^1]!["actor"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_action_after_a_deadline_the_sweeper_has_not_reached_yet_meets_the_deadlines_action_first()
    {
        // The sweeper comes once a period (here ten minutes, so it does not come during the test): a payment recorded past the
        // payment window made the order paid instead of cancelled, and a seller shipping past the ship-by time escaped the late mark.
        var connectionString = await PostgresServer.CreateDatabaseAsync("deadline");
        await using var silo = await SiloProcess.StartAsync(SiloStorage.Postgres(connectionString), "deadline-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["Clock__AllowTestControl"] = "true", ["Orders__DeadlineCheckPeriod"] = "00:10:00" });
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (unpaid, sku, _) = await PlaceOrder(shop);
        var (paid, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, paid, "payment-confirmations");
        var seller = await shop.KeyAsync("seller", (await shop.OrderAsync(paid))["sellerId"]!.GetValue<string>());

        await Advance(shop, TimeSpan.FromDays(5) + TimeSpan.FromMinutes(1));
        var refused = await shop.ActAsync(shop.Admin, unpaid, "payment-confirmations", expected: HttpStatusCode.Conflict);
        Assert.Equal("cancelled", refused["currentStatus"]!.GetValue<string>());
        Assert.Equal(["Placed", "Cancelled"], await shop.TimelineEventsAsync(unpaid));
        Assert.Equal(0, await shop.ReservedAsync(sku));

        var shipped = await shop.ActAsync(seller, paid, "ship", new { carrier = "DHL", trackingNumber = "JD014600003830" });
        Assert.True(shipped["late"]!.GetValue<bool>());
        Assert.Equal(["Placed", "Paid", "ReleasedToSeller", "MarkedLate", "Shipped"], await shop.TimelineEventsAsync(paid));
    }

    [Fact]
    public async Task A_ticket_leaves_the_open_list_when_its_exception_is_over_the_late_order_shipped_the_stalled_one_delivered()
    {
        // R-ORD-6: tickets stayed open for good, so customer service's list (earliest due first, at most 500) filled with orders
        // long shipped or delivered, and the new exceptions it must act on within 48 hours fell off its end.
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (late, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, late, "payment-confirmations");
        var (stalled, _, _) = await PlaceOrder(shop);
        await shop.ActAsync(shop.Admin, stalled, "payment-confirmations");
        await shop.ActAsync(shop.Admin, stalled, "ship", new { carrier = "DHL", trackingNumber = "JD014600003828" });

        await Advance(shop, TimeSpan.FromDays(20) + TimeSpan.FromMinutes(1));
        var lateTicket = Assert.Single(await Eventually.UntilAsync(() => TicketsOf(shop, late), t => t.Length > 0, "the late-shipment ticket"));
        Assert.Equal("LateShipment", lateTicket["kind"]!.GetValue<string>());
        var stalledTicket = Assert.Single(await Eventually.UntilAsync(() => TicketsOf(shop, stalled), t => t.Length > 0, "the stalled-shipment ticket"));
        Assert.Equal("StalledShipment", stalledTicket["kind"]!.GetValue<string>());

        await shop.ActAsync(shop.Admin, late, "ship", new { carrier = "DHL", trackingNumber = "JD014600003829" });
        Assert.Empty(await TicketsOf(shop, late));
        Assert.Single(await TicketsOf(shop, stalled));
        await shop.ActAsync(await shop.KeyAsync("carrier", "dhl"), stalled, "delivery");
        Assert.Empty(await TicketsOf(shop, stalled));
        // The late flag stays on the order and its list row: the ticket closed, the lateness happened.
        Assert.True((await shop.OrderAsync(late))["late"]!.GetValue<bool>());
    }

    [Fact]
    public async Task An_order_held_for_review_opens_a_ticket_after_a_day_and_is_cancelled_with_its_authorization_voided_after_six_days()
    {
        await using var silo = await StartSilo();
        var shop = new OrderTestShop(silo);
        await shop.WarehousesAsync();
        var (status, policy) = await shop.Admin.PutJsonAsync("/api/v1/risk/policy", new { reviewThreshold = 0, blockThreshold = 101 });
        Assert.True(status == HttpStatusCode.OK, $"{status} {policy}");
        var (orderId, sku, buyer) = await PlaceOrder(shop);
        var (cardStatus, card) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4242 4242 4242 4242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.Equal(HttpStatusCode.Created, cardStatus);
        using var pay = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/orders/{orderId}/payments")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { method = "card", cardToken = card!["token"]!.GetValue<string>() }, options: TradeHttp.Json),
        };
        pay.Headers.Add("Idempotency-Key", OrderTestShop.NewId("pay"));
        using var paid = await buyer.SendAsync(pay);
        var paymentId = JsonNode.Parse(await paid.Content.ReadAsStringAsync())!["paymentId"]!.GetValue<string>();
        var held = await Eventually.ReadAsync(() => shop.OrderAsync(orderId), o => o["status"]!.GetValue<string>() == "riskReview", "the order in review");
        var heldAt = held["updatedAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal(heldAt + TimeSpan.FromDays(1), held["deadlines"]!["reviewDueAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(heldAt + TimeSpan.FromDays(6), held["deadlines"]!["reviewExpiresAt"]!.GetValue<DateTimeOffset>());

        await Advance(shop, TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        var ticket = Assert.Single(await Eventually.UntilAsync(() => TicketsOf(shop, orderId), t => t.Length > 0, "the overdue-review ticket"));
        Assert.Equal("ReviewOverdue", ticket["kind"]!.GetValue<string>());
        Assert.Contains(paymentId, ticket["description"]!.GetValue<string>());
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal("riskReview", (await shop.OrderAsync(orderId))["status"]!.GetValue<string>());
        Assert.Equal("authorized", (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!["status"]!.GetValue<string>());

        await Advance(shop, TimeSpan.FromDays(5));
        var events = await EventuallyTimeline(shop, orderId, e => e.Contains("Cancelled"));
        Assert.Equal(["Placed", "PaymentStarted", "HeldForReview", "Cancelled"], events.Take(4));
        var timeline = (await shop.Admin.GetJsonAsync($"/api/v1/orders/{orderId}/timeline")).Body!["entries"]!.AsArray();
        Assert.Equal("system", timeline[3]!["actor"]!.GetValue<string>());
        await Eventually.ReadAsync(async () => (await shop.Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["status"]!.GetValue<string>() == "voided", "the held authorization to be voided");
        var stock = await Eventually.ReadAsync(() => shop.StockAsync(sku), s => s["warehouses"]![0]!["reserved"]!.GetValue<long>() == 0, "the stock back");
        Assert.Equal(10, stock["totalAvailable"]!.GetValue<long>());
        // One ticket was opened, and it closed with the review the order no longer waits for.
        Assert.Empty(await TicketsOf(shop, orderId));
        Assert.Equal(1L, Convert.ToInt64(await silo.Storage.ScalarAsync(
            "SELECT count(*) FROM service_tickets WHERE order_id = @order AND kind = 'ReviewOverdue' AND status = 'Closed'", "order", orderId)));
        var review = await Eventually.ReadAsync(async () => (await shop.Admin.GetJsonAsync($"/api/v1/risk/reviews/{paymentId}")).Body!["review"]!,
            r => r["status"]!.GetValue<string>() == "withdrawn", "the review to be withdrawn");
        Assert.Contains("not decided within 6 days", review["decisionNote"]!.GetValue<string>());
    }
}
