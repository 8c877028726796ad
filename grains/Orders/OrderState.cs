using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

public enum OrderPhase
{
    /// <summary>No placement yet.</summary>
    New,
    /// <summary>Stock is being reserved; not yet visible to buyers or sellers.</summary>
    Preparing,
    /// <summary>Confirmed: a real order with a status.</summary>
    Live,
    /// <summary>The checkout gave up (another seller's part was short, or it was abandoned); reservations released.</summary>
    Aborted,
}

/// <summary>
/// Rows an order write carries into its transaction: the order list row, the notifications and tickets it raised, and the kinds
/// of the order's open tickets whose exception the change ended (closed after the new tickets are in).
/// </summary>
public sealed record OrderOutbox(OrderSummary Summary, IReadOnlyList<OrderNotification> Notifications, IReadOnlyList<ServiceTicket> Tickets,
    IReadOnlyList<string>? ClosedTicketKinds = null, IReadOnlyList<OrderLineFact>? LineFacts = null);

/// <summary>
/// What the category margin counts of one line of a paid order (R-DAT-4), written once, by the write that first stores the order
/// as paid: its category, units, what was paid for them (after the coupon's share), the platform's commission on that, and the
/// unit cost the catalog had at placement (null when none). Amounts in the order's (the seller's) currency, minor units.
/// </summary>
public sealed record OrderLineFact(string OrderId, int Line, string SellerId, DateTimeOffset CreatedAt, string SkuId, string? Category, long Units,
    long PaidMinor, long CommissionMinor, long? UnitCostMinor, string Currency);

/// <summary>A stock reservation the order holds on a SKU.</summary>
[GenerateSerializer, Immutable]
public sealed record HeldReservation(
    [property: Id(0)] string SkuId,
    [property: Id(1)] string ReservationId);

/// <summary>Persistent state of an order grain (state name <c>order</c>).</summary>
[GenerateSerializer]
public sealed class OrderState : IWakeAtState, IOutboxState
{
    // What the next write carries beside the payload (not part of it): its deadline index entry and its outbox rows.
    [NonSerialized] private DateTimeOffset? _wakeAt;
    [NonSerialized] private OrderOutbox? _outbox;

    DateTimeOffset? IWakeAtState.WakeAt => _wakeAt;

    object? IOutboxState.Outbox => _outbox;

    public void CarryWithNextWrite(DateTimeOffset? wakeAt, OrderOutbox? outbox) => (_wakeAt, _outbox) = (wakeAt, outbox);

    /// <summary>
    /// Kinds of this order's open tickets that the change being made ended (the late order shipped, the stalled shipment was
    /// delivered): taken into the next write's outbox, never stored (a failed write reloads the state without them).
    /// </summary>
    [NonSerialized] private List<string>? _ticketsToClose;

    public List<string> TicketsToClose => _ticketsToClose ??= [];

    /// <summary>Whether the change ended any ticket; asked by every order write, so it allocates nothing when none did.</summary>
    public bool HasTicketsToClose => _ticketsToClose is { Count: > 0 };

    [Id(0)] public OrderPhase Phase { get; set; }
    [Id(1)] public OrderPlacement? Placement { get; set; }
    [Id(2)] public OrderStatus Status { get; set; }
    [Id(3)] public List<OrderLine> Lines { get; set; } = [];
    [Id(4)] public OrderTotals? Totals { get; set; }
    [Id(5)] public Shipment? Shipment { get; set; }
    [Id(6)] public bool Accepted { get; set; }
    [Id(7)] public bool Late { get; set; }
    [Id(8)] public string? ReviewReason { get; set; }
    [Id(9)] public OrderDeadlines Deadlines { get; set; } = new(null, null, null);
    [Id(10)] public List<TimelineEntry> Timeline { get; set; } = [];
    /// <summary>Reservations to give back or to turn into sales, persisted before the SKU calls so a crash cannot lose them.</summary>
    [Id(11)] public List<HeldReservation> PendingReleases { get; set; } = [];
    [Id(12)] public List<HeldReservation> PendingCommits { get; set; } = [];
    /// <summary>Outbox: notifications and tickets persisted with the change that raised them, not yet in the SQL tables.</summary>
    [Id(13)] public List<OrderNotification> PendingNotifications { get; set; } = [];
    [Id(14)] public List<ServiceTicket> PendingTickets { get; set; } = [];
    [Id(15)] public bool ProjectionPending { get; set; }
    [Id(16)] public DateTimeOffset CreatedAt { get; set; }
    [Id(17)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(18)] public long Version { get; set; }
    [Id(19)] public int HandlingDays { get; set; }
    [Id(20)] public string? AbortReason { get; set; }
    /// <summary>Escrow instructions for the seller's ledger, persisted before they are carried out (idempotent by order id).</summary>
    [Id(21)] public List<EscrowStep> PendingEscrow { get; set; } = [];
    [Id(22)] public EscrowStep? EscrowState { get; set; }
    /// <summary>Payment attempts, by the caller-scoped idempotency key that created them.</summary>
    [Id(23)] public List<OrderPaymentRecord> Payments { get; set; } = [];
    /// <summary>The authorized payment being captured: while set, no other payment is taken and the deadline waits.</summary>
    [Id(24)] public string? CaptureLock { get; set; }
    /// <summary>The payment whose capture paid the order.</summary>
    [Id(25)] public string? PaidBy { get; set; }
    [Id(26)] public List<OrderRefundRecord> Refunds { get; set; } = [];
    /// <summary>A payment held for review whose authorization must be voided because the order was cancelled.</summary>
    [Id(27)] public string? VoidOnCancel { get; set; }
    /// <summary>The ticket for a shipment with no tracking update was opened (R-LOG-6); cleared when the parcel moves again.</summary>
    [Id(28)] public bool StallReported { get; set; }
    /// <summary>The ticket for a risk review left undecided past its due time was opened.</summary>
    [Id(29)] public bool ReviewOverdue { get; set; }
    /// <summary>A captured payment (a bank transfer) whose risk review holds the order: only the analysts' decision moves it on.</summary>
    [Id(30)] public string? ReviewedPayment { get; set; }
    /// <summary>The buyer's dispute of this order (R-DIS-1..3); at most one per order.</summary>
    [Id(31)] public DisputeView? Dispute { get; set; }
    /// <summary>
    /// The order was cancelled while these attempts could still take the buyer's money (a 3-D Secure challenge, a bank transfer):
    /// each is told, until it confirms, to void itself at the provider.
    /// </summary>
    [Id(32)] private List<string>? _voidOpenAttempts;
    public List<string> VoidOpenAttempts => _voidOpenAttempts ??= [];
    /// <summary>Asked by every order write: allocates nothing for the orders (nearly all) that never had one.</summary>
    public bool HasVoidOpenAttempts => _voidOpenAttempts is { Count: > 0 };
    /// <summary>The carrier's tracking events (R-LOG-5), oldest first by event time; the latest <see cref="OrderTracking.Kept"/>.</summary>
    [Id(33)] private List<TrackingEvent>? _tracking;
    public List<TrackingEvent> Tracking => _tracking ??= [];
    /// <summary>The events, read without creating the list (every order's view reads them).</summary>
    public IReadOnlyList<TrackingEvent> TrackingOrEmpty => (IReadOnlyList<TrackingEvent>?)_tracking ?? [];
    /// <summary>The ticket kinds tracking events opened and not yet closed (customs hold, delivery exception): one open ticket per kind at a time.</summary>
    [Id(34)] private List<string>? _trackingTickets;
    public List<string> TrackingTickets => _trackingTickets ??= [];
    /// <summary>The buyer's return of this order's goods (R-DIS-5); at most one per order.</summary>
    [Id(35)] public ReturnView? Return { get; set; }
    /// <summary>The seller's coupon the order used: its discount per line, and whether its redemption still counts.</summary>
    [Id(36)] public OrderCoupon? Coupon { get; set; }
    /// <summary>The lines' facts for the category margin (R-DAT-4) went with a write of the paid order (<see cref="OrderPlacing.LineFactsDue"/>).</summary>
    [Id(37)] public bool LineFactsWritten { get; set; }
    /// <summary>
    /// The kind and time of tracking events no longer in <see cref="Tracking"/> (older than the latest <see cref="OrderTracking.Kept"/>),
    /// the latest <see cref="OrderTracking.Remembered"/> dropped: one sent again is answered as a duplicate, not recorded and
    /// announced to the buyer once more.
    /// </summary>
    [Id(38)] private List<TrackingKey>? _droppedTracking;

    /// <summary>
    /// Set when the payment deadline passed while attempts were open: they were asked to look their payment up at the provider
    /// (a webhook may have been lost for money taken in time), and the order cancels only if none is paid by then.
    /// </summary>
    [Id(39)] public DateTimeOffset? PaymentLookupUntil { get; set; }

    /// <summary>Whether an event of this kind at this time was recorded (kept, or dropped and remembered).</summary>
    public bool HadTracking(TrackingEventKind kind, DateTimeOffset at) =>
        (_tracking?.Exists(e => e.Kind == kind && e.At == at) ?? false) || (_droppedTracking?.Contains(new TrackingKey(at, kind)) ?? false);

    public void ForgetTracking(TrackingEvent dropped)
    {
        var remembered = _droppedTracking ??= [];
        remembered.Add(new TrackingKey(dropped.At, dropped.Kind));
        if (remembered.Count > OrderTracking.Remembered)
        {
            remembered.RemoveAt(0);
        }
    }
}

/// <summary>What tells one tracking event from another: its kind and time.</summary>
[GenerateSerializer, Immutable]
public readonly record struct TrackingKey([property: Id(0)] DateTimeOffset At, [property: Id(1)] TrackingEventKind Kind);

[GenerateSerializer]
public sealed class OrderPaymentRecord
{
    [Id(0)] public required string Key { get; init; }
    [Id(1)] public required string RequestHash { get; init; }
    [Id(2)] public required Payments.PaymentStart Start { get; init; }
    [Id(3)] public DateTimeOffset CreatedAt { get; init; }
    [Id(4)] public bool Failed { get; set; }
}

[GenerateSerializer]
public sealed class OrderRefundRecord
{
    [Id(0)] public required string Key { get; init; }
    [Id(1)] public required string RequestHash { get; init; }
    [Id(2)] public required OrderRefundView View { get; set; }
    /// <summary>Booked on the seller's ledger (or covered by voiding the escrow); only then is it sent to the payment.</summary>
    [Id(3)] public bool Booked { get; set; }
    /// <summary>The units it refunds (a refund by lines, a return's): refunded units are not refunded or returned again.</summary>
    [Id(4)] public IReadOnlyList<ReturnLine>? Lines { get; init; }
    /// <summary>
    /// What its units' share came to beyond what it paid: an arbitrator's partial refund of a return keeps that much with the
    /// seller, and a later refund of every other unit (which gives back all that is left) does not give it back.
    /// </summary>
    [Id(5)] public long Withheld { get; set; }
}

public enum EscrowStep { Hold, Release, Void }
