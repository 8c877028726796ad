namespace Orleans.Trade.Orders;

/// <summary>
/// One order (one seller's part of a checkout). Key: the order id (a ULID). Placement is two-phase so that a cart spanning
/// several sellers is all or nothing: <see cref="Prepare"/> reserves stock, then <see cref="Confirm"/> or <see cref="Abort"/>.
/// Preparing writes nothing: the reservations carry a hold time, and a SKU whose hold outlives an order that was never
/// placed (a crashed checkout) asks the order through <see cref="KeepsReservation"/> and gives the units back.
/// </summary>
/// <remarks>
/// Version 1 added <see cref="CheckoutView"/>, version 2 <see cref="PaymentTookCancellation"/>, version 3 <see cref="Unprepare"/>, version 4 <see cref="Dispute"/>, version 5
/// <see cref="RecordTracking"/>, version 6 <see cref="Return"/>, version 7 the inspection steps of <see cref="Dispute"/>
/// (<see cref="DisputeStep.OrderInspection"/>, <see cref="DisputeStep.ReportInspection"/>, R-DIS-6), which an older activation does not
/// know, and <see cref="KeepsReservation"/> answering for the order's coupon redemption (<see cref="CouponCodes.ReservationId"/>), which an
/// older order would give up. Version 8: a placement carries the buyer's ad attribution (<see cref="OrderPlacement.Attribution"/>) and its
/// lines the SKUs' unit costs, which an older activation would drop. Version 9: a placement names its checkout
/// (<see cref="OrderPlacement.CheckoutKey"/>), so a retried checkout's coupon redemption is not refused for its earlier attempts'; an
/// older activation redeems without it. Also in version 9: <see cref="OrderCommand.FirstShipmentOnly"/>, which an older activation
/// ignores (it corrects the shipment, as before). During a rolling update a caller
/// of a newer version is served by an activation on a silo of this release (Orleans moves an older activation), while the older
/// silos' calls work on either.
/// </remarks>
[Orleans.CodeGeneration.Version(9)]
public interface IOrderGrain : IGrainWithStringKey
{
    Task<PrepareResult> Prepare(OrderPlacement placement);

    /// <summary>Makes a prepared order live; null when it was abandoned meanwhile (its placement timed out).</summary>
    Task<OrderView?> Confirm();

    Task Abort(string reason);

    /// <summary>
    /// Gives back what a preparation holds and forgets it, so the checkout's retry prepares again (where <see cref="Abort"/> ends
    /// the order for good): another order of the cart failed with an error, and the buyer is told to retry. An order that is not
    /// preparing is left as it is.
    /// </summary>
    Task Unprepare(string reason);

    /// <summary>
    /// Both phases in one call, for a checkout whose cart is this one order (nothing to keep all or nothing with): prepares and,
    /// if every line is held, confirms; otherwise aborts itself and answers why. Idempotent like the two phases. A payment
    /// given is registered as by <see cref="RegisterPayment"/>, in the same write as the placement.
    /// </summary>
    Task<PlaceResult> Place(OrderPlacement placement, PaymentRegistrationRequest? payment);

    /// <summary>
    /// Asked by a SKU whose tentative hold ran out: true if this order is placed (it keeps the units); otherwise the order gives
    /// up its placement, so it can no longer be confirmed, and the SKU releases the units. A seller's coupons ask the same for the
    /// order's redemption (<see cref="CouponCodes.ReservationId"/>): kept while the placed order was not cancelled.
    /// </summary>
    Task<bool> KeepsReservation(string reservationId);

    [ReadOnly]
    Task<OrderView?> Get();

    /// <summary>
    /// The view a checkout with an inline payment answers with, once the payment has run: like <see cref="Get"/>, but a paid
    /// order with nothing left to do leaves memory afterwards (the checkout was the last caller it had to expect).
    /// </summary>
    Task<OrderView?> CheckoutView();

    [ReadOnly]
    Task<IReadOnlyList<TimelineEntry>> GetTimeline();

    /// <summary>Applies an actor's action; ownership and role are checked inside the grain's turn.</summary>
    Task<TransitionResult> Apply(OrderCommand command);

    /// <summary>Registers a payment attempt (idempotent per key) and returns what the payment grain must be started with.</summary>
    Task<PaymentRegistration> RegisterPayment(PaymentRegistrationRequest request);

    /// <summary>The payment was authorized: the order takes it (and holds off its payment deadline) or refuses it.</summary>
    Task<PaymentDecision> PaymentAuthorized(string paymentId);

    /// <summary>The payment was authorized but scored for human review: the order waits in RiskReview, not captured (R-PAY-5).</summary>
    Task<PaymentDecision> PaymentHeldForReview(string paymentId, string reason);

    /// <summary>The payment's money was taken: the order becomes Paid, or refuses (the payment then refunds it in full).</summary>
    Task<PaymentDecision> PaymentCaptured(string paymentId);

    /// <summary>
    /// The payment's money was taken (a bank transfer, which cannot wait authorized) but it was scored for human review: the
    /// order is paid and waits in RiskReview, the escrow held, until the analysts decide (R-PAY-5). Refused like a capture.
    /// </summary>
    Task<PaymentDecision> PaymentCapturedForReview(string paymentId, string reason);

    /// <summary>
    /// The analysts decided the review of a payment whose money was taken: approved, the order goes on to the seller; rejected,
    /// it is cancelled, its stock goes back and the buyer is refunded in full. Repeating it changes nothing.
    /// </summary>
    Task PaymentReviewDecided(string paymentId, bool approved, string note);

    /// <summary>The payment failed, expired or was voided; the order keeps waiting for payment until its deadline.</summary>
    Task PaymentFailed(string paymentId, string reason);

    /// <summary>Books a refund on the ledger and sends it to the payment (R-SET-3).</summary>
    Task<OrderRefundResult> RequestRefund(OrderRefundRequest request);

    /// <summary>
    /// The payment has stored this order's cancellation (sent by <c>IPaymentGrain.OrderCancelledBy</c>): the order stops sending
    /// it. One-way, since the order's own call to the payment is.
    /// </summary>
    [OneWay]
    Task PaymentTookCancellation(string paymentId);

    /// <summary>The payment reports a refund done (or failed) at the provider.</summary>
    Task RefundSettled(string refundId, Payments.RefundStatus status);

    [ReadOnly]
    Task<IReadOnlyList<OrderPaymentAttempt>> PaymentAttempts();

    [ReadOnly]
    Task<IReadOnlyList<OrderRefundView>> Refunds();

    /// <summary>
    /// A step of the buyer's dispute of this order (R-DIS-1..3): opened by the buyer of a shipped or delivered order, answered by
    /// the seller within its window or escalated to arbitration, decided by an arbitrator; a refund it decides is booked out of the
    /// escrow, which the open dispute keeps from being released.
    /// </summary>
    Task<DisputeResult> Dispute(DisputeCommand command);

    /// <summary>
    /// A carrier's tracking event of a shipped order (R-LOG-5): kept on the order, put on its timeline and announced to the buyer;
    /// a delivery event delivers the order. The same kind at the same time again changes nothing.
    /// </summary>
    Task<TrackingEventResult> RecordTracking(TrackingEventCommand command);

    /// <summary>
    /// A step of the buyer's return of this order's goods (R-DIS-4, R-DIS-5): requested on a delivered order, given a return
    /// address by the seller (or approved without the goods when the seller does not answer in time), sent back, and refunded
    /// out of the escrow when the seller confirms the goods (or does not answer in time); a problem reported goes to arbitration.
    /// </summary>
    Task<ReturnResult> Return(ReturnCommand command);
}

/// <summary>An action on an order with its arguments (carrier and tracking for Ship; a reason for Cancel and Close).</summary>
[GenerateSerializer, Immutable]
public sealed record OrderCommand(
    [property: Id(0)] OrderAction Action,
    [property: Id(1)] OrderActor Actor,
    [property: Id(2)] string? Reason = null,
    [property: Id(3)] string? Carrier = null,
    [property: Id(4)] string? TrackingNumber = null,
    /// <summary>
    /// Ship only as the order's first shipment: on an order shipped already under another carrier or tracking number the command is
    /// refused (<see cref="TransitionStatus.InvalidTransition"/> with the order as it is) instead of correcting its shipment. A
    /// label batch ships so, as an order its seller shipped by hand meanwhile must keep the parcel it really sent.
    /// </summary>
    [property: Id(5)] bool FirstShipmentOnly = false);

/// <summary>A buyer's request to pay an order; <paramref name="Key"/> is the caller-scoped Idempotency-Key.</summary>
[GenerateSerializer, Immutable]
public sealed record PaymentRegistrationRequest(
    [property: Id(0)] string Key,
    [property: Id(1)] string RequestHash,
    [property: Id(2)] Payments.PaymentInstrument Instrument,
    [property: Id(3)] OrderActor Actor,
    [property: Id(4)] RiskSignals? Signals = null);

/// <summary>What the buyer's client tells about itself when paying: a device fingerprint and the IP address with its country.</summary>
[GenerateSerializer, Immutable]
public sealed record RiskSignals(
    [property: Id(0)] string DeviceFingerprint,
    [property: Id(1)] string IpAddress,
    [property: Id(2)] string IpCountry)
{
    /// <summary>The fingerprint of a client that sent none (or one too long to keep).</summary>
    public const string NoDevice = "none";
}

public enum PaymentRegistrationStatus { Created, Existing, KeyReused, NotFound, Forbidden, NotPayable, Invalid }

[GenerateSerializer, Immutable]
public sealed record PaymentRegistration(
    [property: Id(0)] PaymentRegistrationStatus Status,
    [property: Id(1)] Payments.PaymentStart? Start,
    [property: Id(2)] string? Reason,
    [property: Id(3)] OrderStatus? CurrentStatus = null);

/// <summary>The order's answer to its payment: go ahead (capture, or keep the money) or give the money back.</summary>
public enum PaymentDecision { Proceed, Refuse }

/// <summary>
/// A refund of <paramref name="Amount"/> in the order's currency (null: everything still refundable), or of the units
/// <paramref name="Lines"/> name: what they were paid (after a coupon's share) and their share of the VAT, as a return refunds them.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OrderRefundRequest(
    [property: Id(0)] string Key,
    [property: Id(1)] Common.Money? Amount,
    [property: Id(2)] string? Reason,
    [property: Id(3)] OrderActor Actor,
    [property: Id(4)] IReadOnlyList<ReturnLine>? Lines = null);

public enum OrderRefundStatus { Accepted, Existing, KeyReused, NotFound, Forbidden, NotRefundable, ExceedsPaid, InsufficientSellerFunds, Invalid }

[GenerateSerializer, Immutable]
public sealed record OrderRefundResult(
    [property: Id(0)] OrderRefundStatus Status,
    [property: Id(1)] OrderRefundView? Refund,
    [property: Id(2)] string? Reason,
    [property: Id(3)] OrderStatus? CurrentStatus = null);

/// <summary>
/// What money back to the buyer is: a refund of what was paid (out of the escrow, or the seller's balances after release), or a
/// compensation (R-DIS-4) paid by the seller from its deposit and available balance while the escrow stays the seller's.
/// </summary>
public enum OrderRefundKind { Refund, Compensation }

/// <summary>A refund of an order: <paramref name="Amount"/> in the order's currency (what the ledger books) and
/// <paramref name="BuyerAmount"/> in the currency the buyer paid (what the provider sends back). A compensation names its
/// percentage of the order's value and, once booked, what of the seller's money paid it.</summary>
[GenerateSerializer, Immutable]
public sealed record OrderRefundView(
    [property: Id(0)] string RefundId,
    [property: Id(1)] Common.Money Amount,
    [property: Id(2)] Common.Money BuyerAmount,
    [property: Id(3)] Payments.RefundStatus Status,
    [property: Id(4)] string? Reason,
    [property: Id(5)] string Actor,
    [property: Id(6)] DateTimeOffset RequestedAt,
    [property: Id(7)] OrderRefundKind Kind = OrderRefundKind.Refund,
    [property: Id(8), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    int? CompensationPercent = null,
    [property: Id(9), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Wallets.CompensationFunding? FundedFrom = null);

/// <summary>A payment attempt on an order, as the order keeps it.</summary>
[GenerateSerializer, Immutable]
public sealed record OrderPaymentAttempt(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] Payments.PaymentMethodType Method,
    [property: Id(2)] DateTimeOffset CreatedAt);
