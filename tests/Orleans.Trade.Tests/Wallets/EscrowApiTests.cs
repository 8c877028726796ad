using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;
using Orleans.Trade.Tests.Orders;

namespace Orleans.Trade.Tests.Wallets;

/// <summary>R-ROLE-1 over HTTP on PostgreSQL: payment goes into escrow, completion splits it, cancellation voids it.</summary>
public sealed class EscrowApiTests(OrdersSiloFixture fixture) : IClassFixture<OrdersSiloFixture>
{
    private OrderTestShop Shop => fixture.Shop;

    private static long Posted(JsonNode ledger, string account) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?["posted"]!.GetValue<long>() ?? 0;

    private static long PendingIn(JsonNode ledger, string account) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?["pendingIn"]!.GetValue<long>() ?? 0;

    private async Task<(string OrderId, HttpClient Buyer, HttpClient Seller, string SellerId)> PaidOrder(long priceMinor, int quantity)
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: priceMinor, stock: [("wh-de", 10)]);
        var buyerId = OrderTestShop.NewId("b");
        var buyer = await Shop.KeyAsync("buyer", buyerId);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var (_, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity }]);
        var orderId = created!["orders"]![0]!["orderId"]!.GetValue<string>();
        await Shop.ActAsync(Shop.Admin, orderId, "payment-confirmations");
        return (orderId, buyer, seller, sellerId);
    }

    [Fact]
    public async Task A_completed_order_releases_its_escrow_split_into_commission_and_seller_net()
    {
        var (orderId, buyer, seller, sellerId) = await PaidOrder(priceMinor: 2_500, quantity: 2);
        var held = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(5_950, PendingIn(held, $"escrow:{orderId}")); // goods 50.00 + German VAT collected under IOSS
        Assert.Equal(0, Posted(held, "seller:pending:USD"));

        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "JD1" });
        await Shop.ActAsync(Shop.Admin, orderId, "delivery");
        await Shop.ActAsync(buyer, orderId, "confirm-receipt");

        var released = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(0, PendingIn(released, $"escrow:{orderId}"));
        Assert.Equal(0, Posted(released, $"escrow:{orderId}"));
        Assert.Equal(400, Posted(released, "platform:commission:USD"));     // 8% of the goods, 50.00
        Assert.Equal(950, Posted(released, "tax:payable:DE:USD"));          // 19% VAT for the German tax authority
        Assert.Equal(4_600, Posted(released, "seller:pending:USD"));
        Assert.Equal(-5_950, Posted(released, "psp:clearing:USD"));          // the money came from outside: the books balance
        Assert.Equal(0, released["accounts"]!.AsArray().Sum(a => a!["posted"]!.GetValue<long>()));
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Status);
        var ioss = (await Shop.Admin.GetJsonAsync("/api/v1/tax/ioss-statement")).Body!.AsArray();
        var germany = ioss.Single(r => r!["country"]!.GetValue<string>() == "DE" && r["currency"]!.GetValue<string>() == "USD")!;
        Assert.True(germany["amountMinor"]!.GetValue<long>() >= 950);
        Assert.Equal(HttpStatusCode.Forbidden, (await seller.GetJsonAsync("/api/v1/tax/ioss-statement")).Status);
    }

    [Fact]
    public async Task The_statement_lists_every_ledger_line_of_the_period_as_csv()
    {
        var (orderId, buyer, seller, sellerId) = await PaidOrder(priceMinor: 1_000, quantity: 1);
        await Shop.ActAsync(seller, orderId, "ship", new { carrier = "DHL", trackingNumber = "JD3" });
        await Shop.ActAsync(buyer, orderId, "confirm-receipt");

        using var response = await seller.GetAsync($"/api/v1/sellers/{sellerId}/statement.csv");
        var csv = await response.Content.ReadAsStringAsync();
        using var empty = await seller.GetAsync($"/api/v1/sellers/{sellerId}/statement.csv?from=2001-01-01T00:00:00Z&to=2001-02-01T00:00:00Z");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var rows = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("at,transferId,kind,debitAccount,creditAccount,amountMinor,currency", rows[0]);
        Assert.Equal([$"{orderId}:escrow", $"{orderId}:escrow-post", $"{orderId}:commission", $"{orderId}:tax", $"{orderId}:seller-net"], rows.Skip(1).Select(r => r.Split(',')[1]));
        Assert.Contains($",{orderId}:seller-net,Posted,escrow:{orderId},seller:pending:USD,920,USD", csv);
        Assert.Single((await empty.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries));
        var other = await Shop.KeyAsync("seller", OrderTestShop.NewId("s"));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync($"/api/v1/sellers/{sellerId}/statement.csv")).StatusCode);
        // No seller has an id of that shape: 404, as its ledger answers, not an empty statement.
        using var impossible = await Shop.Admin.GetAsync("/api/v1/sellers/a%20b/statement.csv");
        Assert.Equal(HttpStatusCode.NotFound, impossible.StatusCode);
        Assert.Equal("application/problem+json", impossible.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await Shop.Admin.GetAsync("/api/v1/sellers/a%20b/ledger")).StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_paid_order_voids_its_escrow()
    {
        var (orderId, buyer, seller, sellerId) = await PaidOrder(priceMinor: 1_000, quantity: 1);

        await Shop.ActAsync(buyer, orderId, "cancel", new { reason = "ordered by mistake" });

        var ledger = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(0, PendingIn(ledger, $"escrow:{orderId}"));
        Assert.Equal(0, Posted(ledger, "seller:pending:USD"));
        Assert.Equal(0, Posted(ledger, "psp:clearing:USD"));
    }

    [Fact]
    public async Task The_ledger_lists_order_escrows_a_page_at_a_time_with_their_count_and_total_held()
    {
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 1_000, stock: [("wh-us", 10)]);
        var seller = await Shop.KeyAsync("seller", sellerId);
        var orderIds = new List<string>();
        var buyers = new List<HttpClient>();
        for (var i = 0; i < 3; i++)
        {
            var buyerId = OrderTestShop.NewId("b");
            var buyer = await Shop.KeyAsync("buyer", buyerId);
            buyers.Add(buyer);
            var (_, created) = await OrderTestShop.CheckoutAsync(buyer, buyerId, OrderTestShop.NewId("key"), [new { skuId = sku, quantity = 1 }],
                currency: "USD", shipTo: OrderTestShop.Address("US", "10001"));
            orderIds.Add(created!["orders"]![0]!["orderId"]!.GetValue<string>());
            await Shop.ActAsync(Shop.Admin, orderIds[^1], "payment-confirmations");
        }
        await Shop.ActAsync(buyers[1], orderIds[1], "cancel", new { reason = "changed my mind" });

        var first = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger?escrowLimit=2")).Body!;
        var cursor = first["escrow"]!["nextCursor"]!.GetValue<string>();
        var second = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger?escrowLimit=2&escrowCursor={cursor}")).Body!;

        static string[] Escrows(JsonNode ledger) => ledger["accounts"]!.AsArray().Select(a => a!["accountId"]!.GetValue<string>())
            .Where(id => id.StartsWith("escrow:", StringComparison.Ordinal)).ToArray();
        var expected = orderIds.Select(id => $"escrow:{id}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected[..2], Escrows(first));
        Assert.Equal(expected[2..], Escrows(second));
        Assert.Equal(expected[1], cursor);
        Assert.Null(second["escrow"]!["nextCursor"]);
        // Every page carries the seller's own accounts and the summary over all escrows: three accounts, two still holding.
        var holding = Escrows(first).Sum(id => PendingIn(first, id)) + Escrows(second).Sum(id => PendingIn(second, id));
        Assert.True(holding > 0);
        foreach (var page in new[] { first, second })
        {
            var clearing = page["accounts"]!.AsArray().Single(a => a!["accountId"]!.GetValue<string>() == "psp:clearing:USD")!;
            Assert.Equal(holding, clearing["pendingOut"]!.GetValue<long>());
            Assert.Equal(3, page["escrow"]!["accounts"]!.GetValue<int>());
            var held = Assert.Single(page["escrow"]!["held"]!.AsArray())!;
            Assert.Equal(("USD", holding, 2), (held["currency"]!.GetValue<string>(), held["amountMinor"]!.GetValue<long>(), held["orders"]!.GetValue<int>()));
        }
        var all = (await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(expected, Escrows(all));                                          // 100 a page by default
        Assert.Equal(0, PendingIn(all, $"escrow:{orderIds[1]}"));                       // the cancelled order's escrow was voided

        foreach (var (query, field) in new[]
        {
            ("escrowLimit=0", "escrowLimit"), ("escrowLimit=1001", "escrowLimit"), ("escrowCursor=seller:available:USD", "escrowCursor"),
            ("escrowCursor=escrow:", "escrowCursor"),
        })
        {
            var (status, problem) = await seller.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.NotNull(problem!["errors"]![field]);
        }
    }

    [Fact]
    public async Task An_import_sent_unpaid_whose_payment_an_admin_records_holds_it_in_escrow_and_pays_the_seller_on_completion()
    {
        // R-ROLE-1: money recorded as paid to the platform (outside its provider) is held and released to the seller, as for a
        // checkout's order; only an import paid on its own platform brings no money here.
        var sellerId = OrderTestShop.NewId("s");
        var sku = await Shop.SkuAsync(sellerId, priceMinor: 2_000, stock: [("wh-us", 10)]);
        var erp = await Shop.KeyAsync("erp", sellerId);
        async Task<string> ImportAsync(bool paid)
        {
            var (status, body) = await erp.PostJsonAsync("/api/v1/orders/import", new
            {
                platform = "shopify", externalOrderId = OrderTestShop.NewId("e"), buyerId = "shopify-buyer", currency = "USD", paid,
                shipTo = new { name = "John Doe", line1 = "1 Main St", city = "Springfield", postalCode = "62701", country = "US", phone = "+1 217 555 0100" },
                items = new[] { new { skuId = sku, quantity = 1 } },
            });
            Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
            return body!["orders"]![0]!["orderId"]!.GetValue<string>();
        }
        var unpaid = await ImportAsync(paid: false);
        var paidElsewhere = await ImportAsync(paid: true);

        await Shop.ActAsync(Shop.Admin, unpaid, "payment-confirmations", new { reason = "bank transfer received" });

        var held = (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.Equal(2_000, PendingIn(held, $"escrow:{unpaid}"));
        Assert.Equal(0, PendingIn(held, $"escrow:{paidElsewhere}"));
        await Shop.ActAsync(erp, unpaid, "ship", new { carrier = "UPS", trackingNumber = "1Z1" });
        await Shop.ActAsync(Shop.Admin, unpaid, "delivery");
        await Shop.ActAsync(Shop.Admin, unpaid, "confirm-receipt");
        var released = (await Shop.Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;
        Assert.True(Posted(released, "seller:pending:USD") > 0, released.ToJsonString());
    }
}
