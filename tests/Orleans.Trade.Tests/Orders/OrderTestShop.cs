using System.Net;
using System.Text.Json.Nodes;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Orders;

/// <summary>Builds a small marketplace through the API: warehouses, SKUs with stock, keys; and checks out like a client.</summary>
public sealed class OrderTestShop(SiloProcess silo)
{
    public HttpClient Admin { get; } = silo.CreateClient();

    public static object Address(string country = "DE", string postalCode = "10115") =>
        new { name = "Anna Schmidt", line1 = "Invalidenstr. 1", city = "Berlin", postalCode, country, phone = "+49 30 1234567" };

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    public async Task WarehousesAsync()
    {
        foreach (var (id, country) in new[] { ("wh-de", "DE"), ("wh-cn", "CN"), ("wh-us", "US") })
        {
            var (status, body) = await Admin.PutJsonAsync($"/api/v1/warehouses/{id}", new { name = id, country });
            Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        }
    }

    /// <summary>A SKU of <paramref name="sellerId"/> with the given stock per warehouse; returns its id.</summary>
    public async Task<string> SkuAsync(string sellerId, long priceMinor = 1000, string currency = "USD", object? preSale = null,
        string[]? substitutes = null, string category = "home", params (string Warehouse, long OnHand)[] stock)
    {
        var skuId = NewId("sku");
        var (status, body) = await Admin.PutJsonAsync($"/api/v1/skus/{skuId}", new
        {
            sellerId, title = "Item " + skuId, category, price = new { amountMinor = priceMinor, currency }, weightGrams = 500,
            hsCode = "691200", originCountry = "CN", preSale, substituteSkuIds = substitutes,
        });
        Assert.True(status == HttpStatusCode.Created, $"{status} {body}");
        foreach (var (warehouse, onHand) in stock)
        {
            var put = await Admin.PutJsonAsync($"/api/v1/skus/{skuId}/stock/{warehouse}", new { onHand, version = 1 });
            Assert.Equal(HttpStatusCode.OK, put.Status);
        }
        return skuId;
    }

    public async Task<HttpClient> KeyAsync(string role, string subject) => silo.CreateClient(await TradeHttp.IssueKeyAsync(Admin, role, subject));

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> CheckoutAsync(HttpClient buyer, string buyerId, string key,
        object[] items, string currency = "EUR", object? shipTo = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { buyerId, currency, shipTo = shipTo ?? Address(), items }, options: TradeHttp.Json),
        };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await buyer.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    public async Task<JsonNode> StockAsync(string skuId) => (await Admin.GetJsonAsync($"/api/v1/skus/{skuId}")).Body!["stock"]!;

    public async Task<long> ReservedAsync(string skuId) =>
        (await StockAsync(skuId))["warehouses"]!.AsArray().Sum(w => w!["reserved"]!.GetValue<long>());

    public async Task<JsonNode> OrderAsync(string orderId) => (await Admin.GetJsonAsync($"/api/v1/orders/{orderId}")).Body!;

    public async Task<string[]> TimelineEventsAsync(string orderId) =>
        (await Admin.GetJsonAsync($"/api/v1/orders/{orderId}/timeline")).Body!["entries"]!.AsArray().Select(e => e!["event"]!.GetValue<string>()).ToArray();

    public async Task<JsonNode> ActAsync(HttpClient client, string orderId, string action, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, response) = await client.PostJsonAsync($"/api/v1/orders/{orderId}/{action}", body ?? new { });
        Assert.True(status == expected, $"{action}: expected {expected}, got {status} {response}");
        return response!;
    }

    /// <summary>A checkout in USD to Germany paid inline by a 4242 card the buyer tokenises first; answers the checkout's body (201).</summary>
    public static async Task<JsonNode> CardCheckoutAsync(HttpClient buyer, string buyerId, object[] items)
    {
        var (tokenStatus, token) = await buyer.PostJsonAsync("/api/v1/payment-methods/cards",
            new { number = "4242 4242 4242 4242", expiryMonth = 12, expiryYear = DateTime.UtcNow.Year + 2 });
        Assert.True(tokenStatus == HttpStatusCode.Created, $"{tokenStatus} {token}");
        var (status, created) = await buyer.PostWithKeyAsync("/api/v1/checkout", NewId("key"), new
        {
            buyerId, currency = "USD", shipTo = Address(), items, payment = new { method = "card", cardToken = token!["token"]!.GetValue<string>() },
        });
        Assert.True(status == HttpStatusCode.Created, $"{status} {created}");
        return created!;
    }

    /// <summary>Moves the silo's business clock on (it must run with an adjustable clock); answers the clock (its <c>now</c>).</summary>
    public async Task<JsonNode> AdvanceClockAsync(TimeSpan by)
    {
        var (status, body) = await Admin.PostJsonAsync("/api/v1/admin/clock", new { advanceSeconds = by.TotalSeconds });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        return body!;
    }

    /// <summary>The kinds of the order's open service tickets, in order.</summary>
    public async Task<string[]> OpenTicketKindsAsync(string orderId) =>
        (await Admin.GetJsonAsync($"/api/v1/service-tickets?orderId={orderId}&limit=100")).Body!.AsArray()
            .Select(t => t!["kind"]!.GetValue<string>()).Order().ToArray();

    public async Task<JsonNode> LedgerAsync(string sellerId) => (await Admin.GetJsonAsync($"/api/v1/sellers/{sellerId}/ledger")).Body!;

    public static long LedgerAccount(JsonNode ledger, string account, string field) =>
        ledger["accounts"]!.AsArray().SingleOrDefault(a => a!["accountId"]!.GetValue<string>() == account)?[field]!.GetValue<long>() ?? 0;

    /// <summary>What an escrow release of a USD order split: commission, logistics, tax and the seller's pending net.</summary>
    public static long PostedLegs(JsonNode ledger) =>
        new[] { "platform:commission:USD", "platform:logistics:USD", "seller:pending:USD" }.Sum(a => LedgerAccount(ledger, a, "posted"))
        + ledger["accounts"]!.AsArray().Where(a => a!["accountId"]!.GetValue<string>().StartsWith("tax:payable:", StringComparison.Ordinal))
            .Sum(a => a!["posted"]!.GetValue<long>());

    /// <summary>Waits until the payment shows <paramref name="amount"/> refunded.</summary>
    public Task<JsonNode> RefundedAsync(string paymentId, long amount) =>
        Eventually.ReadAsync(async () => (await Admin.GetJsonAsync($"/api/v1/payments/{paymentId}")).Body!,
            p => p["refunded"]!["amountMinor"]!.GetValue<long>() == amount, $"payment {paymentId} to have {amount} refunded");
}
