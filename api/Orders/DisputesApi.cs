using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Inventory;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

public sealed record DisputeOpenRequest(
    [Required][property: Description("notReceived, notAsDescribed, damaged, wrongItem, lateOrFakeTracking or other.")] string? Reason,
    [Required][property: Description("What is wrong, in the buyer's words (up to 2,000 characters).")] string? Description,
    [property: Description("What the buyer asks back, in the order's currency; left out, everything not refunded yet.")] MoneyRequest? Amount,
    [property: Description("Links to what backs the dispute (photos, tracking proof, chat logs): up to 10 http(s) URLs of up to 500 characters.")]
    IReadOnlyList<string?>? Attachments);

public sealed record DisputeEvidenceRequest(
    [Required][property: Description("The statement (up to 2,000 characters).")] string? Note,
    [property: Description("Up to 10 http(s) URLs of up to 500 characters.")] IReadOnlyList<string?>? Attachments);

public sealed record DisputeAnswerRequest(
    [Required][property: Description("accept (the refund the buyer asked for is paid and the dispute ends) or contest (it goes to the platform's arbitration).")]
    string? Decision,
    [property: Description("The seller's answer (up to 2,000 characters); required to contest.")] string? Note);

public sealed record DisputeWithdrawalRequest([property: Description("Why (up to 2,000 characters).")] string? Note);

public sealed record DisputeVerdictRequest(
    [Required][property: Description("fullRefund, partialRefund (with amount), close (in the seller's favour: nothing is refunded) or, for a lateOrFakeTracking dispute, compensate (with compensationPercent: the buyer keeps the goods and is paid that share of the order's value by the seller, from its deposit first).")]
    string? Outcome,
    [property: Description("For partialRefund: the refund, in the order's currency, less than what is still refundable.")] MoneyRequest? Amount,
    [Required][property: Description("The verdict's reasons (up to 2,000 characters).")] string? Note,
    [property: Description("For compensate: the compensation in percent of the order's value, a whole number from 5 to 30 (R-DIS-4).")] int? CompensationPercent = null);

public sealed record InspectionOrderRequest(
    [Required][property: Description("The inspection agency (up to 200 characters).")] string? Inspector,
    [Required][property: Description("The agency's fee, a positive amount in the order's currency; the party the report finds at fault pays it when the verdict is carried out.")]
    MoneyRequest? Fee,
    [property: Description("What to inspect, or why (up to 2,000 characters).")] string? Note);

public sealed record InspectionReportRequest(
    [Required][property: Description("buyerAtFault, sellerAtFault or inconclusive.")] string? Finding,
    [Required][property: Description("The report's summary (up to 2,000 characters).")] string? Summary,
    [Required][property: Description("Links to the report: 1 to 10 http(s) URLs of up to 500 characters.")] IReadOnlyList<string?>? Attachments);

/// <summary>
/// Disputes and their arbitration (R-DIS-1..3): the buyer of a shipped or delivered order opens one; its seller accepts it
/// (the refund asked for is paid) or contests it; contested or unanswered in time, it goes to arbitration, whose verdict is
/// carried out on the order's escrow. Open disputes are on the service-ticket list: the seller's to answer, then the arbitrators'.
/// </summary>
public static class DisputesApi
{
    private const int MaxText = 2_000;
    private const int MaxAttachments = 10;
    private const int MaxUrl = 500;
    private const int MaxInspector = 200;

    public static IEndpointRouteBuilder MapDisputesApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/orders/{orderId}").WithTags("Disputes");
        api.MapPost("/disputes", Open).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapGet("/dispute", Get).RequireAuthorization().ProducesProblems(404);
        api.MapPost("/dispute/evidence", AddEvidence).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapPost("/dispute/answer", Answer).RequireAuthorization(Policies.Sellers).ProducesProblems(403, 404, 409, 422);
        api.MapPost("/dispute/withdrawal", Withdraw).RequireAuthorization().ProducesProblems(403, 404, 409);
        api.MapPost("/dispute/verdict", Decide).RequireAuthorization(Policies.Reviewers).ProducesProblems(403, 404, 409, 422);
        api.MapPost("/dispute/inspection", OrderInspection).RequireAuthorization(Policies.Admins).ProducesProblems(403, 404, 409, 422);
        api.MapPost("/dispute/inspection/report", ReportInspection).RequireAuthorization(Policies.Admins).ProducesProblems(403, 404, 409, 422);
        return app;
    }

    public static async Task<Results<Created<DisputeView>, Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> Open(
        string orderId, DisputeOpenRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var reason = request.Reason is null ? v.Required<DisputeReason>("reason", null) : v.OneOf<DisputeReason>("reason", request.Reason);
        var description = v.RequiredText("description", request.Description, MaxText);
        var amount = Amount(v, "amount", request.Amount);
        var attachments = Attachments(v, request.Attachments);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var result = await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.Open, actor, description, reason, amount, attachments));
        return result.Status switch
        {
            DisputeCommandStatus.Applied => TypedResults.Created($"/api/v1/orders/{orderId}/dispute", result.Dispute),
            DisputeCommandStatus.Existing => TypedResults.Ok(result.Dispute),
            _ => Problem(result),
        };
    }

    public static async Task<Results<Ok<DisputeView>, ProblemHttpResult>> Get(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (_, view) = await OrdersApi.ReadableAsync(orderId, Caller.From(user), grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        return view.Dispute is { } dispute ? TypedResults.Ok(dispute) : Problems.NotFound($"Order '{orderId}' has no dispute.");
    }

    public static async Task<Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> AddEvidence(
        string orderId, DisputeEvidenceRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var note = v.RequiredText("note", request.Note, MaxText);
        var attachments = Attachments(v, request.Attachments);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.AddEvidence, actor, note, Attachments: attachments)));
    }

    public static async Task<Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> Answer(
        string orderId, DisputeAnswerRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        bool? accept = request.Decision?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "accept" => true,
            "contest" => false,
            _ => null,
        };
        if (accept is null) v.Add("decision", "decision is required: accept or contest.");
        var note = accept == false ? v.RequiredText("note", request.Note, MaxText) : v.OptionalText("note", request.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.Respond, actor, note ?? "accepted by the seller", Accept: accept)));
    }

    public static async Task<Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> Withdraw(
        string orderId, DisputeWithdrawalRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var note = v.OptionalText("note", request?.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.Withdraw, actor, note)));
    }

    public static async Task<Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> Decide(
        string orderId, DisputeVerdictRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var outcome = request.Outcome is null ? v.Required<DisputeOutcome>("outcome", null) : v.OneOf<DisputeOutcome>("outcome", request.Outcome);
        var amount = Amount(v, "amount", request.Amount);
        if (outcome == DisputeOutcome.PartialRefund && request.Amount is null) v.Add("amount", "amount is required for a partialRefund.");
        if (outcome is DisputeOutcome.FullRefund or DisputeOutcome.Close or DisputeOutcome.Compensate && request.Amount is not null)
        {
            v.Add("amount", $"amount is only for a partialRefund; a {Validation.CamelCase(outcome.Value.ToString())} takes none.");
        }
        if (outcome == DisputeOutcome.Compensate && request.CompensationPercent is null)
        {
            v.Add("compensationPercent", $"compensationPercent is required for compensate: a whole number from {CompensationRules.MinPercent} to {CompensationRules.MaxPercent}.");
        }
        else if (request.CompensationPercent is not null && outcome is not null and not DisputeOutcome.Compensate)
        {
            v.Add("compensationPercent", $"compensationPercent is only for compensate; a {Validation.CamelCase(outcome.Value.ToString())} takes none.");
        }
        else if (request.CompensationPercent is { } asked && !CompensationRules.IsAllowedPercent(asked))
        {
            v.Add("compensationPercent", $"compensationPercent is a whole number from {CompensationRules.MinPercent} to {CompensationRules.MaxPercent} (R-DIS-4); got {asked}.");
        }
        var note = v.RequiredText("note", request.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.Decide, actor, note, Amount: amount, Outcome: outcome,
            CompensationPercent: request.CompensationPercent)));
    }

    /// <summary>R-DIS-6: an admin orders a third-party inspection of the disputed goods while the dispute is under arbitration.</summary>
    public static async Task<Results<Created<DisputeView>, Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> OrderInspection(
        string orderId, InspectionOrderRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var inspector = v.RequiredText("inspector", request.Inspector, MaxInspector);
        Money? fee = null;
        if (request.Fee is null)
        {
            v.Add("fee", "fee is required: the agency's fee, a positive amount in the order's currency.");
        }
        else
        {
            fee = Amount(v, "fee", request.Fee);
        }
        var note = v.OptionalText("note", request.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var result = await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.OrderInspection, actor, note ?? "", Inspector: inspector, Fee: fee));
        return result.Status switch
        {
            DisputeCommandStatus.Applied => TypedResults.Created($"/api/v1/orders/{orderId}/dispute", result.Dispute),
            DisputeCommandStatus.Existing => TypedResults.Ok(result.Dispute),
            _ => Problem(result),
        };
    }

    /// <summary>R-DIS-6: an admin submits the inspector's report; a verdict waits for it.</summary>
    public static async Task<Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult>> ReportInspection(
        string orderId, InspectionReportRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var finding = request.Finding is null ? v.Required<InspectionFinding>("finding", null) : v.OneOf<InspectionFinding>("finding", request.Finding);
        var summary = v.RequiredText("summary", request.Summary, MaxText);
        if (request.Attachments is null or { Count: 0 })
        {
            v.Add("attachments", "attachments is required: 1 to 10 links to the inspector's report.");
        }
        var attachments = Attachments(v, request.Attachments);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new DisputeCommand(DisputeStep.ReportInspection, actor, summary, Attachments: attachments,
            Finding: finding)));
    }

    private static async Task<DisputeResult> Send(string orderId, ClaimsPrincipal user, IGrainFactory grains, Func<OrderActor, DisputeCommand> command)
    {
        var caller = Caller.From(user);
        if (!Ids.IsValid(orderId))
        {
            return new DisputeResult(DisputeCommandStatus.NotFound, null, $"Order '{orderId}' does not exist.");
        }
        // The order checks that the caller may see it (someone else's order counts as missing) and what the caller may do.
        return await grains.GetGrain<IOrderGrain>(orderId).Dispute(command(new OrderActor(caller.Role, caller.Subject)));
    }

    private static Results<Ok<DisputeView>, ValidationProblem, ProblemHttpResult> Answered(DisputeResult result) =>
        result.Status is DisputeCommandStatus.Applied or DisputeCommandStatus.Existing ? TypedResults.Ok(result.Dispute) : Problem(result);

    private static ProblemHttpResult Problem(DisputeResult result)
    {
        var current = new Dictionary<string, object?>
        {
            ["currentStatus"] = result.OrderStatus is { } status ? Validation.CamelCase(status.ToString()) : null,
        };
        return result.Status switch
        {
            DisputeCommandStatus.NotFound => Problems.NotFound(result.Reason!),
            DisputeCommandStatus.Forbidden => Problems.Forbidden(result.Reason!),
            DisputeCommandStatus.Conflict => Problems.Conflict(result.Reason!, current),
            _ => Problems.Unprocessable(result.Reason!, current),
        };
    }

    private const long MaxAmountMinor = 1_000_000_000_000;

    internal static Money? Amount(Validation v, string field, MoneyRequest? amount)
    {
        if (amount is null)
        {
            return null;
        }
        v.Currency($"{field}.currency", amount.Currency);
        // Bounded as every amount the API takes: an inspection fee near long.MaxValue overflowed the verdict's sums (a 500).
        var valid = amount.AmountMinor is > 0 and <= MaxAmountMinor;
        if (!valid) v.Add($"{field}.amountMinor", $"{field}.amountMinor is required: a positive amount of at most {MaxAmountMinor} minor units.");
        return valid && amount.Currency is not null ? new Money(amount.AmountMinor!.Value, amount.Currency) : null;
    }

    internal static IReadOnlyList<string> Attachments(Validation v, IReadOnlyList<string?>? attachments)
    {
        if (attachments is null)
        {
            return [];
        }
        if (attachments.Count > MaxAttachments)
        {
            v.Add("attachments", $"attachments holds at most {MaxAttachments} links.");
            return [];
        }
        for (var i = 0; i < attachments.Count; i++)
        {
            var link = attachments[i];
            if (link is null || link.Length > MaxUrl || !Uri.TryCreate(link, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("https" or "http"))
            {
                v.Add($"attachments[{i}]", $"attachments[{i}] must be an absolute http(s) URL of at most {MaxUrl} characters.");
            }
        }
        return attachments.Select(a => a!).ToArray();
    }
}
