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
}
