using System.Net;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Hosting;

/// <summary>Keys that fail verification, counted per client address: past the budget, unverified keys are not even looked up.</summary>
public sealed class FailedAuthenticationTests
{
    [Fact]
    public async Task An_address_past_its_failed_keys_gets_429_without_a_lookup_while_verified_keys_go_on()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "authfail-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["RateLimits__FailedAuthenticationsPerMinute"] = "60",
            ["RateLimits__FailedAuthenticationBurst"] = "3",
        });
        using var admin = silo.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/api-keys")).StatusCode); // verified: cached from now on
        var buyerKey = await TradeHttp.IssueKeyAsync(admin, "buyer", "af-buyer");
        using var guesser = silo.CreateClient("tk_live_0000000000000000_guessedsecretguessedsecret");

        var answers = new List<HttpResponseMessage>();
        var sinceFirstGuess = System.Diagnostics.Stopwatch.StartNew();
        while (answers.Count < 20 && (answers.Count == 0 || answers[^1].StatusCode != HttpStatusCode.TooManyRequests))
        {
            answers.Add(await guesser.GetAsync("/api/v1/buyers/af-buyer/orders"));
        }
        var guessing = sinceFirstGuess.Elapsed.TotalSeconds;

        // The burst's failures are answered 401, then the guesses are refused with 429 until a token comes back (one a second: a
        // slow machine may get a refill, answered 401, between them, so the 401s are bounded by the time the guesses took).
        Assert.All(answers.Take(3), a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
        var unauthorized = answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized);
        Assert.InRange(unauthorized, 3, 3 + (int)Math.Ceiling(guessing));
        var refused = answers[^1];
        TradeHttp.AssertTooManyRequests(refused);
        Assert.Contains("failed verification", await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, await SiloInspection.MetricAsync(admin, "trade_auth_lookups_refused_total"));
        // A key verified before is not held back by the guesses from its address.
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/api-keys")).StatusCode);

        // Once a token has come back, a good key is verified (and costs none); the next guess takes it.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        using var buyer = silo.CreateClient(buyerKey);
        Assert.Equal(HttpStatusCode.OK, (await buyer.GetAsync("/api/v1/buyers/af-buyer/orders")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/buyers/af-buyer/orders")).StatusCode);
        // Guesses go on being refused once the refill is spent: one token a second, however slowly the steps above ran.
        var laterUnauthorized = 1;
        HttpStatusCode later;
        while ((later = (await guesser.GetAsync("/api/v1/buyers/af-buyer/orders")).StatusCode) == HttpStatusCode.Unauthorized && laterUnauthorized < 20)
        {
            laterUnauthorized++;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, later);
        Assert.InRange(unauthorized + laterUnauthorized, 4, 3 + (int)Math.Ceiling(sinceFirstGuess.Elapsed.TotalSeconds));
    }
}

public sealed class FailedAuthenticationConcurrencyTests
{
    [Fact]
    public async Task Guesses_sent_at_once_are_held_to_the_budget_and_the_bootstrap_key_is_never_held_back()
    {
        var storage = SiloStorage.Sqlite(Path.Combine(Path.GetTempPath(), "orleans-trade-tests", Guid.NewGuid().ToString("N"), "trade.db"));
        await using var silo = await SiloProcess.StartAsync(storage, "authburst-" + Guid.NewGuid().ToString("N")[..8], new Dictionary<string, string>
        {
            ["RateLimits__FailedAuthenticationsPerMinute"] = "6",
            ["RateLimits__FailedAuthenticationBurst"] = "3",
        });
        var guessers = Enumerable.Range(0, 24).Select(i => silo.CreateClient($"tk_live_{i:D26}_guessedsecretguessedsecret")).ToArray();

        var answers = await Task.WhenAll(guessers.Select(g => g.GetAsync("/api/v1/buyers/anyone/orders")));

        // Verified at once or not, no more guesses are looked up than the budget holds.
        Assert.InRange(answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized), 1, 3);
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Unauthorized), TradeHttp.AssertTooManyRequests);
        // The operator's bootstrap key, not verified on this silo before, still gets in from the same address.
        using var admin = silo.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/api-keys")).StatusCode);
        foreach (var guesser in guessers)
        {
            guesser.Dispose();
        }
    }
}

/// <summary>The failed-key budget's parts, without a silo.</summary>
public sealed class FailedAuthenticationBudgetTests
{
    [Fact]
    public void A_token_given_back_is_there_again_but_never_beyond_the_burst()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var buckets = new TokenBuckets(time);

        Assert.True(buckets.TryTake("a", 1, 2, out _));
        Assert.True(buckets.TryTake("a", 1, 2, out _));
        Assert.False(buckets.TryTake("a", 1, 2, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(1), wait);
        buckets.GiveBack("a", 2);
        Assert.True(buckets.TryTake("a", 1, 2, out _));
        Assert.False(buckets.TryTake("a", 1, 2, out _));

        time.Advance(TimeSpan.FromSeconds(10));
        buckets.GiveBack("a", 2);
        buckets.GiveBack("unknown", 2); // nothing to give back to
        Assert.Equal(1, buckets.Count);
        Assert.True(buckets.TryTake("a", 1, 2, out _));
        Assert.True(buckets.TryTake("a", 1, 2, out _));
        Assert.False(buckets.TryTake("a", 1, 2, out _));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void An_address_is_counted_as_itself_or_by_its_ipv6_64(string address, string key) =>
        Assert.Equal(key, FailedAuthentications.AddressKey(IPAddress.Parse(address)));
}
