namespace Orleans.Trade.Orders;

/// <summary>A carrier's tracking event, normalised (R-LOG-5).</summary>
public enum TrackingEventKind
{
    InTransit,
    /// <summary>Held at customs: a ticket goes to customer service (R-ORD-6).</summary>
    Customs,
    OutForDelivery,
    /// <summary>Something went wrong on the way (damaged, address not found, returned): a ticket goes to customer service.</summary>
    Exception,
    /// <summary>Delivered: the order becomes delivered, as <c>POST …/delivery</c> does.</summary>
    Delivered,
}

/// <summary>A tracking event as the order keeps it: what the carrier saw, when and where, and who reported it when.</summary>
[GenerateSerializer, Immutable]
public sealed record TrackingEvent(
    [property: Id(0)] TrackingEventKind Kind,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string? Location,
    [property: Id(3)] string? Note,
    [property: Id(4)] string RecordedBy,
    [property: Id(5)] DateTimeOffset RecordedAt);

/// <summary>A carrier (or an admin) reports a tracking event of a shipped order.</summary>
[GenerateSerializer, Immutable]
public sealed record TrackingEventCommand(
    [property: Id(0)] OrderActor Actor,
    [property: Id(1)] TrackingEventKind Kind,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string? Location,
    [property: Id(4)] string? Note);

public enum TrackingEventStatus
{
    Recorded,
    /// <summary>The same kind at the same time was recorded before: nothing changed.</summary>
    Duplicate,
    NotFound,
    Forbidden,
    /// <summary>The order is not in transit (not shipped yet, or delivered or ended).</summary>
    NotShipped,
    /// <summary>A field is wrong (<see cref="TrackingEventResult.Field"/> names it).</summary>
    Invalid,
}

[GenerateSerializer, Immutable]
public sealed record TrackingEventResult(
    [property: Id(0)] TrackingEventStatus Status,
    [property: Id(1)] OrderView? Order,
    [property: Id(2)] string? Reason,
    [property: Id(3)] string? Field = null,
    [property: Id(4)] OrderStatus? CurrentStatus = null);
