using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Api.Orders;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Logistics;

public sealed record SellerShipmentRequest(
    [Required][property: Description("An order of the seller, awaiting shipment (or shipped, to correct or confirm its tracking).")] string? OrderId,
    [Required][property: Description("The carrier, as on POST /orders/{orderId}/ship (up to 64 characters).")] string? Carrier,
    [Required][property: Description("The parcel's tracking number (up to 64 characters).")] string? TrackingNumber);

public sealed record SellerShipmentsRequest(
    [Required][property: Description("1 to 1,000 shipments, each of a different order; each is answered on its own.")]
    IReadOnlyList<SellerShipmentRequest?>? Shipments);

/// <summary>What became of one shipment of a seller's batch.</summary>
public enum SellerShipmentStatus
{
    /// <summary>The order was awaiting shipment and is shipped now: stored, its reserved stock sold.</summary>
    Shipped,
    /// <summary>The order was shipped before with this carrier and tracking number (a retried batch): nothing changed.</summary>
    AlreadyShipped,
    /// <summary>The order was shipped under another carrier or tracking number, and now carries this one: stored.</summary>
    Corrected,
    /// <summary>No such order of this seller (another seller's order is answered the same way).</summary>
    NotFound,
    /// <summary>The order cannot ship in its status (<c>currentStatus</c>), or its shipment has tracking events and cannot change.</summary>
    Conflict,
    /// <summary>A member is missing or wrong (<c>field</c> names it): nothing done.</summary>
    Invalid,
    /// <summary>Not known to be stored (storage or cluster unavailable): send it again; what was stored answers alreadyShipped.</summary>
    Failed,
}

/// <param name="Index">The shipment's position in the request, from 0.</param>
/// <param name="Carrier">The order's carrier as stored, when it has a shipment.</param>
/// <param name="TrackingNumber">The order's tracking number as stored, when it has a shipment.</param>
/// <param name="ShippedAt">When the order shipped, when it has.</param>
/// <param name="CurrentStatus">The order's status, when it is why the shipment was refused.</param>
public sealed record SellerShipmentResult(int Index, string? OrderId, SellerShipmentStatus Status, string? Carrier, string? TrackingNumber,
    DateTimeOffset? ShippedAt, string? Reason, string? Field, string? CurrentStatus);

public sealed record SellerShipmentsResponse(
    int Shipped,
    int AlreadyShipped,
    int Corrected,
    [property: Description("Shipments neither stored now nor before: see each result's status and reason.")] int NotShipped,
    IReadOnlyList<SellerShipmentResult> Results);

public sealed record PickListResponse(
    [property: Description("The seller's orders awaiting shipment, newest first, each as GET /orders/{orderId} answers it (lines with their warehouse allocation, shipTo, deadlines.shipBy, late). A page may hold fewer than pageSize: an order shipped or cancelled while the page was read is left out.")]
    IReadOnlyList<OrderResponse> Items,
    [property: Description("Pass as cursor for the next page; null on the last page.")] string? NextCursor);

/// <summary>
/// A seller's batch dispatch (R-LOG-4): a day's parcels confirmed in one request, each order shipped as
/// <c>POST /orders/{orderId}/ship</c> ships it, and each answered on its own.
/// </summary>
public static class DispatchApi
{
    /// <summary>Shipments per request: a big seller's day in a few requests, each answered within a few seconds.</summary>
    public const int MaxShipments = 1_000;

    /// <summary>Orders shipped at once: each is a grain call and a database write, which the silo's connection pool shares.</summary>
    private const int Parallelism = 16;

    /// <summary>Orders per pick-list page: each is read from its order, as the batch ships them.</summary>
    public const int MaxPickListPage = 100;

    public static IEndpointRouteBuilder MapDispatchApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/sellers/{sellerId}").WithTags("Logistics");
        api.MapPost("/shipments", Ship).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        api.MapGet("/pick-list", PickList).RequireAuthorization(Policies.CatalogWriters).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<SellerShipmentsResponse>, ValidationProblem, ProblemHttpResult>> Ship(
        string sellerId, SellerShipmentsRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        if (caller.RefusedFor(sellerId, "ship the orders of") is { } forbidden)
        {
            return forbidden;
        }
        var shipments = request.Shipments;
        if (shipments is null || shipments.Count == 0)
        {
            return new Validation().Add("shipments", "shipments is required and must hold at least one shipment.").Problem();
        }
        if (shipments.Count > MaxShipments)
        {
            return new Validation().Add("shipments", $"shipments may hold at most {MaxShipments} per request; got {shipments.Count}. Split the batch.").Problem();
        }
        // The same order twice would race against itself (two tracking numbers: which one wins?): the whole batch is refused.
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicates = new Validation();
        for (var i = 0; i < shipments.Count; i++)
        {
            if (shipments[i]?.OrderId is { } id && !seen.TryAdd(id.Trim(), i))
            {
                duplicates.Add($"shipments[{i}].orderId", $"Order '{id.Trim()}' is also at shipments[{seen[id.Trim()]}]; an order ships once per batch.");
            }
        }
        if (!duplicates.IsValid)
        {
            return duplicates.Problem("The same order appears more than once; nothing was shipped.");
        }

        var results = new SellerShipmentResult?[shipments.Count];
        var pending = new List<(int Index, string OrderId, string Carrier, string TrackingNumber)>();
        for (var i = 0; i < shipments.Count; i++)
        {
            var s = shipments[i];
            if (s is null)
            {
                results[i] = new SellerShipmentResult(i, null, SellerShipmentStatus.Invalid, null, null, null, "the shipment is null.", null, null);
                continue;
            }
            var v = new Validation();
            var orderId = s.OrderId?.Trim();
            if (!Ids.IsValid(orderId)) v.Add("orderId", "orderId is required: an order id.");
            var carrier = v.RequiredText("carrier", s.Carrier, 64);
            var trackingNumber = v.RequiredText("trackingNumber", s.TrackingNumber, 64);
            if (v.FirstError is var (field, rule))
            {
                results[i] = new SellerShipmentResult(i, s.OrderId, SellerShipmentStatus.Invalid, null, null, null, rule, field, null);
                continue;
            }
            pending.Add((i, orderId!, carrier!, trackingNumber!));
        }

        var actor = new OrderActor(caller.Role, caller.Subject);
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (p, _) => results[p.Index] = await ShipOne(p.Index, p.OrderId, p.Carrier, p.TrackingNumber, sellerId, actor, grains));

        var answered = results.Select(r => r!).ToArray();
        var shipped = answered.Count(r => r.Status == SellerShipmentStatus.Shipped);
        var already = answered.Count(r => r.Status == SellerShipmentStatus.AlreadyShipped);
        var corrected = answered.Count(r => r.Status == SellerShipmentStatus.Corrected);
        return TypedResults.Ok(new SellerShipmentsResponse(shipped, already, corrected, answered.Length - shipped - already - corrected, answered));
    }

    /// <summary>One order shipped through <see cref="IOrderGrain.Apply"/>, as the single-order endpoint ships it, and its answer.</summary>
    private static async Task<SellerShipmentResult> ShipOne(int index, string orderId, string carrier, string trackingNumber, string sellerId,
        OrderActor actor, IGrainFactory grains)
    {
        SellerShipmentResult Answer(SellerShipmentStatus status, OrderView? order = null, string? reason = null, string? field = null) =>
            new(index, orderId, status, order?.Shipment?.Carrier, order?.Shipment?.TrackingNumber, order?.Shipment?.ShippedAt, reason, field,
                status == SellerShipmentStatus.Conflict && order is not null ? Validation.CamelCase(order.Status.ToString()) : null);

        var order = grains.GetGrain<IOrderGrain>(orderId);
        OrderView? before;
        TransitionResult result;
        try
        {
            before = await order.Get();
            // Another seller's order (even for an admin acting for this seller) is missing, so order ids cannot be probed.
            if (before is null || before.SellerId != sellerId)
            {
                return Answer(SellerShipmentStatus.NotFound, reason: $"Order '{orderId}' does not exist.", field: "orderId");
            }
            if (await OrdersApi.CarrierRefusalAsync(before, carrier, grains) is { } refusal)
            {
                return Answer(SellerShipmentStatus.Invalid, before, refusal, "carrier");
            }
            result = await order.Apply(new OrderCommand(OrderAction.Ship, actor, null, carrier, trackingNumber));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Answer(SellerShipmentStatus.Failed, reason: $"The shipment of order '{orderId}' could not be confirmed as stored; send it again.");
        }
        return Outcome(before.Shipment, result, carrier, trackingNumber) switch
        {
            SellerShipmentStatus.NotFound => Answer(SellerShipmentStatus.NotFound, reason: $"Order '{orderId}' does not exist.", field: "orderId"),
            SellerShipmentStatus.Conflict => Answer(SellerShipmentStatus.Conflict, result.Order ?? before, result.Reason),
            SellerShipmentStatus.Invalid => Answer(SellerShipmentStatus.Invalid, reason: result.Reason),
            var status => Answer(status, result.Order),
        };
    }

    /// <summary>
    /// What the order's answer to a Ship means for this shipment, given the order's shipment before it (<paramref name="before"/>):
    /// the order answers a first shipment, a retry and a correction alike.
    /// </summary>
    public static SellerShipmentStatus Outcome(Shipment? before, TransitionResult result, string carrier, string trackingNumber) => result.Status switch
    {
        TransitionStatus.Applied when before is { } had && had.Carrier == carrier && had.TrackingNumber == trackingNumber => SellerShipmentStatus.AlreadyShipped,
        // Shipped meanwhile by another request under another number, and corrected by this one: a correction too.
        TransitionStatus.Applied when before is not null || result.Order?.Shipment?.CorrectedAt is not null => SellerShipmentStatus.Corrected,
        TransitionStatus.Applied => SellerShipmentStatus.Shipped,
        TransitionStatus.InvalidTransition => SellerShipmentStatus.Conflict,
        TransitionStatus.Invalid => SellerShipmentStatus.Invalid,
        // Forbidden cannot happen to the order's own seller or an admin; like a missing order, it tells nothing.
        _ => SellerShipmentStatus.NotFound,
    };

    /// <summary>
    /// What is to be packed (R-LOG-4): a page of the seller's orders awaiting shipment, each read from its order for what the
    /// list's row does not hold (lines, address, ship-by); the list's projection gains no column for it.
    /// </summary>
    public static async Task<Results<Ok<PickListResponse>, ValidationProblem, ProblemHttpResult>> PickList(
        string sellerId, ClaimsPrincipal user, IGrainFactory grains, IOrderQueries queries, CancellationToken cancellationToken,
        [Description("Orders per page, 1 to 100.")] int pageSize = 50,
        [Description("The nextCursor of the previous page: the page after it.")] string? cursor = null)
    {
        var caller = Caller.From(user);
        if (caller.RefusedFor(sellerId, "read the pick list of") is { } forbidden)
        {
            return forbidden;
        }
        var v = new Validation();
        v.Range("pageSize", pageSize, 1, MaxPickListPage);
        OrderListCursor? after = null;
        if (cursor is not null && !OrderListCursor.TryParse(cursor, out after))
        {
            v.Add("cursor", "cursor must be the nextCursor of a previous page.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var page = await queries.ListAsync(new OrderListQuery(sellerId, null, OrderStatus.AwaitingShipment, null, null, 1, pageSize, after), cancellationToken);
        var views = new OrderView?[page.Items.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, page.Items.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, _) => views[i] = await grains.GetGrain<IOrderGrain>(page.Items[i].OrderId).Get());
        // An order shipped or cancelled between the list's read and its own is not to be packed.
        var items = views.Where(o => o is not null && o.SellerId == sellerId && o.Status == OrderStatus.AwaitingShipment)
            .Select(o => OrderResponse.From(o!)).ToArray();
        return TypedResults.Ok(new PickListResponse(items, page.Next?.ToString()));
    }
}
