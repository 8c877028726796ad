namespace Orleans.Trade.Orders;

/// <summary>How much tracking an order keeps and shows, and when its parcel last moved (R-LOG-5, R-LOG-6).</summary>
public static class OrderTracking
{
    /// <summary>Tracking events kept per order: the latest by event time (every one is also on the timeline).</summary>
    public const int Kept = 50;

    /// <summary>Events dropped from the kept ones whose kind and time the order still knows, so that one sent again is a duplicate.</summary>
    public const int Remembered = 950;

    /// <summary>The latest events the order's answer shows.</summary>
    public const int ShownInView = 10;

    /// <summary>How far an event's time may be ahead of the platform's clock (the carrier's clock may run a little ahead).</summary>
    public static readonly TimeSpan FutureSkew = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The time of the latest tracking event, or the shipment's (its correction's, when the seller corrected its tracking number)
    /// when there is none (null before shipping).
    /// </summary>
    public static DateTimeOffset? LastUpdate(OrderState s)
    {
        if (s.Shipment is not { } shipment)
        {
            return null;
        }
        var last = shipment.CorrectedAt ?? shipment.ShippedAt;
        foreach (var e in s.TrackingOrEmpty)
        {
            last = e.At > last ? e.At : last;
        }
        return last;
    }

    /// <summary>
    /// Whether the parcel is still held by its latest event of this kind (customs, an exception): no event later than it shows
    /// it moving (in transit, out for delivery).
    /// </summary>
    public static bool Held(OrderState s, TrackingEventKind kind)
    {
        var lastHold = s.Tracking.FindLast(e => e.Kind == kind);
        return lastHold is not null
            && !s.Tracking.Exists(e => e.Kind is TrackingEventKind.InTransit or TrackingEventKind.OutForDelivery && e.At > lastHold.At);
    }

    public static IReadOnlyList<TrackingEvent>? Shown(OrderState s) =>
        s.TrackingOrEmpty is { Count: > 0 } tracking ? tracking.Skip(Math.Max(0, tracking.Count - ShownInView)).ToArray() : null;

    /// <summary>The timeline event (and the buyer's notification) of a tracking event.</summary>
    public static string TimelineEvent(TrackingEventKind kind) => kind switch
    {
        TrackingEventKind.InTransit => "InTransit",
        TrackingEventKind.Customs => "HeldAtCustoms",
        TrackingEventKind.OutForDelivery => "OutForDelivery",
        TrackingEventKind.Exception => "DeliveryException",
        _ => "Delivered",
    };
}

/// <summary>
/// Carrier tracking of a shipped order (R-LOG-5): normalised events kept on the order, on its timeline and announced to the
/// buyer; a customs hold or an exception opens a ticket (R-ORD-6); the last update moves the stall deadline (R-LOG-6). And the
/// seller's correction of a tracking number typed wrong, before the carrier reported anything under it.
/// </summary>
public sealed partial class OrderGrain
{
    public async Task<TrackingEventResult> RecordTracking(TrackingEventCommand command)
    {
        var actor = command.Actor;
        var carrier = actor.Role == "carrier";
        // A carrier sees only the orders it carries, anyone else only those it may read: another order counts as missing. So
        // does an order its feed found under a tracking number the seller has corrected since (to another of the carrier's).
        if (S.Phase != OrderPhase.Live || (carrier
                ? !OrderPermissions.SameCarrier(actor.Subject, S.Shipment?.Carrier)
                  || (command.TrackingKey is { } key && key != ShipmentKeys.TrackingNumber(S.Shipment!.TrackingNumber))
                : !OrderPermissions.MayRead(actor, S.Placement!.Owner, S.Placement.SellerId)))
        {
            return new TrackingEventResult(TrackingEventStatus.NotFound, null, $"Order {OrderId} does not exist.");
        }
        if (!carrier && actor.Role != "admin")
        {
            return new TrackingEventResult(TrackingEventStatus.Forbidden, null,
                $"{actor} may not record tracking events of order {OrderId}: its carrier (or an admin) does.");
        }
        await CatchUpDeadlines();
        var now = clock.GetUtcNow();
        if (S.HadTracking(command.Kind, command.At))
        {
            // Sent again (a retry, or a carrier feed replaying its events, also ones older than the kept): recorded already.
            return new TrackingEventResult(TrackingEventStatus.Duplicate, View(), null, CurrentStatus: S.Status);
        }
        if (S.Status is not (OrderStatus.Shipped or OrderStatus.Delivered))
        {
            return new TrackingEventResult(TrackingEventStatus.NotShipped, View(), S.Status < OrderStatus.Shipped
                ? $"Order {OrderId} is {S.Status}; it has not shipped, so it has no tracking."
                : $"Order {OrderId} is {S.Status}; tracking events are recorded only while it is shipped or delivered.", CurrentStatus: S.Status);
        }
        var shippedAt = S.Shipment!.ShippedAt;
        if (command.At < shippedAt)
        {
            return new TrackingEventResult(TrackingEventStatus.Invalid, null,
                $"at ({command.At:u}) is before order {OrderId} was shipped ({shippedAt:u}).", "at", S.Status);
        }
        if (command.At > now + OrderTracking.FutureSkew)
        {
            return new TrackingEventResult(TrackingEventStatus.Invalid, null,
                $"at ({command.At:u}) is in the future; it is now {now:u}.", "at", S.Status);
        }
        if (S.Status == OrderStatus.Delivered)
        {
            // A carrier back-filling scans it sent late: what happened before the delivery is history, kept and on the timeline
            // but not news to the buyer, and it changes nothing. After the delivery (or another delivery) it is not the carrier's.
            var deliveredAt = DeliveredAt();
            if (command.Kind == TrackingEventKind.Delivered || command.At > deliveredAt)
            {
                return new TrackingEventResult(TrackingEventStatus.NotShipped, View(),
                    $"Order {OrderId} was delivered on {deliveredAt:u}; only events before that are recorded now, as history.", CurrentStatus: S.Status);
            }
        }
        var entry = new TrackingEvent(command.Kind, command.At.ToUniversalTime(), command.Location, command.Note, actor.ToString(), now);
        var position = S.Tracking.FindLastIndex(e => e.At <= entry.At) + 1;
        S.Tracking.Insert(position, entry);
        if (S.Tracking.Count > OrderTracking.Kept)
        {
            S.ForgetTracking(S.Tracking[0]);
            S.Tracking.RemoveAt(0);
        }
        var reason = $"{entry.At:u}" + (entry.Location is { } where ? $" at {where}" : "") + (entry.Note is { } note ? $": {note}" : "");
        if (S.Status == OrderStatus.Delivered)
        {
            Record(now, OrderTracking.TimelineEvent(command.Kind), actor, reason + " (reported after the delivery)", notify: false);
        }
        else if (command.Kind == TrackingEventKind.Delivered)
        {
            // What POST …/delivery does: the buyer's confirmation window starts now (not at the carrier's time, which may be late).
            S.Deadlines = S.Deadlines with { AutoCompleteAt = now + _options.AutoCompleteAfter };
            Transition(OrderStatus.Delivered, now, "Delivered", actor, reason);
        }
        else
        {
            Record(now, OrderTracking.TimelineEvent(command.Kind), actor, reason);
            var ticket = command.Kind switch
            {
                TrackingEventKind.Customs => ServiceTicketKinds.CustomsHold,
                TrackingEventKind.Exception => ServiceTicketKinds.DeliveryException,
                _ => null,
            };
            if (ticket is not null && !S.TrackingTickets.Contains(ticket) && OrderTracking.Held(S, command.Kind))
            {
                S.TrackingTickets.Add(ticket);
                OpenTicket(now, ticket, $"Order {OrderId} ({S.Shipment.Carrier} {S.Shipment.TrackingNumber}): "
                    + (ticket == ServiceTicketKinds.CustomsHold ? "held at customs" : "delivery exception") + $", reported {reason}.");
            }
            foreach (var (held, open) in new[] { (TrackingEventKind.Customs, ServiceTicketKinds.CustomsHold), (TrackingEventKind.Exception, ServiceTicketKinds.DeliveryException) })
            {
                if (S.TrackingTickets.Contains(open) && !OrderTracking.Held(S, held))
                {
                    // Moving again after it (cleared customs, back on its way): that exception is over, and a new one opens a new ticket.
                    S.TrackingTickets.Remove(open);
                    S.TicketsToClose.Add(open);
                }
            }
            if (S.StallReported && OrderPlacing.StalledAt(S, _options) > now)
            {
                // The parcel moved again: the stall is over, and a new one is flagged if it stops again.
                S.StallReported = false;
                S.TicketsToClose.Add(ServiceTicketKinds.StalledShipment);
            }
        }
        await Persist();
        return new TrackingEventResult(TrackingEventStatus.Recorded, View(), null, CurrentStatus: S.Status);
    }

    /// <summary>
    /// Tickets a tracking event opened end when their shipment does: the order is delivered, or someone ends it (not when its
    /// protection window merely lapses, like a stalled shipment's).
    /// </summary>
    private void CloseTrackingTickets(OrderStatus next, OrderActor actor)
    {
        if (S.Status == OrderStatus.Shipped && next != S.Status && S.TrackingTickets.Count > 0
            && (next == OrderStatus.Delivered || actor != OrderActor.System))
        {
            S.TicketsToClose.AddRange(S.TrackingTickets);
        }
    }

    /// <summary>
    /// Ship on an order shipped already: the same carrier and tracking number again (a retry) answers the order unchanged; others
    /// correct a tracking number typed wrong, while the carrier has reported nothing under it. Null when it is a first shipment
    /// (or the order is past shipped: the state machine answers).
    /// </summary>
    private async Task<TransitionResult?> CorrectShipment(OrderCommand command)
    {
        if (command.Action != OrderAction.Ship || S.Shipment is not { } shipment)
        {
            return null;
        }
        if (shipment.Carrier == command.Carrier && shipment.TrackingNumber == command.TrackingNumber)
        {
            return new TransitionResult(TransitionStatus.Applied, View(), null);
        }
        if (S.Status is not (OrderStatus.Shipped or OrderStatus.Delivered))
        {
            return null;
        }
        if (command.FirstShipmentOnly)
        {
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId} was shipped already with {shipment.Carrier} {shipment.TrackingNumber}; it is not shipped again.");
        }
        if (string.IsNullOrWhiteSpace(command.Carrier) || string.IsNullOrWhiteSpace(command.TrackingNumber))
        {
            return new TransitionResult(TransitionStatus.Invalid, null, "Shipping needs a carrier and a tracking number.");
        }
        if (S.TrackingOrEmpty.Count > 0)
        {
            return new TransitionResult(TransitionStatus.InvalidTransition, View(),
                $"Order {OrderId} has tracking events from {shipment.Carrier} under {shipment.TrackingNumber}; its shipment can no longer be changed.");
        }
        // The new tracking number has had no chance to show movement: the stall count starts again from now (R-LOG-6), also
        // after a stall was flagged under the old one: its ticket closes (it names the old number), and a new stall is flagged
        // if the new number shows nothing either.
        S.Shipment = shipment with { Carrier = command.Carrier, TrackingNumber = command.TrackingNumber, CorrectedAt = clock.GetUtcNow() };
        if (S.StallReported)
        {
            S.StallReported = false;
            S.TicketsToClose.Add(ServiceTicketKinds.StalledShipment);
        }
        Record(clock.GetUtcNow(), "ShipmentCorrected", command.Actor,
            $"{shipment.Carrier} {shipment.TrackingNumber} corrected to {command.Carrier} {command.TrackingNumber}");
        await Persist();
        return new TransitionResult(TransitionStatus.Applied, View(), null);
    }
}
