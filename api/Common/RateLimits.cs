using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Trade.Api.Auth;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Per-key request limits: a token bucket per buyer API key (<c>RateLimits:BuyerPermitsPerSecond</c>, default 20, refilled
/// every second, holding up to <c>RateLimits:BuyerBurst</c>, default 40), so one buyer's script cannot take a flash sale's
/// capacity from the others; other roles (platform staff, sellers' ERPs with their bulk API, carriers) are not limited unless
/// <c>RateLimits:OtherPermitsPerSecond</c> is set (burst <c>RateLimits:OtherBurst</c>, default twice that). 0 turns a limit off.
/// Counted on each silo, so a cluster of N silos lets a key through at up to N times the rate. A refused request is a 429
/// ProblemDetails with <c>Retry-After</c>, and does no work.
/// </summary>
public static class RateLimits
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

    public static IServiceCollection AddTradeRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = Settings.From(configuration);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, settings));
            o.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                var response = rejected.HttpContext.Response;
                response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                var problems = rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This API key sent more than its limit of requests; nothing was done. Retry after {retryAfter} s.",
                    },
                });
            };
        });
        return services;
    }

    private static RateLimitPartition<string> Partition(HttpContext context, Settings settings)
    {
        if (context.User.Identity is not { IsAuthenticated: true })
        {
            // Refused by authentication or open endpoints (health, webhooks signed by the provider): not limited here.
            return RateLimitPartition.GetNoLimiter("");
        }
        var caller = Caller.From(context.User);
        var (perSecond, burst) = caller.Role == Roles.Buyer ? (settings.BuyerPerSecond, settings.BuyerBurst) : (settings.OtherPerSecond, settings.OtherBurst);
        return perSecond == 0
            ? RateLimitPartition.GetNoLimiter("")
            : RateLimitPartition.GetTokenBucketLimiter(caller.KeyId, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
    }
}
