using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Payments;
using Orleans.Trade.Risk;

namespace Orleans.Trade.Api.Risk;

public sealed record ReviewDecisionRequest([Required] string? Decision, [Required] string? Note);

public sealed record RiskReviewListResponse(IReadOnlyList<RiskReviewView> Items, long Total, int Page, int PageSize);

/// <summary>A review with the payment it holds.</summary>
public sealed record RiskReviewDetail(RiskReviewView Review, Payments.PaymentResponse? Payment);

public sealed record RiskPolicyRequest(
    [Required] int? ReviewThreshold,
    [Required] int? BlockThreshold,
    IReadOnlyList<string>? BlockedBuyers,
    IReadOnlyList<string>? BlockedCardFingerprints,
    IReadOnlyList<string>? BlockedDevices,
    IReadOnlyList<string>? BlockedIps,
    int? MaxPaymentsPerCardPerHour,
    int? MaxPaymentsPerBuyerPerHour);

/// <summary>The analysts' review queue and the risk policy (R-PAY-5, R-ORD-3); analysts and admins only.</summary>
public static class RiskApi
{
    private const int MaxPageSize = 100;
    private const int MaxListEntries = 10_000;

    public static IEndpointRouteBuilder MapRiskApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/risk").WithTags("Risk");
        api.MapGet("/reviews", List).RequireAuthorization(Policies.Reviewers).ProducesProblems(403);
        api.MapGet("/reviews/{reviewId}", Get).RequireAuthorization(Policies.Reviewers).ProducesProblems(403, 404);
        api.MapPost("/reviews/{reviewId}/claim", Claim).RequireAuthorization(Policies.Reviewers).ProducesProblems(403, 404, 409);
        api.MapPost("/reviews/{reviewId}/decision", Decide).RequireAuthorization(Policies.Reviewers).ProducesProblems(403, 404, 409);
        api.MapGet("/policy", GetPolicy).RequireAuthorization(Policies.Reviewers).ProducesProblems(403);
        api.MapPut("/policy", SetPolicy).RequireAuthorization(Policies.Admins).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<RiskReviewListResponse>, ValidationProblem>> List(IRiskReviewQueries queries, TradeClock clock,
        CancellationToken cancellationToken, string? status = null, int? minScore = null, int? maxScore = null, int? minAgeMinutes = null, int page = 1, int pageSize = 20)
    {
        var v = new Validation();
        var parsed = v.OneOf<RiskReviewStatus>("status", status);
        v.Range("minScore", minScore, 0, 100);
        v.Range("maxScore", maxScore, 0, 100);
        v.Range("minAgeMinutes", minAgeMinutes, 0, 525_600);
        v.Range("page", page, 1, 100_000);
        v.Range("pageSize", pageSize, 1, MaxPageSize);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        // Reviews are opened on the business clock: their age is counted on it too.
        var olderThan = minAgeMinutes is { } age ? clock.GetUtcNow().AddMinutes(-age) : (DateTimeOffset?)null;
        var result = await queries.ListAsync(new RiskReviewQuery(parsed, minScore, maxScore, olderThan, page, pageSize), cancellationToken);
        return TypedResults.Ok(new RiskReviewListResponse(result.Items, result.Total, page, pageSize));
    }

    public static async Task<Results<Ok<RiskReviewDetail>, ProblemHttpResult>> Get(string reviewId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var review = Ids.IsValid(reviewId) ? await grains.GetGrain<IRiskReviewGrain>(reviewId).Get() : null;
        if (review is null)
        {
            return Problems.NotFound($"Review '{reviewId}' does not exist.");
        }
        var payment = await grains.GetGrain<IPaymentGrain>(review.Opening.PaymentId).Get();
        return TypedResults.Ok(new RiskReviewDetail(review, payment is null ? null : Payments.PaymentResponse.From(payment, Caller.From(user))));
    }

    public static async Task<Results<Ok<RiskReviewView>, ProblemHttpResult>> Claim(string reviewId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = Caller.From(user);
        if (!Ids.IsValid(reviewId))
        {
            return Problems.NotFound($"Review '{reviewId}' does not exist.");
        }
        return Answer(await grains.GetGrain<IRiskReviewGrain>(reviewId).Claim(caller.Name, caller.IsAdmin));
    }

    public static async Task<Results<Ok<RiskReviewView>, ProblemHttpResult, ValidationProblem>> Decide(string reviewId, ReviewDecisionRequest request,
        ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        if (request.Decision is not ("approve" or "reject")) v.Add("decision", "decision must be approve or reject.");
        if (string.IsNullOrWhiteSpace(request.Note)) v.Add("note", "note is required: say why.");
        else if (request.Note.Length > 2_000) v.Add("note", "note must be at most 2000 characters.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (!Ids.IsValid(reviewId))
        {
            return Problems.NotFound($"Review '{reviewId}' does not exist.");
        }
        var result = await grains.GetGrain<IRiskReviewGrain>(reviewId).Decide(caller.Name, caller.IsAdmin, request.Decision == "approve", request.Note!.Trim());
        return Answer(result).Result switch
        {
            Ok<RiskReviewView> ok => ok,
            ProblemHttpResult problem => problem,
            _ => throw new InvalidOperationException("Unexpected review answer."),
        };
    }

    public static async Task<Ok<RiskPolicy>> GetPolicy(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IRiskPolicyGrain>(IRiskPolicyGrain.Key).Get());

    public static async Task<Results<Ok<RiskPolicy>, ValidationProblem>> SetPolicy(RiskPolicyRequest request, ClaimsPrincipal user, IGrainFactory grains,
        IRiskPolicyCache cache)
    {
        var v = new Validation();
        v.Required("reviewThreshold", request.ReviewThreshold);
        v.Required("blockThreshold", request.BlockThreshold);
        v.Range("reviewThreshold", request.ReviewThreshold, 0, 101);
        v.Range("blockThreshold", request.BlockThreshold, 0, 101);
        if (request.ReviewThreshold > request.BlockThreshold) v.Add("reviewThreshold", "reviewThreshold must not be above blockThreshold.");
        v.Range("maxPaymentsPerCardPerHour", request.MaxPaymentsPerCardPerHour, 1, 100_000);
        v.Range("maxPaymentsPerBuyerPerHour", request.MaxPaymentsPerBuyerPerHour, 1, 100_000);
        foreach (var (name, list) in new[] { ("blockedBuyers", request.BlockedBuyers), ("blockedCardFingerprints", request.BlockedCardFingerprints),
                     ("blockedDevices", request.BlockedDevices), ("blockedIps", request.BlockedIps) })
        {
            if (list is { Count: > MaxListEntries }) v.Add(name, $"{name} holds at most {MaxListEntries} entries.");
            else if (list?.Any(e => string.IsNullOrWhiteSpace(e) || e.Length > 200) == true) v.Add(name, $"{name} entries are 1-200 characters.");
        }
        // Payments are scored with the address in its canonical text (ClientSignals): an entry is compared in that form, and one
        // that is no address at all (a range, a host name) could never match, so it is refused instead of silently never blocking.
        var blockedIps = request.BlockedIps?.Select(ClientSignals.CanonicalIp).ToArray() ?? [];
        if (request.BlockedIps is { Count: <= MaxListEntries } ips && !ips.Any(e => string.IsNullOrWhiteSpace(e) || e.Length > 200)
            && Array.IndexOf(blockedIps, null) is var bad and >= 0)
        {
            v.Add("blockedIps", $"blockedIps entries are single IPv4 or IPv6 addresses; '{ips[bad]}' is not one.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var policy = new RiskPolicy(request.ReviewThreshold!.Value, request.BlockThreshold!.Value, request.BlockedBuyers ?? [],
            request.BlockedCardFingerprints ?? [], request.BlockedDevices ?? [], blockedIps.OfType<string>().ToArray(), request.MaxPaymentsPerCardPerHour,
            request.MaxPaymentsPerBuyerPerHour, 0);
        var saved = await grains.GetGrain<IRiskPolicyGrain>(IRiskPolicyGrain.Key).Set(policy, Caller.From(user).Name);
        cache.Set(saved);
        return TypedResults.Ok(saved);
    }


    private static Results<Ok<RiskReviewView>, ProblemHttpResult> Answer(ReviewActionResult result) => result.Status switch
    {
        ReviewActionStatus.Done => TypedResults.Ok(result.Review!),
        ReviewActionStatus.NotFound => Problems.NotFound(result.Reason!),
        _ => Problems.Conflict(result.Reason!, new Dictionary<string, object?> { ["reviewStatus"] = result.Review is { } review ? Validation.CamelCase(review.Status.ToString()) : null, ["claimedBy"] = result.Review?.ClaimedBy }),
    };
}
