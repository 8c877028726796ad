using Orleans.Trade.Common;

namespace Orleans.Trade.Payments.Sandbox;

/// <summary>Settings of the sandbox payment provider (<c>Payments:Sandbox</c>): its server inside the silo and our adapter to it.</summary>
public sealed class SandboxPspOptions
{
    public const string Section = "Payments:Sandbox";

    /// <summary>
    /// The merchant's secret API key, sent as <c>Authorization: Bearer</c>. Unset: a random one for this process, which is
    /// enough when the sandbox runs in the same silos as the shop; a sandbox in processes of its own needs it set on both sides.
    /// There is no default to know: a silo refuses to start with a placeholder (one containing "change-me") or fewer than 16
    /// characters, since anyone who knows the key can mark transfers received at the sandbox.
    /// </summary>
    public string ApiKey { get; set; } = "";
    /// <summary>The key that signs webhooks (HMAC-SHA256); unset and placeholders as for <see cref="ApiKey"/>: a forged webhook marks orders paid.</summary>
    public string WebhookSecret { get; set; } = "";
    /// <summary>Where the sandbox POSTs its events; unset means this silo's own <c>/api/v1/payments/webhooks/sandbox</c>.</summary>
    public Uri? WebhookUrl { get; set; }
    /// <summary>Where the adapter finds the sandbox; unset means this silo's own address.</summary>
    public Uri? BaseUrl { get; set; }
    /// <summary>How long the adapter waits for one answer before the outcome counts as unknown.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);
    /// <summary>Retries of the adapter after a connection error, a 5xx or a request still in progress (same idempotency key).</summary>
    public int MaxRetries { get; set; } = 2;
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>How long the slow test card (…0119) keeps its first authorize answer back.</summary>
    public TimeSpan SlowResponseDelay { get; set; } = TimeSpan.FromSeconds(8);
    /// <summary>Bank transfers without a pay-by time may be paid within this window.</summary>
    public TimeSpan DefaultTransferWindow { get; set; } = TimeSpan.FromDays(3);
    /// <summary>First webhook retry delay; doubles per failed attempt up to <see cref="WebhookMaxBackoff"/>.</summary>
    public TimeSpan WebhookRetryBase { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan WebhookMaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The wait after <paramref name="attempts"/> failed deliveries: <see cref="WebhookRetryBase"/> doubled per attempt, at most
    /// <see cref="WebhookMaxBackoff"/>, however large the base (shifted in ticks, a base of 15 minutes overflowed into a negative
    /// wait after 30 attempts, and the event was then sent again on every pass).
    /// </summary>
    public TimeSpan WebhookBackoff(int attempts)
    {
        var max = Math.Max(0, WebhookMaxBackoff.Ticks);
        var first = Math.Clamp(WebhookRetryBase.Ticks, 0, max);
        var shift = Math.Clamp(attempts, 0, 62);
        return TimeSpan.FromTicks(first > max >> shift ? max : first << shift);
    }
    /// <summary>An event not delivered within this time is dropped (logged), as real providers stop after a few days.</summary>
    public TimeSpan WebhookGiveUpAfter { get; set; } = TimeSpan.FromDays(3);
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>A payment instrument as the sandbox sees it: never a card number, only BIN and last four.</summary>
[GenerateSerializer, Immutable]
public sealed record SandboxInstrument(
    [property: Id(0)] PaymentMethodType? Type,
    [property: Id(1)] string? CardBin = null,
    [property: Id(2)] string? CardLast4 = null,
    [property: Id(3)] string? WalletAccount = null,
    [property: Id(4)] int? InstalmentCount = null);

/// <summary>A sandbox payment as its API answers, its lookups report and its webhooks carry.</summary>
[GenerateSerializer, Immutable]
public sealed record SandboxPaymentView(
    [property: Id(0)] string ProviderPaymentId,
    [property: Id(1)] string Reference,
    [property: Id(2)] ProviderPaymentStatus Status,
    [property: Id(3)] Money Amount,
    [property: Id(4)] PaymentMethodType Method,
    [property: Id(5)] long CapturedMinor,
    [property: Id(6)] long RefundedMinor,
    [property: Id(7)] string? DeclineCode,
    [property: Id(8)] string? Message,
    [property: Id(9)] string? ActionUrl,
    [property: Id(10)] string? TransferReference,
    [property: Id(11)] DateTimeOffset? PayBy,
    [property: Id(12)] DateTimeOffset CreatedAt,
    [property: Id(13)] DateTimeOffset UpdatedAt);

[GenerateSerializer, Immutable]
public sealed record SandboxRefundView(
    [property: Id(0)] string RefundId,
    [property: Id(1)] string ProviderRefundId,
    [property: Id(2)] RefundOutcomeStatus Status,
    [property: Id(3)] Money Amount,
    [property: Id(4)] DateTimeOffset CreatedAt);

/// <summary>How the sandbox answers a request: mapped to HTTP 200, 404, 409 or 422.</summary>
public enum SandboxAnswerKind { Ok, NotFound, Conflict, InProgress, Unprocessable }

/// <summary>
/// One answer of the sandbox. <paramref name="AnswerAfter"/> is set only on the first answer of the slow test card: the
/// payment is already recorded, the HTTP answer waits.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SandboxAnswer(
    [property: Id(0)] SandboxAnswerKind Kind,
    [property: Id(1)] SandboxPaymentView? Payment,
    [property: Id(2)] SandboxRefundView? Refund = null,
    [property: Id(3)] string? Detail = null,
    [property: Id(4)] TimeSpan AnswerAfter = default);

[GenerateSerializer, Immutable]
public sealed record SandboxAuthorizeCommand(
    [property: Id(0)] Money Amount,
    [property: Id(1)] SandboxInstrument Instrument,
    [property: Id(2)] DateTimeOffset? PayBy,
    [property: Id(3)] string PublicBaseUrl,
    [property: Id(4)] bool CaptureAtOnce = false);

/// <summary>
/// One sandbox payment, keyed by the merchant's reference (our payment id) so that lookups by reference need no index.
/// Every state-changing call names its idempotency key; a repeat returns the stored answer.
/// </summary>
public interface ISandboxPspPaymentGrain : IGrainWithStringKey
{
    Task<SandboxAnswer> Authorize(string idempotencyKey, SandboxAuthorizeCommand command);
    Task<SandboxAnswer> Capture(string idempotencyKey, Money amount);
    Task<SandboxAnswer> Void(string idempotencyKey);
    Task<SandboxAnswer> Refund(string idempotencyKey, string refundId, Money amount);
    Task<SandboxAnswer> CompleteChallenge(bool passed);
    Task<SandboxAnswer> ReceiveTransfer();
    Task<SandboxPaymentView?> Get();

    /// <summary>Internal: the webhook timer reports which events were delivered (called by the grain on itself).</summary>
    Task RecordDeliveries(string[] delivered, string[] failed);
}

/// <summary>A bank-transfer reference of the sandbox (keyed by the canonical reference), pointing at its payment.</summary>
public interface ISandboxPspTransferGrain : IGrainWithStringKey
{
    /// <summary>Binds the transfer reference to a payment; returns the payment it is bound to (another one when taken).</summary>
    Task<string> Bind(string paymentReference);
    Task<string?> PaymentReference();
}

// The JSON bodies of the sandbox's HTTP API (camelCase on the wire).
/// <param name="CaptureMethod"><c>manual</c> (the default: authorize only, the merchant captures) or <c>automatic</c> (capture on authorization).</param>
public sealed record SandboxAuthorizeBody(string? Reference, Money? Amount, SandboxInstrument? Instrument, DateTimeOffset? PayBy, string? CaptureMethod = null);

/// <summary>The values of <see cref="SandboxAuthorizeBody.CaptureMethod"/>.</summary>
public static class SandboxCaptureMethods
{
    public const string Manual = "manual";
    public const string Automatic = "automatic";
}

public sealed record SandboxCaptureBody(Money? Amount);

public sealed record SandboxRefundBody(string? RefundId, Money? Amount);

public sealed record SandboxChallengeBody(string? Result);

public sealed record SandboxRefundAnswer(SandboxRefundView Refund, SandboxPaymentView Payment);

/// <summary>Codes in the sandbox's problem answers that clients act on.</summary>
public static class SandboxProblemCodes
{
    /// <summary>409: the first request with this Idempotency-Key is still running; retry the same request shortly.</summary>
    public const string InProgress = "idempotency_key_in_use";
}

/// <summary>How sandbox ids are formed; the provider payment id carries the merchant reference so that either finds the payment.</summary>
public static class SandboxIds
{
    private const string PaymentPrefix = "psp_";

    public static string ProviderPaymentId(string reference) =>
        PaymentPrefix + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(reference)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryReference(string providerPaymentId, out string reference)
    {
        reference = "";
        if (!providerPaymentId.StartsWith(PaymentPrefix, StringComparison.Ordinal) || providerPaymentId.Length > 200)
        {
            return false;
        }
        var b64 = providerPaymentId[PaymentPrefix.Length..].Replace('-', '+').Replace('_', '/');
        b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
        var bytes = new byte[b64.Length];
        if (!Convert.TryFromBase64String(b64, bytes, out var count) || count == 0)
        {
            return false;
        }
        reference = System.Text.Encoding.UTF8.GetString(bytes, 0, count);
        return ProviderPaymentId(reference) == providerPaymentId;
    }

    /// <summary>Transfer references are typed by people: upper case, dashes and spaces ignored.</summary>
    public static string CanonicalTransferReference(string typed) =>
        new(typed.Where(c => c is not ('-' or ' ')).Select(char.ToUpperInvariant).ToArray());
}
