using Orleans.Trade.Common;

namespace Orleans.Trade.Payments;

/// <summary>Where one payment stands. Failed, Voided, Expired and Refunded are final.</summary>
public enum PaymentStatus
{
    /// <summary>Sent to the provider; the outcome is not known yet (processing, or a time-out being reconciled).</summary>
    Pending,
    /// <summary>3-D Secure: waiting for the buyer to complete the challenge at <c>actionUrl</c>.</summary>
    RequiresAction,
    /// <summary>Bank transfer: waiting for the buyer's money under <c>transferReference</c> until <c>payBy</c>.</summary>
    AwaitingTransfer,
    /// <summary>Authorized at the provider; being captured.</summary>
    Authorized,
    /// <summary>The money is taken; the order is paid. Refunds may follow.</summary>
    Captured,
    /// <summary>Declined by the provider (see <c>declineCode</c>); the order keeps waiting for a payment until its deadline.</summary>
    Failed,
    /// <summary>Authorized, then released without taking money (the order could no longer be paid).</summary>
    Voided,
    Expired,
    /// <summary>Captured, then given back in full.</summary>
    Refunded,
}

/// <summary>One instalment of a plan (R-PAY-3): number 1 is charged at purchase, the rest monthly.</summary>
[GenerateSerializer, Immutable]
public sealed record Instalment(
    [property: Id(0)] int Number,
    [property: Id(1)] DateTimeOffset DueAt,
    [property: Id(2)] Money Amount);

/// <summary>What the order grain hands the payment grain to start a payment.</summary>
[GenerateSerializer, Immutable]
public sealed record PaymentStart(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string BuyerId,
    [property: Id(3)] string SellerId,
    [property: Id(4)] Money Amount,
    [property: Id(5)] PaymentInstrument Instrument,
    [property: Id(6)] DateTimeOffset? PayBy,
    [property: Id(7)] IReadOnlyList<Instalment>? Schedule,
    [property: Id(8)] Risk.RiskEvent? Risk = null,
    // Why the order itself asks for a manual review (R-ORD-3, e.g. its value); a scored payment then goes to the analysts'
    // queue whatever its score, with this reason first. Null for orders that need none.
    [property: Id(9)] string? OrderReviewReason = null);

public enum RefundStatus { Pending, Succeeded, Failed }

[GenerateSerializer, Immutable]
public sealed record PaymentRefundView(
    [property: Id(0)] string RefundId,
    [property: Id(1)] Money Amount,
    [property: Id(2)] RefundStatus Status,
    [property: Id(3)] string? Reason,
    [property: Id(4)] DateTimeOffset RequestedAt,
    [property: Id(5)] DateTimeOffset? SettledAt);

/// <summary>One step of a payment's history.</summary>
[GenerateSerializer, Immutable]
public sealed record PaymentHistoryEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] PaymentStatus Status,
    [property: Id(2)] string Event,
    [property: Id(3)] string? Detail);

[GenerateSerializer, Immutable]
public sealed record PaymentView(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string BuyerId,
    [property: Id(3)] string SellerId,
    [property: Id(4)] Money Amount,
    [property: Id(5)] PaymentMethodType Method,
    [property: Id(6)] string? CardLast4,
    [property: Id(7)] PaymentStatus Status,
    [property: Id(8)] string Provider,
    [property: Id(9)] string? ProviderPaymentId,
    [property: Id(10)] string? DeclineCode,
    [property: Id(11)] string? Message,
    [property: Id(12)] string? ActionUrl,
    [property: Id(13)] string? TransferReference,
    [property: Id(14)] DateTimeOffset? PayBy,
    [property: Id(15)] IReadOnlyList<Instalment>? Schedule,
    [property: Id(16)] Money Refunded,
    [property: Id(17)] IReadOnlyList<PaymentRefundView> Refunds,
    [property: Id(18)] IReadOnlyList<PaymentHistoryEntry> History,
    [property: Id(19)] DateTimeOffset CreatedAt,
    [property: Id(20)] DateTimeOffset UpdatedAt,
    [property: Id(21)] Risk.RiskScore? RiskScore = null,
    [property: Id(22)] bool HeldForReview = false);

/// <summary>A refund the order asks its payment to send back through the provider (R-SET-3).</summary>
[GenerateSerializer, Immutable]
public sealed record PaymentRefundOrder(
    [property: Id(0)] string RefundId,
    [property: Id(1)] Money Amount,
    [property: Id(2)] string? Reason);

/// <summary>
/// One payment of an order through the payment provider (R-PAY-1, R-PAY-3). Key: the payment id (a ULID). Every state change
/// is written before the provider or the order hears of it; provider calls carry idempotency keys derived from the payment id,
/// so a call repeated after a time-out or a crash charges once. Calls go payment → order, never back: the order sends refund
/// instructions and its cancellation one-way and repeats them until the payment reports them settled.
/// </summary>
/// <remarks>Version 1 added <see cref="OrderCancelledBy"/> and <see cref="ReviewClosed"/> (see <c>IOrderGrain</c> on versions).</remarks>
[Orleans.CodeGeneration.Version(1)]
public interface IPaymentGrain : IGrainWithStringKey
{
    /// <summary>Starts the payment (idempotent: a second call answers the payment as it stands).</summary>
    Task<PaymentView> Start(PaymentStart start);

    [ReadOnly]
    Task<PaymentView?> Get();

    /// <summary>A verified provider webhook; duplicates and stale events change nothing. Completes once the change is durable.</summary>
    Task HandleProviderEvent(ProviderEvent providerEvent);

    /// <summary>An analyst's decision on a payment held for review: approve captures it, reject voids it (the order is cancelled).</summary>
    Task ResolveReview(bool approve, string actor);

    /// <summary>Picks up whatever the payment still has to do (after a crash); the order's deadline reminder calls it.</summary>
    [OneWay]
    Task Resume();

    /// <summary>
    /// The order ended while this payment was held for review: void the authorization and withdraw the review. Answered once
    /// that is stored (no longer one-way: a lost message or a failed write left the buyer's money blocked), so the order
    /// repeats it until then.
    /// </summary>
    Task OrderCancelled(string reason);

    /// <summary>
    /// <see cref="OrderCancelled"/>, sent one-way by the order and repeated until the payment confirms through the order's
    /// <c>PaymentTookCancellation</c> (one-way too): a payment that captures or voids reports to its order and waits, so the order
    /// must not wait on its payment (the two crossing stalled both until Orleans' time-out).
    /// </summary>
    [OneWay]
    Task OrderCancelledBy(string orderId, string reason);

    /// <summary>
    /// The review of this payment is closed (withdrawn, or decided before the withdrawal came): the payment stops asking for its
    /// withdrawal. One-way, as the payment's call to withdraw it is: a review deciding calls the payment and waits, so the two
    /// must never wait on each other.
    /// </summary>
    [OneWay]
    Task ReviewClosed();

    /// <summary>The order's refund instruction, fire-and-forget; the payment answers by calling the order's RefundSettled.</summary>
    [OneWay]
    Task RequestRefund(PaymentRefundOrder refund);
}
