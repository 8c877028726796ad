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
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

public sealed record ReturnLineRequest(
    [Required][property: Description("The order line's SKU.")] string? SkuId,
    [Required][property: Description("Units sent back: 1 to the line's quantity.")] long? Quantity);

public sealed record ReturnRequest(
    [Required][property: Description("noReason (the 15-day no-reason return of eligible categories; the buyer pays the shipping back), notAsDescribed, damaged or wrongItem (the seller pays it with a prepaid label).")]
    string? Reason,
    [Required][property: Description("What is wrong, or why the goods go back (up to 2,000 characters).")] string? Description,
    [property: Description("The units sent back, one entry per line; left out, every unit of every line.")] IReadOnlyList<ReturnLineRequest?>? Lines,
    [property: Description("Links to photos of the goods and the like: up to 10 http(s) URLs of up to 500 characters.")]
    IReadOnlyList<string?>? Attachments);

public sealed record ReturnParcelRequest(
    [Required][property: Description("The carrier (up to 100 characters).")] string? Carrier,
    [Required][property: Description("Its tracking number (up to 100 characters).")] string? TrackingNumber);

public sealed record ReturnAddressRequest(
    [Required][property: Description("Where the goods go back, checked as a shipping address is.")] ShippingAddressRequest? Address,
    [property: Description("The prepaid return label: required when the return is the seller's fault (sellerPaysShipping), as the seller pays the shipping back then.")]
    ReturnParcelRequest? Label,
    [property: Description("For the buyer (up to 2,000 characters).")] string? Note);

public sealed record ReturnShipmentRequest(
    [property: Description("The carrier the goods went back with; left out, the prepaid label's.")] string? Carrier,
    [property: Description("Its tracking number; left out, the prepaid label's.")] string? TrackingNumber);

public sealed record ReturnReceiptRequest(
    [Required][property: Description("accept (the goods came back as expected: the return is refunded now) or reportProblem (not received, not the goods sent, or not resaleable for a no-reason return: an arbitrator decides).")]
    string? Decision,
    [property: Description("The seller's words (up to 2,000 characters); required to report a problem.")] string? Note,
    [property: Description("With accept: a registered warehouse whose stock takes the returned units back (each SKU's on hand there rises by them); left out, stock is the seller's ERP's to report.")]
    string? RestockWarehouseId = null);

public sealed record ReturnWithdrawalRequest([property: Description("Why (up to 2,000 characters).")] string? Note);

public sealed record ReturnVerdictRequest(
    [Required][property: Description("refund (the return's whole amount), partialRefund (with amount) or reject (nothing is refunded).")] string? Outcome,
    [property: Description("For partialRefund: the refund, in the order's currency, less than the return's amount.")] MoneyRequest? Amount,
    [Required][property: Description("The verdict's reasons (up to 2,000 characters).")] string? Note);

/// <summary>
/// Returns (R-DIS-4, R-DIS-5): the buyer of a delivered order asks to send goods back; the seller gives a return address within
/// 48 hours (with a prepaid label when at fault) or the refund is paid without the goods coming back; the buyer sends them; the
/// seller confirms them (refunded at once) or reports a problem (an arbitrator decides). Goods never confirmed are refunded at
/// the end of the receipt window.
/// </summary>
public static class ReturnsApi
{
    private const int MaxText = 2_000;
    private const int MaxParcelText = 100;
    private const int MaxLines = 100;

    public static IEndpointRouteBuilder MapReturnsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/orders/{orderId}").WithTags("Returns");
        api.MapPost("/returns", Request).RequireAuthorization(Policies.Buyers).ProducesProblems(403, 404, 409, 422);
        api.MapGet("/return", Get).RequireAuthorization().ProducesProblems(404);
        api.MapPost("/return/address", GiveAddress).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapPost("/return/shipment", Ship).RequireAuthorization(Policies.Buyers).ProducesProblems(403, 404, 409, 422);
        api.MapPost("/return/receipt", ConfirmReceipt).RequireAuthorization().ProducesProblems(403, 404, 409, 422);
        api.MapPost("/return/withdrawal", Withdraw).RequireAuthorization(Policies.Buyers).ProducesProblems(403, 404, 409);
        api.MapPost("/return/verdict", Decide).RequireAuthorization(Policies.Reviewers).ProducesProblems(403, 404, 409, 422);
        return app;
    }

    public static async Task<Results<Created<ReturnView>, Ok<ReturnView>, ValidationProblem, ProblemHttpResult>> Request(
        string orderId, ReturnRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var reason = request.Reason is null ? v.Required<ReturnReason>("reason", null) : v.OneOf<ReturnReason>("reason", request.Reason);
        var description = v.RequiredText("description", request.Description, MaxText);
        var lines = Lines(v, request.Lines);
        var attachments = DisputesApi.Attachments(v, request.Attachments);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var result = await Send(orderId, user, grains, actor => new ReturnCommand(ReturnStep.Request, actor, description, reason, lines, attachments));
        return result.Status switch
        {
            ReturnCommandStatus.Applied => TypedResults.Created($"/api/v1/orders/{orderId}/return", result.Return),
            ReturnCommandStatus.Existing => TypedResults.Ok(result.Return),
            _ => Problem(result),
        };
    }

    public static async Task<Results<Ok<ReturnView>, ProblemHttpResult>> Get(string orderId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (_, view) = await OrdersApi.ReadableAsync(orderId, Caller.From(user), grains);
        if (view is null)
        {
            return Problems.NotFound($"Order '{orderId}' does not exist.");
        }
        return view.Return is { } r ? TypedResults.Ok(r) : Problems.NotFound($"Order '{orderId}' has no return.");
    }

    public static async Task<Results<Ok<ReturnView>, ValidationProblem, ProblemHttpResult>> GiveAddress(
        string orderId, ReturnAddressRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var address = OrdersApi.ValidateAddress(v, request.Address, "address");
        var label = request.Label is null ? null : Parcel(v, "label", request.Label.Carrier, request.Label.TrackingNumber);
        var note = v.OptionalText("note", request.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new ReturnCommand(ReturnStep.GiveAddress, actor, note, Address: address, Parcel: label)));
    }

    public static async Task<Results<Ok<ReturnView>, ValidationProblem, ProblemHttpResult>> Ship(
        string orderId, ReturnShipmentRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        ReturnParcel? parcel = null;
        if (request is { Carrier: not null } or { TrackingNumber: not null })
        {
            parcel = Parcel(v, "", request.Carrier, request.TrackingNumber);
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new ReturnCommand(ReturnStep.Ship, actor, Parcel: parcel)));
    }

    public static async Task<Results<Ok<ReturnView>, ValidationProblem, ProblemHttpResult>> ConfirmReceipt(
        string orderId, ReturnReceiptRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        bool? accept = request.Decision?.Trim() switch
        {
            "accept" => true,
            "reportProblem" => false,
            _ => null,
        };
        if (accept is null) v.Add("decision", "decision is required: accept or reportProblem.");
        var note = accept == false ? v.RequiredText("note", request.Note, MaxText) : v.OptionalText("note", request.Note, MaxText);
        if (request.RestockWarehouseId is { } warehouse)
        {
            v.Identifier("restockWarehouseId", warehouse);
            if (accept == false) v.Add("restockWarehouseId", "restockWarehouseId goes with accept: goods reported with a problem are not put back into stock.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        if (request.RestockWarehouseId is { } named
            && await grains.GetGrain<Orleans.Trade.Inventory.IWarehouseRegistryGrain>(Orleans.Trade.Inventory.WarehouseRegistry.Key).Find(named) is null)
        {
            return Problems.Unprocessable($"Warehouse '{named}' is not registered; name one of GET /api/v1/warehouses, or leave restockWarehouseId out.",
                new Dictionary<string, object?> { ["field"] = "restockWarehouseId" });
        }
        return Answered(await Send(orderId, user, grains,
            actor => new ReturnCommand(ReturnStep.ConfirmReceipt, actor, note ?? "the goods came back as expected", Accept: accept, WarehouseId: request.RestockWarehouseId)));
    }

    public static async Task<Results<Ok<ReturnView>, ValidationProblem, ProblemHttpResult>> Withdraw(
        string orderId, ReturnWithdrawalRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var note = v.OptionalText("note", request?.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new ReturnCommand(ReturnStep.Withdraw, actor, note)));
    }

    public static async Task<Results<Ok<ReturnView>, ValidationProblem, ProblemHttpResult>> Decide(
        string orderId, ReturnVerdictRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var v = new Validation();
        var outcome = request.Outcome is null ? v.Required<ReturnOutcome>("outcome", null) : v.OneOf<ReturnOutcome>("outcome", request.Outcome);
        var amount = DisputesApi.Amount(v, "amount", request.Amount);
        if (outcome == ReturnOutcome.PartialRefund && request.Amount is null) v.Add("amount", "amount is required for a partialRefund.");
        if (outcome is ReturnOutcome.Refund or ReturnOutcome.Reject && request.Amount is not null)
        {
            v.Add("amount", $"amount is only for a partialRefund; a {Validation.CamelCase(outcome.Value.ToString())} takes none.");
        }
        var note = v.RequiredText("note", request.Note, MaxText);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        return Answered(await Send(orderId, user, grains, actor => new ReturnCommand(ReturnStep.Decide, actor, note, Outcome: outcome, Amount: amount)));
    }

    internal static IReadOnlyList<ReturnLine>? Lines(Validation v, IReadOnlyList<ReturnLineRequest?>? lines, string leftOut = "leave it out to return every unit")
    {
        if (lines is null)
        {
            return null;
        }
        if (lines.Count is 0 or > MaxLines)
        {
            v.Add("lines", $"lines holds 1 to {MaxLines} entries; {leftOut}.");
            return null;
        }
        var result = new ReturnLine[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i] is not { } line)
            {
                v.Add($"lines[{i}]", $"lines[{i}] must not be null.");
                continue;
            }
            if (!Ids.IsValid(line.SkuId)) v.Add($"lines[{i}].skuId", $"lines[{i}].skuId is required: a SKU id of the order.");
            if (line.Quantity is not >= 1) v.Add($"lines[{i}].quantity", $"lines[{i}].quantity is required: at least 1.");
            result[i] = new ReturnLine(line.SkuId ?? "", line.Quantity ?? 0);
        }
        return result;
    }

    private static ReturnParcel? Parcel(Validation v, string prefix, string? carrier, string? trackingNumber)
    {
        var at = prefix.Length == 0 ? "" : prefix + ".";
        var c = v.RequiredText($"{at}carrier", carrier, MaxParcelText);
        var t = v.RequiredText($"{at}trackingNumber", trackingNumber, MaxParcelText);
        return c is null || t is null ? null : new ReturnParcel(c, t);
    }

    private static async Task<ReturnResult> Send(string orderId, ClaimsPrincipal user, IGrainFactory grains, Func<OrderActor, ReturnCommand> command)
    {
        var caller = Caller.From(user);
        if (!Ids.IsValid(orderId))
        {
            return new ReturnResult(ReturnCommandStatus.NotFound, null, $"Order '{orderId}' does not exist.");
        }
        // The order checks that the caller may see it (someone else's order counts as missing) and what the caller may do.
        return await grains.GetGrain<IOrderGrain>(orderId).Return(command(new OrderActor(caller.Role, caller.Subject)));
    }

    private static Results<Ok<ReturnView>, ValidationProblem, ProblemHttpResult> Answered(ReturnResult result) =>
        result.Status is ReturnCommandStatus.Applied or ReturnCommandStatus.Existing ? TypedResults.Ok(result.Return) : Problem(result);

    private static ProblemHttpResult Problem(ReturnResult result)
    {
        var extensions = new Dictionary<string, object?>
        {
            ["currentStatus"] = result.OrderStatus is { } status ? Validation.CamelCase(status.ToString()) : null,
        };
        if (result.Field is { } field)
        {
            extensions["field"] = field;
        }
        return result.Status switch
        {
            ReturnCommandStatus.NotFound => Problems.NotFound(result.Reason!),
            ReturnCommandStatus.Forbidden => Problems.Forbidden(result.Reason!),
            ReturnCommandStatus.Conflict => Problems.Conflict(result.Reason!, extensions),
            _ => Problems.Unprocessable(result.Reason!, extensions),
        };
    }
}
