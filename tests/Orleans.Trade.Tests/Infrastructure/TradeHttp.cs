using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>Small helpers for calling the API as a client would: JSON in, JSON out.</summary>
public static class TradeHttp
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A refusal by a request limit: 429, a ProblemDetails body, and a Retry-After of at least a second.</summary>
    public static void AssertTooManyRequests(HttpResponseMessage answer)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.True(answer.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {answer.Headers.RetryAfter}");
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(this HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is string raw)
        {
            request.Content = new StringContent(raw, System.Text.Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text));
    }

    public static Task<(HttpStatusCode Status, JsonNode? Body)> PutJsonAsync(this HttpClient client, string path, object body) =>
        client.SendAsync(HttpMethod.Put, path, body);

    public static Task<(HttpStatusCode Status, JsonNode? Body)> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.SendAsync(HttpMethod.Post, path, body);

    /// <summary>POSTs JSON with an <c>Idempotency-Key</c> header.</summary>
    public static async Task<(HttpStatusCode Status, JsonNode? Body)> PostWithKeyAsync(this HttpClient client, string path, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = System.Net.Http.Json.JsonContent.Create(body, options: Json) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    public static Task<(HttpStatusCode Status, JsonNode? Body)> GetJsonAsync(this HttpClient client, string path) =>
        client.SendAsync(HttpMethod.Get, path);

    public static object Sku(string sellerId, int? lowStockThreshold = null, long priceMinor = 1999, string currency = "USD") => new
    {
        sellerId,
        title = "USB-C cable 1m",
        category = "electronics",
        price = new { amountMinor = priceMinor, currency },
        weightGrams = 40,
        hsCode = "8544.42",
        originCountry = "CN",
        lowStockThreshold,
    };

    /// <summary>Registers a warehouse and a SKU of <paramref name="sellerId"/>, as the admin.</summary>
    public static async Task SeedSkuAsync(HttpClient admin, string skuId, string sellerId, string warehouseId = "wh-cn-1", string country = "CN", int? lowStockThreshold = null)
    {
        var (whStatus, whBody) = await admin.PutJsonAsync($"/api/v1/warehouses/{warehouseId}", new { name = "Shenzhen 1", country });
        if (whStatus != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Registering warehouse failed: {whStatus} {whBody}");
        }
        var (status, body) = await admin.PutJsonAsync($"/api/v1/skus/{skuId}", Sku(sellerId, lowStockThreshold));
        if (status is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            throw new InvalidOperationException($"Creating SKU failed: {status} {body}");
        }
    }

    /// <summary>Issues an API key through the admin endpoint and returns it.</summary>
    public static async Task<string> IssueKeyAsync(HttpClient admin, string role, string? subject)
    {
        var (status, body) = await admin.PostJsonAsync("/api/v1/api-keys", new { role, subject, name = $"test {role}" });
        if (status != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Issuing a key failed: {status} {body}");
        }
        return body!["apiKey"]!.GetValue<string>();
    }
}
