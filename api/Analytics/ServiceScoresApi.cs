using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

/// <param name="GmvMinor">The goods totals of the orders in this currency.</param>
/// <param name="RefundedMinor">What their buyers had back (refunds and compensations, shipping and tax included, so a full refund can pass the goods' total).</param>
/// <param name="RefundedShare">RefundedMinor over GmvMinor; null without GMV.</param>
public sealed record ServiceAmount(string Currency, long GmvMinor, long RefundedMinor, double? RefundedShare);

/// <param name="SellerId">The seller; null for the totals.</param>
/// <param name="Orders">Paid orders created in the window (not awaiting payment, not cancelled).</param>
/// <param name="Refunded">Orders whose buyer had any money back (a refund or a compensation).</param>
/// <param name="Disputes">Orders disputed by their buyer.</param>
/// <param name="DisputesResolved">Disputes ended by the seller's acceptance or a verdict (not withdrawn).</param>
/// <param name="ResolutionHoursP50">Hours from opening to resolution that half the resolved disputes took at most; null without one.</param>
/// <param name="DisputesLost">Disputes a verdict ended by refunding or compensating the buyer (fullRefund, partialRefund, compensate).</param>
/// <param name="SlowDisputes">Disputes not resolved within 72 hours of opening: resolved later, or still open past that now.</param>
/// <param name="Returns">Orders whose buyer asked for a return (however it ended).</param>
/// <param name="Late">Orders not shipped by their ship-by time (the order's late flag).</param>
/// <param name="Score">0 to 100, 100 with no after-sales problem: see the README for the formula.</param>
public sealed record ServiceScoreRow(string? SellerId, long Orders, long Refunded, double RefundRate, IReadOnlyList<ServiceAmount> Amounts,
    long Disputes, double DisputeRate, long DisputesResolved, long DisputesOpen, double? ResolutionHoursP50, double? ResolutionHoursP90,
    long DisputesLost, double DisputeLossRate, long SlowDisputes, double SlowDisputeRate, long Returns, double ReturnRate, long Late, double LateRate,
    double Score);

/// <param name="Totals">Over all the sellers of the window, or the one seller asked for.</param>
/// <param name="Sellers">The page's sellers, worst score first (then by seller id).</param>
/// <param name="SellerCount">How many sellers had orders in the window.</param>
public sealed record ServiceScoresResponse(DateTimeOffset From, DateTimeOffset To, ServiceScoreRow Totals, IReadOnlyList<ServiceScoreRow> Sellers,
    long SellerCount, int Page, int PageSize);

/// <param name="SellerId">The seller; null for the totals.</param>
/// <param name="Orders">Paid orders created in the window (not awaiting payment, not cancelled).</param>
/// <param name="Buyers">Buyers of those orders.</param>
/// <param name="RepeatBuyers">Buyers with two or more of them.</param>
/// <param name="RepeatPurchaseRate">RepeatBuyers over Buyers; null without buyers.</param>
/// <param name="ReturningBuyers">Buyers who had a paid order created before the window: from this seller for a seller's row; from any
/// seller for the totals of all sellers, from the seller asked for otherwise.</param>
/// <param name="ReturningRate">ReturningBuyers over Buyers; null without buyers.</param>
public sealed record RetentionRow(string? SellerId, long Orders, long Buyers, long RepeatBuyers, double? RepeatPurchaseRate, long ReturningBuyers,
    double? ReturningRate);

/// <param name="Sellers">The page's sellers, most buyers first (then by seller id).</param>
public sealed record RetentionResponse(DateTimeOffset From, DateTimeOffset To, RetentionRow Totals, IReadOnlyList<RetentionRow> Sellers,
    long SellerCount, int Page, int PageSize);

/// <summary>
/// After-sales service scores and retention (R-DAT-4), over the paid orders created in a window: per seller and in all. Admins and
/// analysts read any seller's; a seller's or ERP key reads its own seller's only.
/// </summary>
public static class ServiceScoresApi
{
    public const int MaxPageSize = 200;

    public static IEndpointRouteBuilder MapServiceScoresApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/analytics").WithTags("Analytics");
        api.MapGet("/service-scores", Scores).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapGet("/retention", Retention).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        return app;
    }

    private const string FromDescription = "Orders created from this time (default: 30 days before to).";
    private const string ToDescription = "Orders created before this time (default: now); at most 92 days after from.";
    private const string SellerDescription = "Only this seller's orders (a seller's or ERP key: its own, which is also the default).";

    public static async Task<Results<Ok<ServiceScoresResponse>, ValidationProblem, ProblemHttpResult>> Scores(
        [Description(FromDescription)] DateTimeOffset? from, [Description(ToDescription)] DateTimeOffset? to,
        [Description(SellerDescription)] string? sellerId, ClaimsPrincipal user, IOrderQueries queries, TradeClock clock,
        CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var now = clock.GetUtcNow();
        var (window, seller, refused) = ReportWindow.ForSeller(new Validation(), from, to, sellerId, page, pageSize, MaxPageSize, Caller.From(user), now, "read the service figures of");
        if (refused is not null)
        {
            return refused;
        }
        var (start, end) = window ?? throw new InvalidOperationException();
        if (seller.Forbidden is { } forbidden)
        {
            return forbidden;
        }
        var stats = await queries.ServiceStatsAsync(start, end, seller.Id, cancellationToken);
        var rows = stats.Select(s => ServiceScoring.Row(s.SellerId, [s], now))
            .OrderBy(r => r.Score).ThenBy(r => r.SellerId, StringComparer.Ordinal).ToArray();
        return TypedResults.Ok(new ServiceScoresResponse(start, end, ServiceScoring.Row(null, stats, now),
            rows.Skip((page - 1) * pageSize).Take(pageSize).ToArray(), rows.Length, page, pageSize));
    }

    public static async Task<Results<Ok<RetentionResponse>, ValidationProblem, ProblemHttpResult>> Retention(
        [Description(FromDescription)] DateTimeOffset? from, [Description(ToDescription)] DateTimeOffset? to,
        [Description(SellerDescription)] string? sellerId, ClaimsPrincipal user, IOrderQueries queries, TradeClock clock,
        CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var (window, seller, refused) = ReportWindow.ForSeller(new Validation(), from, to, sellerId, page, pageSize, MaxPageSize, Caller.From(user), clock.GetUtcNow(), "read the service figures of");
        if (refused is not null)
        {
            return refused;
        }
        var (start, end) = window ?? throw new InvalidOperationException();
        if (seller.Forbidden is { } forbidden)
        {
            return forbidden;
        }
        var stats = await queries.RetentionAsync(start, end, seller.Id, cancellationToken);
        var rows = stats.Sellers.Select(s => RetentionOf(s.SellerId, s.Counts))
            .OrderByDescending(r => r.Buyers).ThenBy(r => r.SellerId, StringComparer.Ordinal).ToArray();
        return TypedResults.Ok(new RetentionResponse(start, end, RetentionOf(null, stats.Totals),
            rows.Skip((page - 1) * pageSize).Take(pageSize).ToArray(), rows.Length, page, pageSize));
    }

    private static RetentionRow RetentionOf(string? sellerId, RetentionCounts c) => new(sellerId, c.Orders, c.Buyers, c.RepeatBuyers,
        c.Buyers == 0 ? null : ServiceScoring.Rate(c.RepeatBuyers, c.Buyers), c.ReturningBuyers,
        c.Buyers == 0 ? null : ServiceScoring.Rate(c.ReturningBuyers, c.Buyers));
}

/// <summary>
/// The after-sales service score (R-DAT-4): 100 less a weighted sum of six rates over the seller's orders, each 0 to 1, so the
/// score is 0 to 100 (100 with no refund, dispute, return or late shipment):
/// <c>score = 100 × (1 − (0.25·refundRate + 0.20·disputeRate + 0.15·disputeLossRate + 0.10·slowDisputeRate + 0.15·returnRate + 0.15·lateRate))</c>,
/// rounded to one decimal.
/// </summary>
public static class ServiceScoring
{
    public const double RefundWeight = 0.25;
    public const double DisputeWeight = 0.20;
    public const double DisputeLossWeight = 0.15;
    public const double SlowDisputeWeight = 0.10;
    public const double ReturnWeight = 0.15;
    public const double LateWeight = 0.15;

    /// <summary>A dispute resolved later than this after its opening, or open longer now, is slow (the seller's time to answer one).</summary>
    public static readonly TimeSpan SlowAfter = TimeSpan.FromHours(72);

    public static double Score(double refundRate, double disputeRate, double disputeLossRate, double slowDisputeRate, double returnRate, double lateRate) =>
        Math.Round(100 * Math.Clamp(1 - (RefundWeight * refundRate + DisputeWeight * disputeRate + DisputeLossWeight * disputeLossRate
            + SlowDisputeWeight * slowDisputeRate + ReturnWeight * returnRate + LateWeight * lateRate), 0, 1), 1);

    /// <summary>One row of the sums of <paramref name="stats"/>: a seller's (one) or the totals (all).</summary>
    public static ServiceScoreRow Row(string? sellerId, IReadOnlyCollection<SellerServiceStats> stats, DateTimeOffset now)
    {
        long orders = 0, refunded = 0, disputes = 0, lost = 0, returns = 0, late = 0, open = 0, slow = 0;
        var amounts = new SortedDictionary<string, (long Gmv, long Refunded)>(StringComparer.Ordinal);
        var hours = new List<double>();
        foreach (var s in stats)
        {
            orders += s.Orders;
            refunded += s.Refunded;
            disputes += s.Disputes;
            lost += s.DisputesLost;
            returns += s.Returns;
            late += s.Late;
            open += s.Open.Count;
            foreach (var (currency, (gmv, back)) in s.Amounts)
            {
                var sum = amounts.GetValueOrDefault(currency);
                amounts[currency] = (sum.Gmv + gmv, sum.Refunded + back);
            }
            foreach (var (opened, resolved) in s.Resolved)
            {
                hours.Add((resolved - opened).TotalHours);
                if (resolved - opened > SlowAfter) slow++;
            }
            slow += s.Open.Count(opened => now - opened > SlowAfter);
        }
        hours.Sort();
        double refundRate = Rate(refunded, orders), disputeRate = Rate(disputes, orders), lossRate = Rate(lost, orders), slowRate = Rate(slow, orders),
            returnRate = Rate(returns, orders), lateRate = Rate(late, orders);
        return new ServiceScoreRow(sellerId, orders, refunded, refundRate,
            amounts.Select(a => new ServiceAmount(a.Key, a.Value.Gmv, a.Value.Refunded, a.Value.Gmv == 0 ? null : Rate(a.Value.Refunded, a.Value.Gmv))).ToArray(),
            disputes, disputeRate, hours.Count, open, Percentile(hours, 0.5), Percentile(hours, 0.9), lost, lossRate, slow, slowRate, returns, returnRate,
            late, lateRate, Score(refundRate, disputeRate, lossRate, slowRate, returnRate, lateRate));
    }

    /// <summary>The nearest-rank percentile of sorted hours, to a tenth of an hour: the smallest value at least <paramref name="share"/> of them are at most.</summary>
    public static double? Percentile(IReadOnlyList<double> sorted, double share) => sorted.Count == 0
        ? null
        : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(sorted.Count * share) - 1, 0, sorted.Count - 1)], 1);

    public static double Rate(long part, long whole) => whole == 0 ? 0 : Math.Round((double)part / whole, 4);
}
