using Orleans.Trade.Common;

namespace Orleans.Trade.Payments;

/// <summary>How the buyer pays (R-PAY-1, R-PAY-3).</summary>
public enum PaymentMethodType
{
    /// <summary>A stored card, by token.</summary>
    Card,
    /// <summary>A digital wallet account at the provider.</summary>
    Wallet,
    /// <summary>A local bank transfer: the buyer gets a reference and pays by a deadline; confirmed when the money arrives.</summary>
    BankTransfer,
    /// <summary>A card payment split into 3, 6 or 12 monthly instalments; the provider pays the full amount up front.</summary>
    Instalments,
}

/// <summary>
/// What the provider needs to charge a buyer. Card fields are what PCI DSS lets us keep with a token (BIN, last four); the
/// number itself never reaches this record. <see cref="InstalmentCount"/> is set for <see cref="PaymentMethodType.Instalments"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PaymentInstrument(
    [property: Id(0)] PaymentMethodType Type,
    [property: Id(1)] string? CardToken = null,
    [property: Id(2)] string? CardBin = null,
    [property: Id(3)] string? CardLast4 = null,
    [property: Id(4)] string? WalletAccount = null,
    [property: Id(5)] int? InstalmentCount = null,
    [property: Id(6)] string? CardFingerprint = null,
    [property: Id(7)] string? CardBinCountry = null);

/// <summary>An authorization request. The provider deduplicates on <paramref name="IdempotencyKey"/>: a repeat gets the first outcome.</summary>
/// <param name="PayBy">Bank transfers only: when the reference expires.</param>
/// <param name="CaptureAtOnce">
/// Capture as soon as the payment is authorized (a "sale"; automatic capture): one request instead of authorize then capture.
/// The outcome is then <see cref="ProviderPaymentStatus.Captured"/> when approved at once; a payment that must wait (3-D Secure,
/// a bank transfer) is captured when it is authorized.
/// </param>
public sealed record ProviderAuthorizeRequest(
    string PaymentId,
    string IdempotencyKey,
    Money Amount,
    PaymentInstrument Instrument,
    DateTimeOffset? PayBy = null,
    bool CaptureAtOnce = false);

/// <summary>Where a payment stands at the provider.</summary>
public enum ProviderPaymentStatus
{
    /// <summary>Accepted, outcome not known yet; a webhook will tell (or a lookup later).</summary>
    Processing,
    /// <summary>3-D Secure: the buyer must complete a challenge at <see cref="ProviderOutcome.ActionUrl"/>.</summary>
    RequiresAction,
    /// <summary>Bank transfer: waiting for the buyer's money under <see cref="ProviderOutcome.TransferReference"/>.</summary>
    AwaitingTransfer,
    Authorized,
    Captured,
    Declined,
    Voided,
    /// <summary>A bank-transfer reference passed its pay-by time without money arriving.</summary>
    Expired,
}

/// <summary>The provider's answer to a request, or the state a webhook or lookup reports.</summary>
[GenerateSerializer, Immutable]
public sealed record ProviderOutcome(
    [property: Id(0)] ProviderPaymentStatus Status,
    [property: Id(1)] string? ProviderPaymentId,
    [property: Id(2)] string? DeclineCode = null,
    [property: Id(3)] string? Message = null,
    [property: Id(4)] string? ActionUrl = null,
    [property: Id(5)] string? TransferReference = null);

public enum RefundOutcomeStatus { Succeeded, Pending, Failed }

public sealed record ProviderRefundOutcome(RefundOutcomeStatus Status, string? ProviderRefundId, string? Message = null);

/// <summary>A provider webhook, verified and parsed. <paramref name="PaymentId"/> is our payment id (the merchant reference).</summary>
/// <param name="RefundId">Set for refund events; then <paramref name="Outcome"/> is the payment's state after the refund.</param>
/// <param name="Amount">The amount the provider holds the payment for, when the event says.</param>
/// <param name="CapturedMinor">How much of it the provider has captured, when the event says.</param>
/// <param name="RefundAmount">Refund events: the amount the provider says this refund returns.</param>
[GenerateSerializer, Immutable]
public sealed record ProviderEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string PaymentId,
    [property: Id(2)] ProviderOutcome Outcome,
    [property: Id(3)] string? RefundId = null,
    [property: Id(4)] RefundOutcomeStatus? RefundStatus = null,
    [property: Id(5)] Money? Amount = null,
    [property: Id(6)] long? CapturedMinor = null,
    [property: Id(7)] Money? RefundAmount = null);

/// <summary>The provider did not answer in time or answered with a server error: the outcome is unknown, not a decline.</summary>
public sealed class PaymentProviderUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A webhook whose signature, timestamp or body is not valid; it must be refused, never acted on.</summary>
public sealed class InvalidWebhookException(string message) : Exception(message);

/// <summary>
/// A payment provider adapter (R-PAY-1, R-ROLE-3). Every call carries an idempotency key that the provider honours, so a call
/// repeated after a time-out or a crash returns the first outcome instead of charging twice. Calls that time out or meet a
/// server error throw <see cref="PaymentProviderUnavailableException"/>: the caller keeps the payment open and asks again.
/// </summary>
public interface IPaymentProvider
{
    /// <summary>The provider's name, recorded on each payment.</summary>
    string Name { get; }

    Task<ProviderOutcome> AuthorizeAsync(ProviderAuthorizeRequest request, CancellationToken cancellationToken);

    Task<ProviderOutcome> CaptureAsync(string providerPaymentId, Money amount, string idempotencyKey, CancellationToken cancellationToken);

    Task<ProviderOutcome> VoidAsync(string providerPaymentId, string idempotencyKey, CancellationToken cancellationToken);

    Task<ProviderRefundOutcome> RefundAsync(string providerPaymentId, string refundId, Money amount, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>The provider's current view of our payment (by our payment id), or null if it never saw it.</summary>
    Task<ProviderOutcome?> LookupAsync(string paymentId, CancellationToken cancellationToken);

    /// <summary>Verifies and parses a webhook request; throws <see cref="InvalidWebhookException"/> when it is not genuine.</summary>
    ProviderEvent ParseWebhook(IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body);
}
