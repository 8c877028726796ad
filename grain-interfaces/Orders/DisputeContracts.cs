namespace Orleans.Trade.Orders;

/// <summary>Why the buyer disputes an order (R-DIS-1, R-DIS-4).</summary>
public enum DisputeReason
{
    NotReceived,
    NotAsDescribed,
    Damaged,
    WrongItem,
    /// <summary>Late shipment or tracking that does not show the parcel moving (R-DIS-4).</summary>
    LateOrFakeTracking,
    Other,
}

/// <summary>Where a dispute is (R-DIS-1): the seller's turn, then the platform's arbitration, then ended.</summary>
public enum DisputeStatus
{
    /// <summary>Opened by the buyer; the seller has until <c>RespondBy</c> to accept or contest it.</summary>
    AwaitingSeller,
    /// <summary>Contested by the seller, or not answered in time: an arbitrator decides (R-DIS-2).</summary>
    UnderArbitration,
    /// <summary>Ended by the seller's acceptance or an arbitrator's verdict, carried out on the order (R-DIS-3).</summary>
    Resolved,
    /// <summary>The buyer took it back; the order goes on.</summary>
    Withdrawn,
}

/// <summary>
/// How a dispute ended: money back to the buyer (all or part), closed in the seller's favour, or (late shipment or fake tracking,
/// R-DIS-4) a compensation of a share of the order's value paid by the seller, the buyer keeping the goods.
/// </summary>
public enum DisputeOutcome { FullRefund, PartialRefund, Close, Compensate }

/// <summary>What a dispute command does.</summary>
public enum DisputeStep { Open, AddEvidence, Respond, Withdraw, Decide }

/// <summary>Evidence for a dispute (R-DIS-2): a statement and links to what backs it (photos, tracking proof, chat logs).</summary>
[GenerateSerializer, Immutable]
public sealed record DisputeEvidence(
    [property: Id(0)] string Party,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Note,
    [property: Id(3)] IReadOnlyList<string> Attachments);

/// <summary>The seller's answer: accepted (the refund asked for is paid) or contested with its case.</summary>
[GenerateSerializer, Immutable]
public sealed record DisputeSellerResponse(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] string Note,
    [property: Id(2)] string By,
    [property: Id(3)] DateTimeOffset At);

/// <summary>
/// How a dispute ended, by whom, and the refund or compensation that carried it out (<paramref name="RefundId"/> names either;
/// none for a close or a withdrawal).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DisputeResolution(
    [property: Id(0)] DisputeOutcome? Outcome,
    [property: Id(1)] Common.Money? Refund,
    [property: Id(2)] string? RefundId,
    [property: Id(3)] string Note,
    [property: Id(4)] string By,
    [property: Id(5)] DateTimeOffset At,
    [property: Id(6), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    int? CompensationPercent = null,
    [property: Id(7), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Common.Money? Compensation = null);

/// <summary>A buyer's dispute of an order, as the order keeps it.</summary>
[GenerateSerializer, Immutable]
public sealed record DisputeView(
    [property: Id(0)] string DisputeId,
    [property: Id(1)] DisputeStatus Status,
    [property: Id(2)] DisputeReason Reason,
    [property: Id(3)] string Description,
    [property: Id(4)] Common.Money Requested,
    [property: Id(5)] string OpenedBy,
    [property: Id(6)] DateTimeOffset OpenedAt,
    [property: Id(7)] DateTimeOffset RespondBy,
    [property: Id(8)] DateTimeOffset? EscalatedAt,
    [property: Id(9)] DateTimeOffset? ArbitrationDueAt,
    [property: Id(10)] DisputeSellerResponse? SellerResponse,
    [property: Id(11)] IReadOnlyList<DisputeEvidence> Evidence,
    [property: Id(12)] DisputeResolution? Resolution)
{
    public bool IsOpen => Status is DisputeStatus.AwaitingSeller or DisputeStatus.UnderArbitration;
}

/// <summary>
/// One step of a dispute: <see cref="DisputeStep.Open"/> (reason, description, the amount asked for or null for everything not yet
/// refunded), <see cref="DisputeStep.AddEvidence"/> (note, attachments), <see cref="DisputeStep.Respond"/> (accept or not, note),
/// <see cref="DisputeStep.Withdraw"/> (note), <see cref="DisputeStep.Decide"/> (outcome, amount for a partial refund, the percentage
/// of the order's value for a compensation, note).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DisputeCommand(
    [property: Id(0)] DisputeStep Step,
    [property: Id(1)] OrderActor Actor,
    [property: Id(2)] string? Note = null,
    [property: Id(3)] DisputeReason? Reason = null,
    [property: Id(4)] Common.Money? Amount = null,
    [property: Id(5)] IReadOnlyList<string>? Attachments = null,
    [property: Id(6)] bool? Accept = null,
    [property: Id(7)] DisputeOutcome? Outcome = null,
    [property: Id(8)] int? CompensationPercent = null);

public enum DisputeCommandStatus { Applied, Existing, NotFound, Forbidden, Conflict, Invalid }

[GenerateSerializer, Immutable]
public sealed record DisputeResult(
    [property: Id(0)] DisputeCommandStatus Status,
    [property: Id(1)] DisputeView? Dispute,
    [property: Id(2)] string? Reason,
    [property: Id(3)] OrderStatus? OrderStatus = null);

/// <summary>The bounds and amount of a compensation for a late shipment or fake tracking (R-DIS-4: 5%-30% of the order's value).</summary>
public static class CompensationRules
{
    public const int MinPercent = 5;
    public const int MaxPercent = 30;

    public static bool IsAllowedPercent(int percent) => percent is >= MinPercent and <= MaxPercent;

    /// <summary><paramref name="percent"/> of <paramref name="valueMinor"/>, rounded down: never more than the share decided.</summary>
    public static long Amount(long valueMinor, int percent) => (long)((Int128)valueMinor * percent / 100);
}
