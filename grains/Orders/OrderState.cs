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

/// <summary>A stock reservation the order holds on a SKU.</summary>
[GenerateSerializer, Immutable]
public sealed record HeldReservation(
    [property: Id(0)] string SkuId,
    [property: Id(1)] string ReservationId);

/// <summary>Persistent state of an order grain (state name <c>order</c>).</summary>
[GenerateSerializer]
public sealed class OrderState
{
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
}

public enum EscrowStep { Hold, Release, Void }
