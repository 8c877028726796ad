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
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Logistics;

public sealed record CarrierTrackingEventRequest(
    [Required][property: Description("The parcel's tracking number, as the seller gave it when shipping (compared by its letters and digits, in any case); up to 64 characters.")]
    string? TrackingNumber,
    [Required][property: Description("The carrier's own status code, read through the carrier's table (Carriers:StatusCodes); up to 64 characters. A code the table does not list is answered unknownCode, not guessed.")]
    string? Code,
    [Required][property: Description("When the carrier saw it, with its offset: not before the order shipped, nor more than 10 minutes ahead of the platform's clock.")]
    DateTimeOffset? At,
    [property: Description("Where (up to 200 characters).")] string? Location,
    [property: Description("The carrier's words (up to 500 characters).")] string? Note);

public sealed record CarrierTrackingBatchRequest(
    [Required][property: Description("1 to 500 events, in any order; each is answered on its own.")]
    IReadOnlyList<CarrierTrackingEventRequest?>? Events);

/// <summary>What became of one event of a carrier's batch.</summary>
public enum CarrierEventStatus
{
    /// <summary>On the order (every order the parcel carries), stored.</summary>
    Recorded,
    /// <summary>The same kind at the same time was recorded before (a replayed event, or another code of the same kind): stored already.</summary>
    Duplicate,
    /// <summary>No order shipped with this carrier under this tracking number (or not any more: its seller corrected it).</summary>
    UnknownTrackingNumber,
    /// <summary>The tracking number is on orders of different sellers (or on too many orders): nothing recorded, customer service decides.</summary>
    AmbiguousTrackingNumber,
    /// <summary>The carrier's table does not list the code: nothing recorded.</summary>
    UnknownCode,
    /// <summary>The order is not in transit any more (completed, closed), or is delivered and the event is later than the delivery.</summary>
    NotShipped,
    /// <summary>A member is wrong (<c>field</c> names it).</summary>
    Invalid,
    /// <summary>Not stored (storage unavailable): send it again; what was recorded answers duplicate.</summary>
    Failed,
}

/// <param name="Index">The event's position in the request, from 0.</param>
/// <param name="Kind">What the carrier's code means, when its table lists it.</param>
/// <param name="OrderIds">The orders the tracking number names (several when one parcel carries several orders of a seller).</param>
/// <param name="CurrentStatus">The order's status, when it is why the event was not recorded.</param>
public sealed record CarrierEventResult(int Index, string? TrackingNumber, string? Code, TrackingEventKind? Kind, CarrierEventStatus Status,
    IReadOnlyList<string>? OrderIds, string? Reason, string? Field, string? CurrentStatus);

public sealed record CarrierTrackingBatchResponse(
    [property: Description("The carrier as its events are matched: the letters and digits of its name, in lower case.")] string Carrier,
    int Recorded,
    int Duplicate,
    [property: Description("Events neither recorded now nor before: see each result's status and reason.")] int NotRecorded,
    IReadOnlyList<CarrierEventResult> Results);

/// <summary>
/// A carrier's tracking feed (R-LOG-5): batches of events under the carrier's own tracking numbers and status codes, each mapped
/// through the carrier's table to a tracking kind, its order found by the tracking number, and recorded as
/// <c>POST /orders/{orderId}/tracking-events</c> records one.
/// </summary>
public static class CarrierFeedApi
{
    public const int MaxEvents = 500;

    /// <summary>Orders one parcel may carry (a seller's combined shipment); a tracking number on more is answered ambiguous.</summary>
    public const int MaxOrdersPerParcel = 20;

    /// <summary>Orders whose events are recorded at once; one order's events are recorded one after another.</summary>
    private const int Parallelism = 16;

    public static IEndpointRouteBuilder MapCarrierFeedApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Logistics")
            .MapPost("/carriers/{carrier}/tracking-events", Record)
            .RequireAuthorization(Policies.CarrierFeeds).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<CarrierTrackingBatchResponse>, ValidationProblem, ProblemHttpResult>> Record(
        [Description("The carrier whose events these are, as its API key's subject names it (royal-mail).")] string carrier,
        CarrierTrackingBatchRequest request, ClaimsPrincipal user, IGrainFactory grains, IOrderQueries queries, CarrierStatusCodes codes,
        CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var carrierKey = carrier.Length <= 64 ? ShipmentKeys.Carrier(carrier) : "";
        if (carrierKey.Length == 0)
        {
            return new Validation().Add("carrier", "carrier must be a carrier's name: 1-64 characters with a letter or digit (royal-mail).").Problem();
        }
        if (caller.Role == Roles.Carrier && (caller.Subject is null || ShipmentKeys.Carrier(caller.Subject) != carrierKey))
        {
            return Problems.Forbidden($"A key of carrier '{caller.Subject}' may not send the events of carrier '{carrier}'.");
        }
        if (!codes.Knows(carrierKey))
        {
            return new Validation().Add("carrier", $"Carrier '{carrier}' has no status-code table: configure {CarrierStatusCodes.Section}:{carrierKey}:<code> = "
                + "inTransit, customs, outForDelivery, exception or delivered.").Problem();
        }
        var events = request.Events;
        if (events is null || events.Count == 0)
        {
            return new Validation().Add("events", "events is required and must hold at least one event.").Problem();
        }
        if (events.Count > MaxEvents)
        {
            return new Validation().Add("events", $"events may hold at most {MaxEvents} events per request; got {events.Count}. Split the batch.").Problem();
        }

        var results = new CarrierEventResult?[events.Count];
        var pending = new List<(int Index, string TrackingKey, TrackingEventKind Kind, string? Location, string? Note)>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e is null)
            {
                results[i] = new CarrierEventResult(i, null, null, null, CarrierEventStatus.Invalid, null, "the event is null.", null, null);
                continue;
            }
            var v = new Validation();
            var trackingNumber = v.RequiredText("trackingNumber", e.TrackingNumber, 64);
            if (trackingNumber is not null && ShipmentKeys.TrackingNumber(trackingNumber).Length == 0)
            {
                v.Add("trackingNumber", "trackingNumber must hold a letter or digit.");
            }
            var code = v.RequiredText("code", e.Code, CarrierStatusCodes.MaxCodeLength);
            v.Required("at", e.At);
            var location = v.OptionalText("location", e.Location, 200);
            var note = v.OptionalText("note", e.Note, 500);
            if (v.FirstError is var (field, rule))
            {
                results[i] = new CarrierEventResult(i, e.TrackingNumber, e.Code, null, CarrierEventStatus.Invalid, null, rule, field, null);
                continue;
            }
            if (codes.Map(carrierKey, code!) is not { } kind)
            {
                results[i] = new CarrierEventResult(i, trackingNumber, code, null, CarrierEventStatus.UnknownCode, null,
                    $"Carrier '{carrierKey}' has no mapping for code '{code}' (configure {CarrierStatusCodes.Section}:{carrierKey}:{code}); nothing was recorded.",
                    "code", null);
                continue;
            }
            pending.Add((i, ShipmentKeys.TrackingNumber(trackingNumber!), kind, location, note));
        }

        // Every tracking number of the batch found in one read; a parcel is one seller's (several of its orders at most).
        var tracked = (await queries.TrackedOrdersAsync(carrierKey, pending.Select(p => p.TrackingKey).Distinct(StringComparer.Ordinal).ToArray(),
                MaxOrdersPerParcel + 1, cancellationToken))
            .GroupBy(t => t.TrackingKey, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        var outcomes = new Dictionary<int, List<(string OrderId, TrackingEventResult? Result)>>();
        var byOrder = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var work = new Dictionary<int, (TrackingEventKind Kind, string? Location, string? Note, string TrackingKey)>();
        foreach (var p in pending)
        {
            var e = events[p.Index]!;
            var orders = tracked.GetValueOrDefault(p.TrackingKey) ?? [];
            if (orders.Length == 0)
            {
                results[p.Index] = new CarrierEventResult(p.Index, e.TrackingNumber!.Trim(), e.Code!.Trim(), p.Kind, CarrierEventStatus.UnknownTrackingNumber, null,
                    $"No order was shipped with carrier '{carrierKey}' under tracking number '{e.TrackingNumber!.Trim()}'.", "trackingNumber", null);
                continue;
            }
            if (orders.Length > MaxOrdersPerParcel || orders.Select(o => o.SellerId).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                // Another seller's tracking number typed on an order (by mistake, or to fake a shipment): whose parcel it is stays
                // for customer service to decide, not the feed (its delivery would deliver both).
                results[p.Index] = new CarrierEventResult(p.Index, e.TrackingNumber!.Trim(), e.Code!.Trim(), p.Kind, CarrierEventStatus.AmbiguousTrackingNumber,
                    orders.Length > MaxOrdersPerParcel ? null : orders.Select(o => o.OrderId).ToArray(),
                    orders.Length > MaxOrdersPerParcel
                        ? $"Tracking number '{e.TrackingNumber!.Trim()}' is on more than {MaxOrdersPerParcel} orders; nothing was recorded."
                        : $"Tracking number '{e.TrackingNumber!.Trim()}' is on orders of different sellers; nothing was recorded.", "trackingNumber", null);
                continue;
            }
            outcomes[p.Index] = [];
            work[p.Index] = (p.Kind, p.Location, p.Note, p.TrackingKey);
            foreach (var order in orders)
            {
                if (!byOrder.TryGetValue(order.OrderId, out var indexes))
                {
                    byOrder[order.OrderId] = indexes = [];
                }
                indexes.Add(p.Index);
            }
        }

        var actor = new OrderActor(caller.Role, caller.Subject);
        await Parallel.ForEachAsync(byOrder, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (order, _) =>
            {
                // One order's events in the carrier's time order (a delivery after the scans before it), each stored before the next.
                foreach (var i in order.Value.OrderBy(i => events[i]!.At!.Value).ThenBy(i => i))
                {
                    var (kind, location, note, trackingKey) = work[i];
                    TrackingEventResult? result;
                    try
                    {
                        result = await grains.GetGrain<IOrderGrain>(order.Key)
                            .RecordTracking(new TrackingEventCommand(actor, kind, events[i]!.At!.Value, location, note, trackingKey));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        result = null;
                    }
                    lock (outcomes)
                    {
                        outcomes[i].Add((order.Key, result));
                    }
                }
            });

        foreach (var (i, orders) in outcomes)
        {
            results[i] = Combine(i, events[i]!, work[i].Kind, orders);
        }
        var answered = results.Select(r => r!).ToArray();
        var recorded = answered.Count(r => r.Status == CarrierEventStatus.Recorded);
        var duplicate = answered.Count(r => r.Status == CarrierEventStatus.Duplicate);
        return TypedResults.Ok(new CarrierTrackingBatchResponse(carrierKey, recorded, duplicate, answered.Length - recorded - duplicate, answered));
    }

    /// <summary>
    /// One event's answer from its orders' (one, or each order of a combined parcel): failed when any was not stored (sent again,
    /// the others answer duplicate), recorded when any was recorded, duplicate when all were before, else the first refusal.
    /// </summary>
    private static CarrierEventResult Combine(int index, CarrierTrackingEventRequest e, TrackingEventKind kind, List<(string OrderId, TrackingEventResult? Result)> orders)
    {
        orders.Sort((a, b) => string.CompareOrdinal(a.OrderId, b.OrderId));
        var orderIds = orders.Select(o => o.OrderId).ToArray();
        var trackingNumber = e.TrackingNumber!.Trim();
        var code = e.Code!.Trim();
        CarrierEventResult Answer(CarrierEventStatus status, string? reason = null, string? field = null, OrderStatus? current = null) =>
            new(index, trackingNumber, code, kind, status, orderIds, reason, field, current is { } c ? Validation.CamelCase(c.ToString()) : null);

        if (orders.FirstOrDefault(o => o.Result is null) is { OrderId: { } failed })
        {
            return Answer(CarrierEventStatus.Failed, $"The event could not be stored on order {failed}; send it again.");
        }
        var refusals = orders.Where(o => o.Result!.Status is not (TrackingEventStatus.Recorded or TrackingEventStatus.Duplicate)).ToArray();
        var others = string.Join(" ", refusals.Select(r => r.Result!.Reason ?? $"Order {r.OrderId} was not found."));
        if (orders.Any(o => o.Result!.Status == TrackingEventStatus.Recorded))
        {
            return Answer(CarrierEventStatus.Recorded, refusals.Length == 0 ? null : others);
        }
        if (refusals.Length == 0)
        {
            return Answer(CarrierEventStatus.Duplicate);
        }
        var first = refusals[0].Result!;
        return first.Status switch
        {
            // Not this carrier's order any more: its seller corrected the shipment between the lookup and the call.
            TrackingEventStatus.NotFound or TrackingEventStatus.Forbidden => Answer(CarrierEventStatus.UnknownTrackingNumber,
                $"No order was shipped with this carrier under tracking number '{trackingNumber}'.", "trackingNumber"),
            TrackingEventStatus.NotShipped => Answer(CarrierEventStatus.NotShipped, others, null, first.CurrentStatus),
            _ => Answer(CarrierEventStatus.Invalid, others, first.Field, first.CurrentStatus),
        };
    }
}
