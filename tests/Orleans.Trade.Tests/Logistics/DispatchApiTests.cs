using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Logistics;

/// <summary>
/// A seller's batch dispatch over real HTTP on PostgreSQL (R-LOG-4): a day's parcels confirmed in one request, each order shipped
/// as the single-order endpoint ships it and answered on its own; a whole-body problem ships nothing.
/// </summary>
public sealed class DispatchApiTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private sealed record Seller(string SellerId, string SkuId, HttpClient Key);

    private async Task<Seller> SellerAsync(string role = "seller")
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, stock: [("wh-de", 20)]);
        return new Seller(sellerId, sku, await Shop.KeyAsync(role, sellerId));
    }

    /// <summary>An order of one unit of the seller's SKU; paid unless told not to.</summary>
    private async Task<string> OrderAsync(Seller seller, bool paid = true, HttpClient? buyerKey = null, string? buyerId = null)
    {
        buyerId ??= OrderTestShop.NewId("b");
        var buyer = buyerKey ?? await Shop.KeyAsync("buyer", buyerId);
        var (status, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = seller.SkuId, quantity = 1 }]);
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        if (paid)
        {
            await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        }
        return orderId;
    }

    private static Task<(HttpStatusCode Status, JsonNode? Body)> Dispatch(HttpClient client, string sellerId, params object?[] shipments) =>
        client.PostJsonAsync($"/api/v1/sellers/{sellerId}/shipments", new { shipments });

    private static async Task<JsonNode> DispatchOk(HttpClient client, string sellerId, params object?[] shipments)
    {
        var (status, body) = await Dispatch(client, sellerId, shipments);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!;
    }

    private static string[] Statuses(JsonNode body) => body["results"]!.AsArray().Select(r => r!["status"]!.GetValue<string>()).ToArray();

    private async Task<string> StatusAsync(string orderId) => (await Shop.OrderAsync(orderId))["status"]!.GetValue<string>();

    [Fact]
    public async Task A_mixed_batch_ships_the_orders_that_can_ship_and_answers_each_item_in_request_order()
    {
        var seller = await SellerAsync();
        var other = await SellerAsync();
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var first = await OrderAsync(seller);
        var second = await OrderAsync(seller);
        var shippedBefore = await OrderAsync(seller);
        var typedWrong = await OrderAsync(seller);
        var unpaid = await OrderAsync(seller, paid: false);
        var cancelled = await OrderAsync(seller, paid: false, buyer, buyerId);
        var badField = await OrderAsync(seller);
        var othersOrder = await OrderAsync(other);
        await Shop.ActAsync(seller.Key, shippedBefore, "ship", new { carrier = "DHL", trackingNumber = "JD000000000001" });
        await Shop.ActAsync(seller.Key, typedWrong, "ship", new { carrier = "DHL", trackingNumber = "JD0000000000O2" });
        await Shop.ActAsync(buyer, cancelled, "cancel", new { reason = "changed my mind" });

        var body = await DispatchOk(seller.Key, seller.SellerId,
            new { orderId = first, carrier = "DHL", trackingNumber = " JD100000000001 " },
            new { orderId = shippedBefore, carrier = "DHL", trackingNumber = "JD000000000001" },
            new { orderId = typedWrong, carrier = "DHL", trackingNumber = "JD000000000002" },
            new { orderId = unpaid, carrier = "DHL", trackingNumber = "JD100000000003" },
            new { orderId = cancelled, carrier = "DHL", trackingNumber = "JD100000000004" },
            new { orderId = othersOrder, carrier = "DHL", trackingNumber = "JD100000000005" },
            new { orderId = "no-such-order-01", carrier = "DHL", trackingNumber = "JD100000000006" },
            new { orderId = badField, carrier = "DHL", trackingNumber = "  " },
            null,
            new { orderId = second, carrier = "UPS", trackingNumber = "1Z999AA10123456784" });

        Assert.Equal(["shipped", "alreadyShipped", "corrected", "conflict", "conflict", "notFound", "notFound", "invalid", "invalid", "shipped"], Statuses(body));
        var results = body["results"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 10), results.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal((2, 1, 1, 6), (body["shipped"]!.GetValue<int>(), body["alreadyShipped"]!.GetValue<int>(), body["corrected"]!.GetValue<int>(),
            body["notShipped"]!.GetValue<int>()));
        Assert.Equal("JD100000000001", results[0]!["trackingNumber"]!.GetValue<string>());
        Assert.Equal("JD000000000002", results[2]!["trackingNumber"]!.GetValue<string>());
        Assert.Equal("awaitingPayment", results[3]!["currentStatus"]!.GetValue<string>());
        Assert.Equal("cancelled", results[4]!["currentStatus"]!.GetValue<string>());
        // Another seller's order and no order at all read the same: order ids cannot be probed.
        Assert.Equal(results[5]!["reason"]!.GetValue<string>().Replace(othersOrder, "X"), results[6]!["reason"]!.GetValue<string>().Replace("no-such-order-01", "X"));
        Assert.Null(results[5]!["currentStatus"]);
        Assert.Equal("trackingNumber", results[7]!["field"]!.GetValue<string>());

        var shippedFirst = await Shop.OrderAsync(first);
        Assert.Equal("shipped", shippedFirst["status"]!.GetValue<string>());
        Assert.Equal(("DHL", "JD100000000001"), (shippedFirst["shipment"]!["carrier"]!.GetValue<string>(), shippedFirst["shipment"]!["trackingNumber"]!.GetValue<string>()));
        Assert.Equal("UPS", (await Shop.OrderAsync(second))["shipment"]!["carrier"]!.GetValue<string>());
        Assert.Equal("JD000000000002", (await Shop.OrderAsync(typedWrong))["shipment"]!["trackingNumber"]!.GetValue<string>());
        Assert.Contains("ShipmentCorrected", await Shop.TimelineEventsAsync(typedWrong));
        Assert.Equal("awaitingPayment", await StatusAsync(unpaid));
        Assert.Equal("cancelled", await StatusAsync(cancelled));
        Assert.Equal("awaitingShipment", await StatusAsync(badField));
        Assert.Equal("awaitingShipment", await StatusAsync(othersOrder));
        // Four orders shipped (two by the batch, two before it): their units are sold; the unpaid and the bad one stay reserved.
        var stock = await Eventually.ReadAsync(() => Shop.StockAsync(seller.SkuId), s => s["warehouses"]![0]!["sold"]!.GetValue<long>() == 4, "4 units sold");
        Assert.Equal(2, stock["warehouses"]![0]!["reserved"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_resent_batch_ships_nothing_twice()
    {
        var seller = await SellerAsync("erp");
        var orders = new[] { await OrderAsync(seller), await OrderAsync(seller), await OrderAsync(seller) };
        var batch = orders.Select((o, i) => (object?)new { orderId = o, carrier = "DHL", trackingNumber = $"JD20000000000{i}" }).ToArray();

        var first = await DispatchOk(seller.Key, seller.SellerId, batch);
        var again = await DispatchOk(seller.Key, seller.SellerId, batch);

        Assert.Equal(["shipped", "shipped", "shipped"], Statuses(first));
        Assert.Equal(["alreadyShipped", "alreadyShipped", "alreadyShipped"], Statuses(again));
        Assert.Equal(first["results"]![1]!["shippedAt"]!.GetValue<DateTimeOffset>(), again["results"]![1]!["shippedAt"]!.GetValue<DateTimeOffset>());
        foreach (var order in orders)
        {
            Assert.Single(await Shop.TimelineEventsAsync(order), e => e == "Shipped");
            Assert.DoesNotContain("ShipmentCorrected", await Shop.TimelineEventsAsync(order));
        }
        await Eventually.ReadAsync(() => Shop.StockAsync(seller.SkuId), s => s["warehouses"]![0]!["sold"]!.GetValue<long>() == 3, "3 units sold");
        await Task.Delay(500);
        Assert.Equal(3, (await Shop.StockAsync(seller.SkuId))["warehouses"]![0]!["sold"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_batch_over_the_limit_or_naming_an_order_twice_or_empty_or_not_json_is_refused_whole_and_ships_nothing()
    {
        var seller = await SellerAsync();
        var order = await OrderAsync(seller);
        var other = await OrderAsync(seller);
        var ship = new { orderId = order, carrier = "DHL", trackingNumber = "JD300000000001" };

        var tooMany = await Dispatch(seller.Key, seller.SellerId, Enumerable.Range(0, 1_001).Select(i => (object?)(i == 0 ? ship
            : new { orderId = OrderTestShop.NewId("o"), carrier = "DHL", trackingNumber = $"JD3{i:D11}" })).ToArray());
        var twice = await Dispatch(seller.Key, seller.SellerId, ship, new { orderId = other, carrier = "DHL", trackingNumber = "JD300000000002" },
            new { orderId = order, carrier = "DHL", trackingNumber = "JD300000000003" });
        var empty = await Dispatch(seller.Key, seller.SellerId);
        using var malformed = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/sellers/{seller.SellerId}/shipments")
        {
            Content = new StringContent("{\"shipments\": [{\"orderId\": \"" + order + "\", \"carrier\": \"DHL\", ", System.Text.Encoding.UTF8, "application/json"),
        };
        using var notJson = await seller.Key.SendAsync(malformed);

        Assert.Equal(HttpStatusCode.BadRequest, tooMany.Status);
        Assert.Contains("1000", tooMany.Body!["errors"]!["shipments"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, twice.Status);
        Assert.Contains("shipments[0]", twice.Body!["errors"]!["shipments[2].orderId"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal("application/problem+json", notJson.Content.Headers.ContentType?.MediaType);
        Assert.Equal("awaitingShipment", await StatusAsync(order));
        Assert.Equal("awaitingShipment", await StatusAsync(other));
    }

    [Fact]
    public async Task A_key_of_another_seller_is_refused_403_and_an_admin_ships_for_the_seller()
    {
        var seller = await SellerAsync();
        var other = await SellerAsync("erp");
        var order = await OrderAsync(seller);
        var ship = new { orderId = order, carrier = "DHL", trackingNumber = "JD400000000001" };

        var foreign = await Dispatch(other.Key, seller.SellerId, ship);
        var buyer = await Dispatch(await Shop.KeyAsync("buyer", OrderTestShop.NewId("b")), seller.SellerId, ship);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);
        Assert.Equal(HttpStatusCode.Forbidden, buyer.Status);
        Assert.Equal("awaitingShipment", await StatusAsync(order));
        // An admin acting under another seller's path finds no such order; under the right one, ships it.
        Assert.Equal(["notFound"], Statuses(await DispatchOk(Shop.Admin, other.SellerId, ship)));
        Assert.Equal(["shipped"], Statuses(await DispatchOk(Shop.Admin, seller.SellerId, ship)));
        Assert.Equal("shipped", await StatusAsync(order));
    }

    private async Task<(List<JsonNode> Items, int Pages)> PickListAsync(HttpClient client, string sellerId, int pageSize)
    {
        var items = new List<JsonNode>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var (status, body) = await client.GetJsonAsync($"/api/v1/sellers/{sellerId}/pick-list?pageSize={pageSize}"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
            items.AddRange(body!["items"]!.AsArray().Select(i => i!));
            cursor = body["nextCursor"]?.GetValue<string>();
            pages++;
        }
        while (cursor is not null);
        return (items, pages);
    }

    [Fact]
    public async Task The_pick_list_pages_by_cursor_through_the_orders_awaiting_shipment_with_their_lines_address_and_ship_by()
    {
        var seller = await SellerAsync("erp");
        var toPack = new[] { await OrderAsync(seller), await OrderAsync(seller), await OrderAsync(seller) };
        var unpaid = await OrderAsync(seller, paid: false);
        var shipped = await OrderAsync(seller);
        await Shop.ActAsync(seller.Key, shipped, "ship", new { carrier = "DHL", trackingNumber = "JD500000000001" });
        await Eventually.UntilAsync(async () => (await PickListAsync(seller.Key, seller.SellerId, 2)).Items.Count, n => n == 3, "3 orders to pack");

        var (items, pages) = await PickListAsync(seller.Key, seller.SellerId, 2);

        Assert.Equal(2, pages);
        Assert.Equal(toPack.Order(StringComparer.Ordinal), items.Select(i => i["orderId"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(items, i => i["orderId"]!.GetValue<string>() is var id && (id == unpaid || id == shipped));
        foreach (var item in items)
        {
            Assert.Equal("awaitingShipment", item["status"]!.GetValue<string>());
            Assert.Equal(seller.SkuId, item["lines"]![0]!["skuId"]!.GetValue<string>());
            Assert.Equal("wh-de", item["lines"]![0]!["allocation"]![0]!["warehouseId"]!.GetValue<string>());
            Assert.Equal("DE", item["shipTo"]!["country"]!.GetValue<string>());
            Assert.NotNull(item["deadlines"]!["shipBy"]);
            Assert.False(item["late"]!.GetValue<bool>());
        }
        var (foreign, _) = await (await Shop.KeyAsync("seller", OrderTestShop.NewId("s"))).GetJsonAsync($"/api/v1/sellers/{seller.SellerId}/pick-list");
        var (badCursor, problem) = await seller.Key.GetJsonAsync($"/api/v1/sellers/{seller.SellerId}/pick-list?cursor=yesterday");
        Assert.Equal(HttpStatusCode.Forbidden, foreign);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
        Assert.Equal(HttpStatusCode.BadRequest, (await seller.Key.GetJsonAsync($"/api/v1/sellers/{seller.SellerId}/pick-list?pageSize=101")).Status);
        Assert.NotNull(problem!["errors"]!["cursor"]);

        // Shipped by the batch, they leave the pick list at once: each is read from its order, not only from the list's row.
        await DispatchOk(seller.Key, seller.SellerId, toPack.Select((o, i) => (object?)new { orderId = o, carrier = "DHL", trackingNumber = $"JD60000000000{i}" }).ToArray());
        Assert.Empty((await PickListAsync(seller.Key, seller.SellerId, 100)).Items);
    }
}
