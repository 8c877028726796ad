namespace Orleans.Trade.Orders;

/// <summary>
/// One order (one seller's part of a checkout). Key: the order id (a ULID). Placement is two-phase so that a cart spanning
/// several sellers is all or nothing: <see cref="Prepare"/> reserves stock, then <see cref="Confirm"/> or <see cref="Abort"/>.
/// An order left prepared (a crashed checkout) is aborted by its own deadline reminder.
/// </summary>
public interface IOrderGrain : IGrainWithStringKey
{
    Task<PrepareResult> Prepare(OrderPlacement placement);

    /// <summary>Makes a prepared order live; null when it was abandoned meanwhile (its placement timed out).</summary>
    Task<OrderView?> Confirm();

    Task Abort(string reason);

    [ReadOnly]
    Task<OrderView?> Get();

    [ReadOnly]
    Task<IReadOnlyList<TimelineEntry>> GetTimeline();

    /// <summary>Applies an actor's action; ownership and role are checked inside the grain's turn.</summary>
    Task<TransitionResult> Apply(OrderCommand command);
}

/// <summary>An action on an order with its arguments (carrier and tracking for Ship; a reason for Cancel and Close).</summary>
[GenerateSerializer, Immutable]
public sealed record OrderCommand(
    [property: Id(0)] OrderAction Action,
    [property: Id(1)] OrderActor Actor,
    [property: Id(2)] string? Reason = null,
    [property: Id(3)] string? Carrier = null,
    [property: Id(4)] string? TrackingNumber = null);
