using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Trade.Api.Auth;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Per-key request limits: a token bucket per buyer API key (<c>RateLimits:BuyerPermitsPerSecond</c>, default 20, refilled
/// continuously, holding up to <c>RateLimits:BuyerBurst</c>, default 40), so one buyer's script cannot take a flash sale's
/// capacity from the others; other roles (platform staff, sellers' ERPs with their bulk API, carriers) are not limited unless
/// <c>RateLimits:OtherPermitsPerSecond</c> is set (burst <c>RateLimits:OtherBurst</c>, default twice that). 0 turns a limit off.
/// Counted on each silo, so a cluster of N silos lets a key through at up to N times the rate. A refused request is a 429
/// ProblemDetails with <c>Retry-After</c>, and does no work. A request of an unlimited key costs a role check: no lock, no
/// shared state (the framework's partitioned limiter takes one lock for every request, even for keys it does not limit).
/// </summary>
public sealed class RateLimits(RateLimits.Settings settings, TimeProvider time)
{
    public sealed record Settings(int BuyerPerSecond, int BuyerBurst, int OtherPerSecond, int OtherBurst)
    {
        public static Settings From(IConfiguration configuration)
        {
            var buyer = Math.Max(0, configuration.GetValue("RateLimits:BuyerPermitsPerSecond", 20));
            var other = Math.Max(0, configuration.GetValue("RateLimits:OtherPermitsPerSecond", 0));
            return new Settings(buyer, Math.Max(buyer, configuration.GetValue("RateLimits:BuyerBurst", buyer * 2)),
                other, Math.Max(other, configuration.GetValue("RateLimits:OtherBurst", other * 2)));
        }
    }

    private readonly TokenBuckets _buckets = new(time);

    public Settings Limits { get; } = settings;

    public static void Add(IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(sp => new RateLimits(Settings.From(configuration), sp.GetRequiredService<TimeProvider>()));

    /// <summary>The middleware (resolved once, not per request); after authentication, since limits are per API key.</summary>
    public Task Enforce(HttpContext context, RequestDelegate next)
    {
        if (context.User.Identity is not { IsAuthenticated: true })
        {
            // Refused by authentication, or open endpoints (health, webhooks signed by the provider): not limited here.
            return next(context);
        }
        var caller = Caller.From(context.User);
        var (perSecond, burst) = caller.Role == Roles.Buyer ? (Limits.BuyerPerSecond, Limits.BuyerBurst) : (Limits.OtherPerSecond, Limits.OtherBurst);
        if (perSecond == 0 || TryTake(caller.KeyId, perSecond, burst, out var retryAfter))
        {
            return next(context);
        }
        return TooManyRequests(context, retryAfter, "This API key sent more than its limit of requests; nothing was done.");
    }

    /// <summary>Takes one token from the key's bucket; when there is none, how long until there is.</summary>
    public bool TryTake(string keyId, int perSecond, int burst, out TimeSpan retryAfter) => _buckets.TryTake(keyId, perSecond, burst, out retryAfter);

    /// <summary>A 429 ProblemDetails with <c>Retry-After</c> in whole seconds (at least 1).</summary>
    public static async Task TooManyRequests(HttpContext context, TimeSpan retryAfter, string detail)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"{detail} Retry after {seconds} s.",
            },
        });
    }
}
