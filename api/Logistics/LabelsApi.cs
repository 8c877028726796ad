using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Logistics;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Logistics;

public sealed record LabelsRequest(
    [Required][property: Description("1 to 500 orders of the seller, each once; each is answered on its own.")] IReadOnlyList<string?>? OrderIds,
    [property: Description("A registered carrier's id for every order; left out, each order's carrier is the one the seller's carrier rules recommend for it (GET /orders/{orderId}/carrier-options).")]
    string? CarrierId);

/// <summary>What became of one order of a label batch.</summary>
public enum LabelStatus
{
    /// <summary>Booked with the carrier (now, or by an earlier attempt that did not finish) and the order shipped with its tracking number.</summary>
    Labelled,
    /// <summary>The order was labelled and shipped with this label before (a retried batch): nothing booked or changed.</summary>
    AlreadyLabelled,
    /// <summary>The order was shipped without this label (by hand, or its tracking corrected since): reported, not relabelled.</summary>
    AlreadyShipped,
    /// <summary>No such order of this seller (another seller's order is answered the same way).</summary>
    NotFound,
    /// <summary>The order is awaiting payment: nothing booked.</summary>
    NotPaid,
    /// <summary>The order cannot ship in its status (<c>currentStatus</c>: in risk review, cancelled …): nothing booked.</summary>
    Conflict,
    /// <summary>No carrier (or not the one asked for) can take the parcel; <c>reason</c> says why, as the carrier plan does. Nothing booked.</summary>
    CannotTake,
    /// <summary>The carrier refused the booking or did not answer in time (<c>reason</c>): nothing booked or shipped; send it again later.</summary>
    CarrierFailed,
    /// <summary>The order id is missing or malformed.</summary>
    Invalid,
    /// <summary>Not known to be stored (storage or cluster unavailable): send it again; a booking that was stored is reused.</summary>
    Failed,
}

/// <param name="Index">The order's position in the request, from 0.</param>
/// <param name="CarrierId">The label's carrier, when the order has a label.</param>
/// <param name="TrackingNumber">The label's tracking number, or (alreadyShipped) the order's.</param>
/// <param name="CurrentStatus">The order's status, when it is why the order was not labelled.</param>
public sealed record LabelResult(int Index, string? OrderId, LabelStatus Status, string? CarrierId, string? TrackingNumber, DateTimeOffset? ShippedAt,
    string? Reason, string? CurrentStatus);

public sealed record LabelsResponse(
    int Labelled,
    int AlreadyLabelled,
    [property: Description("Orders neither labelled now nor before: see each result's status and reason.")] int NotLabelled,
    IReadOnlyList<LabelResult> Results);

/// <summary>
/// Batch shipping labels (R-LOG-4) through carriers' adapters (R-ROLE-3): each paid order awaiting shipment is booked with its
/// carrier (the one asked for, or the one the seller's rules recommend), its label stored, and the order shipped with the
/// carrier's tracking number as <c>POST /orders/{orderId}/ship</c> ships it; the labels print as one document.
/// </summary>
public static class LabelsApi
{
    /// <summary>Orders per request: each is a carrier booking, which may take a carrier's round trip.</summary>
    public const int MaxOrders = 500;

    /// <summary>Labels per printed document: the order ids fit a URL, and a printer's job stays a few hundred KB.</summary>
    public const int MaxPrinted = 100;

    /// <summary>Orders labelled at once: each is a carrier call and two database writes, which the silo's connection pool shares.</summary>
    private const int Parallelism = 16;

    /// <summary>
    /// A carrier that failed this many bookings of a batch in a row without answering (down or too slow) is not tried for the
    /// batch's other orders: a 500-order batch against a dead carrier answers in one time-out, not 30.
    /// </summary>
    public const int MaxUnansweredPerBatch = 10;

    public static IEndpointRouteBuilder MapLabelsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/sellers/{sellerId}").WithTags("Logistics");
        api.MapPost("/labels", Label).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 422);
        api.MapGet("/labels", Print).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403, 404)
            .Produces(StatusCodes.Status200OK, contentType: ZplContentType, additionalContentTypes: "application/pdf");
        return app;
    }

    public const string ZplContentType = "application/zpl";

    public static async Task<Results<Ok<LabelsResponse>, ValidationProblem, ProblemHttpResult>> Label(
        string sellerId, LabelsRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        if (caller.RefusedFor(sellerId, "label the orders of") is { } forbidden)
        {
            return forbidden;
        }
        var orderIds = request.OrderIds;
        var v = new Validation();
        if (orderIds is null || orderIds.Count == 0)
        {
            v.Add("orderIds", "orderIds is required and must hold at least one order id.");
        }
        else if (orderIds.Count > MaxOrders)
        {
            v.Add("orderIds", $"orderIds may hold at most {MaxOrders} per request; got {orderIds.Count}. Split the batch.");
        }
        if (request.CarrierId is not null) v.Identifier("carrierId", request.CarrierId);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        // The same order twice would book against itself: the whole batch is refused.
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < orderIds!.Count; i++)
        {
            if (orderIds[i]?.Trim() is { Length: > 0 } id && !seen.TryAdd(id, i))
            {
                v.Add($"orderIds[{i}]", $"Order '{id}' is also at orderIds[{seen[id]}]; an order is labelled once per batch.");
            }
        }
        if (!v.IsValid)
        {
            return v.Problem("The same order appears more than once; nothing was labelled.");
        }
        Carrier? asked = null;
        if (request.CarrierId is { } carrierId)
        {
            var catalog = await grains.GetGrain<ICarrierRegistryGrain>(ICarrierRegistryGrain.Key).Get();
            asked = catalog.Carriers.FirstOrDefault(c => c.CarrierId == carrierId);
            if (asked is null)
            {
                return Problems.Unprocessable($"Carrier '{carrierId}' is not registered (GET /api/v1/carriers lists them); nothing was labelled.",
                    new Dictionary<string, object?> { ["field"] = "carrierId" });
            }
        }

        var results = new LabelResult?[orderIds.Count];
        var pending = new List<(int Index, string OrderId)>();
        for (var i = 0; i < orderIds.Count; i++)
        {
            var id = orderIds[i]?.Trim();
            if (Ids.IsValid(id))
            {
                pending.Add((i, id!));
            }
            else
            {
                results[i] = new LabelResult(i, orderIds[i], LabelStatus.Invalid, null, null, null, $"orderIds[{i}] must be an order id.", null);
            }
        }
        var actor = new OrderActor(caller.Role, caller.Subject);
        var unanswered = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (p, _) => results[p.Index] = await LabelOne(p.Index, p.OrderId, sellerId, asked, actor, grains, unanswered));

        var answered = results.Select(r => r!).ToArray();
        var labelled = answered.Count(r => r.Status == LabelStatus.Labelled);
        var already = answered.Count(r => r.Status == LabelStatus.AlreadyLabelled);
        return TypedResults.Ok(new LabelsResponse(labelled, already, answered.Length - labelled - already, answered));
    }

    /// <summary>One order: checked, booked once (or its stored booking reused), then shipped as the single-order endpoint ships it.</summary>
    private static async Task<LabelResult> LabelOne(int index, string orderId, string sellerId, Carrier? asked, OrderActor actor, IGrainFactory grains,
        System.Collections.Concurrent.ConcurrentDictionary<string, int> unanswered)
    {
        LabelResult Answer(LabelStatus status, string? reason = null, ShippingLabel? label = null, OrderView? order = null) =>
            new(index, orderId, status, label?.CarrierId ?? (status == LabelStatus.AlreadyShipped ? order?.Shipment?.Carrier : null),
                label?.TrackingNumber ?? (status == LabelStatus.AlreadyShipped ? order?.Shipment?.TrackingNumber : null),
                order?.Shipment?.ShippedAt, reason,
                status is LabelStatus.Conflict or LabelStatus.NotPaid && order is not null ? Validation.CamelCase(order.Status.ToString()) : null);

        var notFound = $"Order '{orderId}' does not exist.";
        try
        {
            var order = grains.GetGrain<IOrderGrain>(orderId);
            var view = await order.Get();
            // Another seller's order (even for an admin acting for this seller) is missing, so order ids cannot be probed.
            if (view is null || view.SellerId != sellerId)
            {
                return Answer(LabelStatus.NotFound, notFound);
            }
            var labels = grains.GetGrain<IShippingLabelGrain>(orderId);
            var label = await labels.Get();
            if (label is not null)
            {
                if (view.Shipment is { } shipped)
                {
                    return shipped.TrackingNumber == label.TrackingNumber && shipped.Carrier == label.CarrierId
                        ? Answer(LabelStatus.AlreadyLabelled, label: label, order: view)
                        : Answer(LabelStatus.AlreadyShipped, $"Order '{orderId}' shipped under another tracking number than its label's {label.TrackingNumber}.", order: view);
                }
            }
            else if (StatusRefusal(view) is { } refusal)
            {
                return Answer(refusal.Status, refusal.Reason, order: view);
            }

            if (label is null)
            {
                var plan = await grains.GetGrain<ICarrierPlannerGrain>(0).PlanOrder(view);
                var (parcel, cannotTake) = Parcel(view, plan, asked);
                if (parcel is null)
                {
                    return Answer(LabelStatus.CannotTake, cannotTake, order: view);
                }
                if (unanswered.TryGetValue(parcel.CarrierId, out var inARow) && inARow >= MaxUnansweredPerBatch)
                {
                    return Answer(LabelStatus.CarrierFailed,
                        $"Not tried: carrier '{parcel.CarrierId}' left the last {inARow} bookings of this batch unanswered; send the order again later.", order: view);
                }
                var booking = await labels.Book(parcel);
                if (booking.Status == LabelBookingStatus.CarrierUnavailable)
                {
                    unanswered.AddOrUpdate(parcel.CarrierId, 1, (_, n) => n + 1);
                }
                else
                {
                    unanswered.TryRemove(parcel.CarrierId, out _);
                }
                if (booking.Label is not { } booked)
                {
                    return Answer(LabelStatus.CarrierFailed, booking.Reason, order: view);
                }
                label = booked;
            }

            // Read again after the carrier's round trip: an order shipped by hand meanwhile is reported, not corrected to this label.
            LabelResult ShippedMeanwhile(OrderView shippedOrder, Shipment shipped) => Answer(LabelStatus.AlreadyShipped,
                $"Order '{orderId}' was shipped with {shipped.Carrier} {shipped.TrackingNumber} while its label {label.TrackingNumber} was booked; it is not relabelled.",
                order: shippedOrder);
            var current = await order.Get() ?? view;
            if (current.Shipment is { } meanwhile)
            {
                return meanwhile.TrackingNumber == label.TrackingNumber && meanwhile.Carrier == label.CarrierId
                    ? Answer(LabelStatus.AlreadyLabelled, label: label, order: current)
                    : ShippedMeanwhile(current, meanwhile);
            }
            // First shipment only: an order shipped by hand between that read and this call keeps its own shipment.
            var result = await order.Apply(new OrderCommand(OrderAction.Ship, actor, null, label.CarrierId, label.TrackingNumber, FirstShipmentOnly: true));
            return result.Status switch
            {
                TransitionStatus.Applied => Answer(LabelStatus.Labelled, label: label, order: result.Order),
                TransitionStatus.InvalidTransition when result.Order?.Shipment is { } shipped => ShippedMeanwhile(result.Order, shipped),
                TransitionStatus.InvalidTransition => Answer(LabelStatus.Conflict, result.Reason, label, result.Order ?? current),
                TransitionStatus.Invalid => Answer(LabelStatus.Conflict, result.Reason, label, current),
                _ => Answer(LabelStatus.NotFound, notFound),
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Answer(LabelStatus.Failed, $"The label of order '{orderId}' could not be confirmed as stored; send it again.");
        }
    }

    /// <summary>Why an order with no label is not to be labelled in its status; null when it awaits shipment.</summary>
    private static (LabelStatus Status, string Reason)? StatusRefusal(OrderView view) => view.Status switch
    {
        OrderStatus.AwaitingShipment => null,
        OrderStatus.AwaitingPayment => (LabelStatus.NotPaid, $"Order '{view.OrderId}' is awaiting payment."),
        _ when view.Shipment is { } shipped =>
            (LabelStatus.AlreadyShipped, $"Order '{view.OrderId}' was shipped with {shipped.Carrier} {shipped.TrackingNumber} without a label from here; it is not relabelled."),
        _ => (LabelStatus.Conflict, $"Order '{view.OrderId}' cannot ship while {Validation.CamelCase(view.Status.ToString())}."),
    };

    /// <summary>The parcel to book with the carrier asked for or the one the seller's rules recommend; null and why when it cannot be.</summary>
    private static (LabelParcel? Parcel, string? CannotTake) Parcel(OrderView view, CarrierPlan plan, Carrier? asked)
    {
        if (plan.Prohibited.Count > 0)
        {
            return (null, $"{plan.Parcel.Country} prohibits {string.Join(", ", plan.Prohibited.Select(g => Validation.CamelCase(g.ToString())))}, which the order holds: no carrier may take it there.");
        }
        LabelParcel For(string carrierId, string name, CarrierService service) =>
            new(view.OrderId, view.SellerId, carrierId, name, service, view.ShipTo, plan.Parcel.WeightGrams, plan.Parcel.Value);
        if (asked is not null)
        {
            // The seller's rules rank carriers; a carrier named outright is taken whenever it can take the parcel.
            return plan.Hidden.FirstOrDefault(h => h.CarrierId == asked.CarrierId && h.CannotTake) is { } refused
                ? (null, $"Carrier '{asked.CarrierId}' cannot take this order's parcel: {string.Join("; ", refused.Reasons)}.")
                : (For(asked.CarrierId, asked.Name, asked.Service), null);
        }
        if (plan.Recommended is { } best)
        {
            return (For(best.CarrierId, best.Name, best.Service), null);
        }
        var why = plan.Hidden.Where(h => h.CannotTake).Select(h => $"{h.CarrierId}: {string.Join(", ", h.Reasons)}").ToArray();
        return (null, why.Length == 0
            ? "No carrier is registered that the seller's carrier rules pick for this parcel."
            : $"No carrier the seller's rules pick can take this order's parcel ({string.Join("; ", why)}).");
    }

    /// <summary>
    /// The labels of the seller's orders as one document (R-LOG-4), in the order asked: one 4×6 label per order, as ZPL for a
    /// thermal printer or as PDF. Every order must have a label (POST /sellers/{sellerId}/labels); else nothing is printed.
    /// </summary>
    public static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Print(
        string sellerId, ClaimsPrincipal user, IGrainFactory grains,
        [Description("The orders, comma-separated, 1 to 100.")] string? orderIds = null,
        [Description("zpl (the default): ZPL II for 203 dpi thermal printers; pdf: one 4×6 inch page per label.")] string? format = null)
    {
        if (Caller.From(user).RefusedFor(sellerId, "print the labels of") is { } forbidden)
        {
            return forbidden;
        }
        var v = new Validation();
        var ids = (orderIds ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length == 0)
        {
            v.Add("orderIds", "orderIds is required: 1 to 100 order ids, comma-separated.");
        }
        else if (ids.Length > MaxPrinted)
        {
            v.Add("orderIds", $"orderIds may name at most {MaxPrinted} orders per document; got {ids.Length}.");
        }
        else if (ids.FirstOrDefault(id => !Ids.IsValid(id)) is { } bad)
        {
            v.Add("orderIds", $"'{bad}' is not an order id.");
        }
        else if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Length)
        {
            v.Add("orderIds", "orderIds names an order more than once; each label prints once.");
        }
        var pdf = string.Equals(format, "pdf", StringComparison.OrdinalIgnoreCase);
        if (format is not null && !pdf && !string.Equals(format, "zpl", StringComparison.OrdinalIgnoreCase))
        {
            v.Add("format", "format must be zpl or pdf.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var labels = await Task.WhenAll(ids.Select(id => grains.GetGrain<IShippingLabelGrain>(id).Get()));
        var missing = ids.Where((id, i) => labels[i] is not { } label || label.SellerId != sellerId).ToArray();
        if (missing.Length > 0)
        {
            return Problems.NotFound($"No label for order(s) {string.Join(", ", missing)} of seller '{sellerId}': label them first (POST /api/v1/sellers/{sellerId}/labels).");
        }
        return pdf
            ? TypedResults.File(LabelDocuments.Pdf(labels!), "application/pdf", "labels.pdf")
            : TypedResults.File(Encoding.UTF8.GetBytes(LabelDocuments.Zpl(labels!)), ZplContentType, "labels.zpl");
    }
}
