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
public enum DisputeStep { Open, AddEvidence, Respond, Withdraw, Decide, OrderInspection, ReportInspection }

/// <summary>What a third-party inspection of disputed goods found (R-DIS-6): who is at fault, or that it could not tell.</summary>
public enum InspectionFinding { BuyerAtFault, SellerAtFault, Inconclusive }

/// <summary>Who paid an inspection's fee (R-DIS-6): the party at fault, or the platform when the finding was inconclusive or the buyer's refund did not cover it.</summary>
public enum InspectionFeePayer { Seller, Buyer, Platform }

/// <summary>The inspector's report on disputed goods, submitted by an admin: the finding, its summary and links to the report.</summary>
[GenerateSerializer, Immutable]
public sealed record InspectionReport(
    [property: Id(0)] InspectionFinding Finding,
    [property: Id(1)] string Summary,
    [property: Id(2)] IReadOnlyList<string> Attachments,
    [property: Id(3)] string By,
    [property: Id(4)] DateTimeOffset At);

/// <summary>
/// A third-party inspection of a dispute's goods (R-DIS-6), ordered by an admin from an inspection agency for a fee in the order's
/// currency, due by <paramref name="DueAt"/> (working days); <paramref name="Overdue"/> once it passed unreported (a ticket was opened).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DisputeInspection(
    [property: Id(0)] string InspectionId,
    [property: Id(1)] string Inspector,
    [property: Id(2)] Common.Money Fee,
    [property: Id(3)] DateTimeOffset DueAt,
    [property: Id(4)] string OrderedBy,
    [property: Id(5)] DateTimeOffset OrderedAt,
    [property: Id(6)] string Note,
    [property: Id(7)] InspectionReport? Report = null,
    [property: Id(8)] bool Overdue = false);

/// <summary>
/// Who paid an inspection's fee when the verdict was carried out (R-DIS-6), in the order's currency: charged to the seller's ledger
/// (<paramref name="FromSeller"/>, deposit first), kept from the buyer's refund (<paramref name="FromBuyerRefund"/>, and its share in
/// the buyer's currency), and what the platform bore. <paramref name="Booked"/> once the seller's ledger holds the charge (nothing to
/// book: true at once); <paramref name="Funding"/> says what of the seller's money paid, in its settlement currency.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InspectionFeeSettlement(
    [property: Id(0)] string InspectionId,
    [property: Id(1)] InspectionFeePayer PaidBy,
    [property: Id(2)] Common.Money Fee,
    [property: Id(3)] Common.Money FromSeller,
    [property: Id(4)] Common.Money FromBuyerRefund,
    [property: Id(5)] Common.Money FromBuyerRefundInBuyerCurrency,
    [property: Id(6)] Common.Money BorneByPlatform,
    [property: Id(7)] bool Booked,
    [property: Id(8), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Wallets.CompensationFunding? Funding = null);

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
    Common.Money? Compensation = null,
    [property: Id(8), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    InspectionFeeSettlement? InspectionFee = null);

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
    [property: Id(12)] DisputeResolution? Resolution,
    [property: Id(13), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    DisputeInspection? Inspection = null)
{
    public bool IsOpen => Status is DisputeStatus.AwaitingSeller or DisputeStatus.UnderArbitration;
}

/// <summary>
/// One step of a dispute: <see cref="DisputeStep.Open"/> (reason, description, the amount asked for or null for everything not yet
/// refunded), <see cref="DisputeStep.AddEvidence"/> (note, attachments), <see cref="DisputeStep.Respond"/> (accept or not, note),
/// <see cref="DisputeStep.Withdraw"/> (note), <see cref="DisputeStep.Decide"/> (outcome, amount for a partial refund, the percentage
/// of the order's value for a compensation, note), <see cref="DisputeStep.OrderInspection"/> (inspector, fee, note),
/// <see cref="DisputeStep.ReportInspection"/> (finding, note as the summary, attachments as the report's links).
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
    [property: Id(8)] int? CompensationPercent = null,
    [property: Id(9)] string? Inspector = null,
    [property: Id(10)] Common.Money? Fee = null,
    [property: Id(11)] InspectionFinding? Finding = null);

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
