using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Request limits per principal, counted across the cluster: a token bucket per buyer
/// (<c>RateLimits:BuyerPermitsPerSecond</c>, default 20, refilled continuously, holding up to <c>RateLimits:BuyerBurst</c>,
/// default 40), shared by all of that buyer's keys and all silos (<see cref="QuotaLeases"/>), so one buyer's script cannot take
/// a flash sale's capacity from the others however many keys or silos it spreads over; other roles (platform staff, sellers'
/// ERPs with their bulk API, carriers) are not limited unless <c>RateLimits:OtherPermitsPerSecond</c> is set (burst
/// <c>RateLimits:OtherBurst</c>, default twice that), sellers, ERPs and carriers per subject, staff per key. 0 turns a limit
/// off. A refused request is a 429 ProblemDetails with <c>Retry-After</c>, and does no work. A request of an unlimited key
/// costs a role check: no lock, no shared state (the framework's partitioned limiter takes one lock for every request, even for
/// keys it does not limit).
/// </summary>
public sealed class RateLimits(RateLimits.Settings settings, QuotaLeases quotas)
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

    public Settings Limits { get; } = settings;

    public QuotaLeases Quotas { get; } = quotas;

    public static void Add(IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(sp =>
        {
            var grains = sp.GetRequiredService<IGrainFactory>();
            return new RateLimits(Settings.From(configuration), new QuotaLeases(
                (id, want, perSecond, burst) => grains.GetGrain<IRequestQuotaGrain>(id).Lease(want, perSecond, burst),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<RateLimits>()));
        });

    /// <summary>The middleware (resolved once, not per request); after authentication, since limits are per caller.</summary>
    public Task Enforce(HttpContext context, RequestDelegate next)
    {
        if (context.User.Identity is not { IsAuthenticated: true })
        {
            // Refused by authentication, or open endpoints (health, webhooks signed by the provider): not limited here.
            return next(context);
        }
        var caller = Caller.From(context.User);
        var (perSecond, burst) = caller.Role == Roles.Buyer ? (Limits.BuyerPerSecond, Limits.BuyerBurst) : (Limits.OtherPerSecond, Limits.OtherBurst);
        if (perSecond == 0)
        {
            return next(context);
        }
        var verdict = Quotas.TryTakeAsync(caller.BudgetId, perSecond, burst);
        return verdict.IsCompletedSuccessfully ? Answer(verdict.Result, context, next) : AnswerLater(verdict, context, next);
    }

    private static async Task AnswerLater(ValueTask<QuotaLeases.Verdict> verdict, HttpContext context, RequestDelegate next) =>
        await Answer(await verdict, context, next);

    private static Task Answer(QuotaLeases.Verdict verdict, HttpContext context, RequestDelegate next) => verdict.Admitted
        ? next(context)
        : TooManyRequests(context, verdict.RetryAfter, "This caller sent more than its limit of requests; nothing was done.");

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
                // The framework gives the statuses it knows a type; 429 is not among them (RFC 6585 defines it).
                Type = "https://tools.ietf.org/html/rfc6585#section-4",
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"{detail} Retry after {seconds} s.",
            },
        });
    }
}
