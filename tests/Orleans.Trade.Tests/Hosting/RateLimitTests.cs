using System.Net;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>Request limits at the HTTP edge: a buyer is held to its rate, all its keys together; staff keys are not by default.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_buyer_key_past_its_burst_gets_429_with_retry_after_and_is_served_again_once_the_bucket_refills()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "ratelimit-" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string> { ["RateLimits__BuyerPermitsPerSecond"] = "2", ["RateLimits__BuyerBurst"] = "3" });
        using var admin = silo.CreateClient();
        using var buyer = silo.CreateClient(await TradeHttp.IssueKeyAsync(admin, "buyer", "rl-buyer"));
        using var sameBuyersSecondKey = silo.CreateClient(await TradeHttp.IssueKeyAsync(admin, "buyer", "rl-buyer"));
        using var otherBuyer = silo.CreateClient(await TradeHttp.IssueKeyAsync(admin, "buyer", "rl-other"));

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++)
        {
            // The buyer's two keys spend one budget: a second key is not a second limit.
            answers.Add(await (i % 2 == 0 ? buyer : sameBuyersSecondKey).GetAsync("/api/v1/buyers/rl-buyer/orders"));
        }
        // The burst is served (a refill may add one if the loop straddled a second), the rest refused without work.
        var served = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
        Assert.InRange(served, 3, 5);
        var refused = answers.Where(a => a.StatusCode != HttpStatusCode.OK).ToArray();
        Assert.All(refused, TradeHttp.AssertTooManyRequests);
        var problem = System.Text.Json.Nodes.JsonNode.Parse(await refused[0].Content.ReadAsStringAsync())!;
        Assert.Contains("Retry after", problem["detail"]!.GetValue<string>());
        // A ProblemDetails like every other refusal of the API: a type (it had none), a title and the status.
        Assert.Equal("https://tools.ietf.org/html/rfc6585#section-4", problem["type"]?.GetValue<string>());
        Assert.Equal("Too many requests", problem["title"]!.GetValue<string>());
        Assert.Equal(429, problem["status"]!.GetValue<int>());

        // Another buyer's key and the admin's are not held back by that buyer.
        Assert.Equal(HttpStatusCode.OK, (await otherBuyer.GetAsync("/api/v1/buyers/rl-other/orders")).StatusCode);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/buyers/rl-buyer/orders")).StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(HttpStatusCode.OK, (await buyer.GetAsync("/api/v1/buyers/rl-buyer/orders")).StatusCode);
    }
}

/// <summary>The token bucket's arithmetic (a silo's own buckets), on a fake clock.</summary>
public sealed class RateLimitBucketTests
{
    [Fact]
    public void A_key_gets_its_burst_then_one_request_per_period_and_another_key_is_counted_apart()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limits = new Orleans.Trade.Api.Common.TokenBuckets(time);

        Assert.All(Enumerable.Range(0, 3), i => Assert.True(limits.TryTake("k1", 2, 3, out _), $"request {i}"));
        Assert.False(limits.TryTake("k1", 2, 3, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(0.5), wait);
        Assert.True(limits.TryTake("k2", 2, 3, out _));

        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(limits.TryTake("k1", 2, 3, out _));
        Assert.False(limits.TryTake("k1", 2, 3, out _));

        // Idle for long, the bucket is full again but never holds more than the burst.
        time.Advance(TimeSpan.FromHours(1));
        Assert.All(Enumerable.Range(0, 3), i => Assert.True(limits.TryTake("k1", 2, 3, out _), $"request {i}"));
        Assert.False(limits.TryTake("k1", 2, 3, out _));
    }
}
