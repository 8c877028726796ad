using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>
/// A notification of an order event, delivered at least once by the outbox worker (R-ORD-5): one per event, listing the channels
/// (email, sms, push) it goes out on, so a placement costs one outbox row and one webhook call rather than one per channel.
/// </summary>
/// <param name="Channels">Comma-separated channel names (a state stored by an earlier version holds a single one).</param>
[GenerateSerializer, Immutable]
public sealed record OrderNotification(
    [property: Id(0)] string NotificationId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string Recipient,
    [property: Id(3)] string Channels,
    [property: Id(4)] string Event,
    [property: Id(5)] OrderStatus Status,
    [property: Id(6)] DateTimeOffset At);

/// <summary>The kinds of <see cref="ServiceTicket"/> an order opens.</summary>
public static class ServiceTicketKinds
{
    public const string LateShipment = "LateShipment";
    public const string StalledShipment = "StalledShipment";
    public const string ReviewOverdue = "ReviewOverdue";
    public const string RefundFailed = "RefundFailed";
    /// <summary>A compensation owed to the buyer (R-DIS-4, a late shipment) that the seller's deposit and balance could not pay; closed by hand.</summary>
    public const string CompensationUnfunded = "CompensationUnfunded";
    /// <summary>A buyer disputes the order: the seller answers by the ticket's due time (R-DIS-1).</summary>
    public const string DisputeAwaitingSeller = "DisputeAwaitingSeller";
    /// <summary>A dispute escalated to the platform: an arbitrator gives a verdict by the ticket's due time (R-DIS-2).</summary>
    public const string DisputeArbitration = "DisputeArbitration";
    /// <summary>The carrier reports the parcel held at customs (R-ORD-6); closes when the order is delivered or ended.</summary>
    public const string CustomsHold = "CustomsHold";
    /// <summary>The carrier reports a delivery exception (R-LOG-5); closes when the order is delivered or ended.</summary>
    public const string DeliveryException = "DeliveryException";
    /// <summary>A buyer asks to send goods back: the seller gives a return address by the ticket's due time (R-DIS-5).</summary>
    public const string ReturnAwaitingAddress = "ReturnAwaitingAddress";
    /// <summary>The seller reported a problem with returned goods: an arbitrator decides by the ticket's due time (R-DIS-2).</summary>
    public const string ReturnArbitration = "ReturnArbitration";
    /// <summary>A dispute's third-party inspection was not reported by its due time (R-DIS-6); closes when its report comes or the dispute ends.</summary>
    public const string InspectionOverdue = "InspectionOverdue";
}

/// <summary>A customer-service ticket opened by an exception such as a late shipment (R-ORD-6).</summary>
/// <param name="Remedy">What customer service is proposed to do (a stalled shipment's, R-LOG-6: a <c>StallRemedy</c> in camelCase); null on other kinds.</param>
[GenerateSerializer, Immutable]
public sealed record ServiceTicket(
    [property: Id(0)] string TicketId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string SellerId,
    [property: Id(3)] string Kind,
    [property: Id(4)] string Description,
    [property: Id(5)] DateTimeOffset OpenedAt,
    [property: Id(6)] DateTimeOffset DueAt,
    [property: Id(7)] string? Remedy = null);

/// <summary>
/// The order's row in the list projection. A shipped order's row also carries its shipment's <see cref="ShipmentKeys"/>, by which
/// a carrier's feed finds it, and what carriers' on-time and complaint rates are counted from (R-LOG-7): the ship-to country, when it
/// shipped and was delivered, and the reason of a dispute about its delivery (<see cref="CarrierComplaints"/>); none is shown in
/// lists, and all are null before shipping. An order with an after-sales fact also carries what the service score counts (R-DAT-4):
/// what the buyer had back (refunds and compensations, in the order's currency), its dispute's opening, end and outcome
/// (<see cref="DisputeOutcomes"/>), and whether a return was asked for; all null without one.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OrderSummary(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string BuyerId,
    [property: Id(2)] string SellerId,
    [property: Id(3)] OrderStatus Status,
    [property: Id(4)] Money SellerTotal,
    [property: Id(5)] Money BuyerTotal,
    [property: Id(6)] int LineCount,
    [property: Id(7)] OrderSource Source,
    [property: Id(8)] bool Late,
    [property: Id(9)] DateTimeOffset CreatedAt,
    [property: Id(10)] DateTimeOffset UpdatedAt,
    [property: Id(11)] long Version,
    [property: Id(12), System.Text.Json.Serialization.JsonIgnore] string? CarrierKey = null,
    [property: Id(13), System.Text.Json.Serialization.JsonIgnore] string? TrackingKey = null,
    [property: Id(14), System.Text.Json.Serialization.JsonIgnore] string? ShipCountry = null,
    [property: Id(15), System.Text.Json.Serialization.JsonIgnore] DateTimeOffset? ShippedAt = null,
    [property: Id(16), System.Text.Json.Serialization.JsonIgnore] DateTimeOffset? DeliveredAt = null,
    [property: Id(17), System.Text.Json.Serialization.JsonIgnore] string? Complaint = null,
    [property: Id(18), System.Text.Json.Serialization.JsonIgnore] long? RefundedMinor = null,
    [property: Id(19), System.Text.Json.Serialization.JsonIgnore] DateTimeOffset? DisputeOpenedAt = null,
    [property: Id(20), System.Text.Json.Serialization.JsonIgnore] DateTimeOffset? DisputeResolvedAt = null,
    [property: Id(21), System.Text.Json.Serialization.JsonIgnore] string? DisputeOutcome = null,
    [property: Id(22), System.Text.Json.Serialization.JsonIgnore] bool? Returned = null,
    /// <summary>The ad channel that brought the buyer (R-DAT-4); absent when the checkout named none.</summary>
    [property: Id(23), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Channel = null,
    /// <summary>The campaign within <see cref="Channel"/>; absent when the checkout named none.</summary>
    [property: Id(24), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Campaign = null)
{
    /// <summary>
    /// Whether the order has an after-sales fact (R-DAT-4): a refund or compensation, a dispute or a return. Only then are
    /// <see cref="RefundedMinor"/> (0 or more) and <see cref="Returned"/> set, and only a batch with such a row writes their columns.
    /// </summary>
    public bool HasAfterSales => RefundedMinor is not null;
}

/// <summary>
/// How an order's dispute ended, as the service score counts it (R-DAT-4): the arbitrator's or the system's verdict
/// (<c>fullRefund</c>, <c>partialRefund</c>, <c>compensate</c>: lost by the seller; <c>close</c>: won), the seller's acceptance of
/// the buyer's claim (<c>accepted</c>), the buyer's withdrawal (<c>withdrawn</c>); null while open.
/// </summary>
public static class DisputeOutcomes
{
    public const string Accepted = "accepted";
    public const string Withdrawn = "withdrawn";

    /// <summary>The outcomes that refunded or compensated the buyer against the seller's will.</summary>
    public static readonly IReadOnlyList<string> LostBySeller = ["fullRefund", "partialRefund", "compensate"];

    public static string? Of(DisputeView? dispute) => dispute switch
    {
        null => null,
        { Status: DisputeStatus.Withdrawn } => Withdrawn,
        { Status: DisputeStatus.Resolved, SellerResponse.Accepted: true } => Accepted,
        { Status: DisputeStatus.Resolved, Resolution.Outcome: { } outcome } => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString()),
        _ => null,
    };
}

/// <summary>The disputes that count against the carrier of a shipped order (R-LOG-7): the parcel did not arrive, came late or broken.</summary>
public static class CarrierComplaints
{
    public static string? Of(DisputeView? dispute) => dispute?.Reason switch
    {
        DisputeReason.NotReceived => "notReceived",
        DisputeReason.LateOrFakeTracking => "lateOrFakeTracking",
        DisputeReason.Damaged => "damaged",
        _ => null,
    };
}
