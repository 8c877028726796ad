using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>Seeding and checking through the product's HTTP API with the admin key (never on the measured path).</summary>
public sealed class TradeApiClient(Uri baseAddress, string apiKey) : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http = Create(baseAddress, apiKey);

    private static HttpClient Create(Uri baseAddress, string apiKey)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(5),
        };
        http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return http;
    }

    public Task<(HttpStatusCode Status, JsonNode? Body)> PutAsync(string path, object body) => SendAsync(HttpMethod.Put, path, body);

    public Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    public Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    /// <summary>Sends and insists on one of <paramref name="expected"/>; anything else stops the scenario with the answer.</summary>
    public async Task<JsonNode?> MustAsync(HttpMethod method, string path, object? body, params HttpStatusCode[] expected)
    {
        var (status, answer) = await SendAsync(method, path, body);
        return expected.Contains(status) ? answer : throw new InvalidOperationException($"{method} {path}: {(int)status} {answer?.ToJsonString()}");
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text));
    }

    public void Dispose() => _http.Dispose();
}
