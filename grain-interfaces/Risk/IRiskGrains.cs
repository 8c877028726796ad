using Orleans.Trade.Common;

namespace Orleans.Trade.Risk;

/// <summary>
/// The payment history of one buyer, card, device, IP address or shipping address (R-PAY-5), kept up to date as payments are
/// scored. Key: "{kind}:{value}" (see <see cref="RiskProfiles"/>).
/// </summary>
/// <remarks>
/// Version 1 added <see cref="Facts"/>; <see cref="History"/> stays for the previous release's silos during a rolling update
/// (Orleans serves a version-1 caller only from a version-1 activation, and a version-0 caller from either). Version 2 added
/// <see cref="Reserve"/>, which this release scores with; <see cref="Facts"/> stays for version-1 silos.
/// </remarks>
[Orleans.CodeGeneration.Version(2)]
public interface IRiskProfileGrain : IGrainWithStringKey
{
    /// <summary>
    /// A copy of the whole history, for the previous release's silos only (they score from it): this release asks
    /// <see cref="Facts"/>.
    /// </summary>
    [ReadOnly]
    Task<Immutable<EntityHistory>> History();

    /// <summary>
    /// What <paramref name="attempt"/>'s features read from this history as it is now (<see cref="EntityHistory.Facts"/>):
    /// the history itself (up to <see cref="EntityHistory.MaxRecentEntries"/> entries) never leaves the grain, so it is
    /// neither copied nor sent to another silo for each payment.
    /// </summary>
    [ReadOnly]
    Task<EntityFacts> Facts(RiskEvent attempt, bool countDistinctCards);

    /// <summary>
    /// What <see cref="Facts"/> answers, counting also the attempts reserved before and not yet recorded; then reserves
    /// <paramref name="attempt"/> until its outcome is recorded (<see cref="Record"/>). Not interleaved: payments scored at once
    /// see each other, so an hourly velocity cap holds however many are sent together. The same payment again reserves nothing more.
    /// </summary>
    Task<EntityFacts> Reserve(RiskEvent attempt, bool countDistinctCards);

    /// <summary>Records an attempt after it was scored and its outcome is known; the same payment twice is recorded once.</summary>
    Task Record(RiskEvent attempt);
}

public static class RiskProfiles
{
    public static string Buyer(string id) => $"buyer:{id}";
    public static string Card(string fingerprint) => $"card:{fingerprint}";
    public static string Device(string fingerprint) => $"device:{fingerprint}";
    public static string Ip(string address) => $"ip:{address}";
    public static string Address(string key) => $"address:{key}";
}

/// <summary>
/// Thresholds and hard rules of the risk policy (R-PAY-5), changeable at run time. A blocked buyer, card, device or IP, or a
/// card or buyer over its hourly velocity cap, is blocked whatever the model says.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RiskPolicy(
    [property: Id(0)] int ReviewThreshold,
    [property: Id(1)] int BlockThreshold,
    [property: Id(2)] IReadOnlyList<string> BlockedBuyers,
    [property: Id(3)] IReadOnlyList<string> BlockedCardFingerprints,
    [property: Id(4)] IReadOnlyList<string> BlockedDevices,
    [property: Id(5)] IReadOnlyList<string> BlockedIps,
    [property: Id(6)] int? MaxPaymentsPerCardPerHour,
    [property: Id(7)] int? MaxPaymentsPerBuyerPerHour,
    [property: Id(8)] long Version,
    [property: Id(9)] DateTimeOffset? ChangedAt = null,
    [property: Id(10)] string? ChangedBy = null)
{
    public static RiskPolicy Default { get; } = new(60, 90, [], [], [], [], null, null, 0);

    public RiskDecision Decide(int score) => score >= BlockThreshold ? RiskDecision.Block : score >= ReviewThreshold ? RiskDecision.Review : RiskDecision.Allow;
}

/// <summary>This silo's cached copy of the policy; a policy written here is taken at once.</summary>
public interface IRiskPolicyCache
{
    void Set(RiskPolicy policy);
}

/// <summary>The policy, one per cluster (key <see cref="Key"/>); silos cache it and refresh it every few seconds.</summary>
public interface IRiskPolicyGrain : IGrainWithStringKey
{
    public const string Key = "policy";

    [ReadOnly]
    Task<RiskPolicy> Get();

    Task<RiskPolicy> Set(RiskPolicy policy, string changedBy);
}

/// <summary>Withdrawn: the order was cancelled (by its buyer, an admin or its deadline) before an analyst decided.</summary>
public enum RiskReviewStatus { Open, Claimed, Approved, Rejected, Withdrawn }

/// <summary>What a payment held for review brings to the queue.</summary>
[GenerateSerializer, Immutable]
public sealed record RiskReviewOpening(
    [property: Id(0)] string PaymentId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string BuyerId,
    [property: Id(3)] string SellerId,
    [property: Id(4)] Money Amount,
    [property: Id(5)] RiskScore Score,
    [property: Id(6)] RiskEvent Event,
    [property: Id(7)] IReadOnlyList<RiskFeatureValue> Features,
    [property: Id(8)] DateTimeOffset OpenedAt);

[GenerateSerializer, Immutable]
public sealed record RiskFeatureValue(
    [property: Id(0)] string Name,
    [property: Id(1)] string Description,
    [property: Id(2)] float Value);

/// <summary>One line of a review's audit trail: who did what, when, and why.</summary>
[GenerateSerializer, Immutable]
public sealed record RiskReviewAuditEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Actor,
    [property: Id(2)] string Action,
    [property: Id(3)] string? Note);

[GenerateSerializer, Immutable]
public sealed record RiskReviewView(
    [property: Id(0)] string ReviewId,
    [property: Id(1)] RiskReviewOpening Opening,
    [property: Id(2)] RiskReviewStatus Status,
    [property: Id(3)] string? ClaimedBy,
    [property: Id(4)] DateTimeOffset? ClaimedAt,
    [property: Id(5)] string? DecidedBy,
    [property: Id(6)] DateTimeOffset? DecidedAt,
    [property: Id(7)] string? DecisionNote,
    [property: Id(8)] IReadOnlyList<RiskReviewAuditEntry> Audit);

public enum ReviewActionStatus { Done, NotFound, ClaimedByAnother, AlreadyDecided, NotClaimed }

[GenerateSerializer, Immutable]
public sealed record ReviewActionResult(
    [property: Id(0)] ReviewActionStatus Status,
    [property: Id(1)] RiskReviewView? Review,
    [property: Id(2)] string? Reason);

/// <summary>
/// The analysts' review of one held payment (R-PAY-5, R-ORD-3). Key: the payment id. A claim makes one analyst its owner; only
/// the owner (or an admin) decides; the decision is final and drives the payment: approve captures it, reject voids it and
/// cancels the order. Every step is on the audit trail.
/// </summary>
/// <remarks>
/// Version 1 added <see cref="WithdrawForPayment"/>, version 2 <see cref="WithdrawBeforeDecisionCounted"/> (see
/// <c>IOrderGrain</c> on versions).
/// </remarks>
[Orleans.CodeGeneration.Version(2)]
public interface IRiskReviewGrain : IGrainWithStringKey
{
    Task<RiskReviewView> Open(RiskReviewOpening opening);

    Task<ReviewActionResult> Claim(string actor, bool isAdmin);

    Task<ReviewActionResult> Decide(string actor, bool isAdmin, bool approve, string note);

    /// <summary>Closes an undecided review whose order was cancelled: no decision can be taken on it any more.</summary>
    Task Withdraw(string reason);

    /// <summary>
    /// <see cref="Withdraw"/>, asked by the payment one-way; once the review is closed it tells the payment
    /// (<c>IPaymentGrain.ReviewClosed</c>, one-way too). A deciding review waits on the payment, so the payment must not wait
    /// on the review: the two calls crossing stalled both until Orleans' time-out.
    /// </summary>
    [OneWay]
    Task WithdrawForPayment(string reason);

    /// <summary>
    /// <see cref="WithdrawForPayment"/>, from a payment that took its order's cancellation before it had acted on any decision
    /// of this review: a review already decided when asked was decided too late, and its trail says the decision was not acted
    /// on (<c>NotActedOn</c>); the decision itself stays.
    /// </summary>
    [OneWay]
    Task WithdrawBeforeDecisionCounted(string reason);

    [ReadOnly]
    Task<RiskReviewView?> Get();
}
