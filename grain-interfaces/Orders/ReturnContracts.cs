namespace Orleans.Trade.Orders;

/// <summary>
/// Why the buyer sends goods back (R-DIS-4, R-DIS-5). <see cref="NoReason"/> is the 15-day no-reason return of eligible
/// categories, whose shipping back the buyer pays; the others are the seller's fault, and the seller pays it (a prepaid label).
/// </summary>
public enum ReturnReason { NoReason, NotAsDescribed, Damaged, WrongItem }

/// <summary>Where a return is (R-DIS-5).</summary>
public enum ReturnStatus
{
    /// <summary>Requested; the seller gives a return address by <c>AddressDueBy</c>, or the refund is paid without the goods coming back.</summary>
    AwaitingAddress,
    /// <summary>The seller gave the address (and, when at fault, a prepaid label); the buyer sends the goods by <c>ShipBy</c>.</summary>
    AwaitingShipment,
    /// <summary>On the way back; the seller confirms receipt by <c>ReceiptDueBy</c>, or the refund is paid all the same.</summary>
    Shipped,
    /// <summary>The seller reported a problem with what came back: an arbitrator decides (R-DIS-2).</summary>
    UnderArbitration,
    /// <summary>Ended with a refund (all the return's amount or part of it, as decided).</summary>
    Refunded,
    /// <summary>Ended without a refund: an arbitrator rejected it.</summary>
    Rejected,
    /// <summary>Ended by the buyer (withdrawn), or not sent back in time.</summary>
    Cancelled,
}

/// <summary>An arbitrator's verdict on a return the seller reported a problem with.</summary>
public enum ReturnOutcome { Refund, PartialRefund, Reject }

/// <summary>What a return command does.</summary>
public enum ReturnStep { Request, GiveAddress, Ship, ConfirmReceipt, Withdraw, Decide }

/// <summary>Units of one order line sent back.</summary>
[GenerateSerializer, Immutable]
public sealed record ReturnLine(
    [property: Id(0)] string SkuId,
    [property: Id(1)] long Quantity);

/// <summary>A parcel: the carrier and its tracking number (the label the seller prepaid, or the buyer's own shipment).</summary>
[GenerateSerializer, Immutable]
public sealed record ReturnParcel(
    [property: Id(0)] string Carrier,
    [property: Id(1)] string TrackingNumber);

/// <summary>One step of a return, by whom and when, with what they said.</summary>
[GenerateSerializer, Immutable]
public sealed record ReturnNote(
    [property: Id(0)] string By,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Note);

/// <summary>A buyer's return of an order's goods, as the order keeps it.</summary>
[GenerateSerializer, Immutable]
public sealed record ReturnView(
    [property: Id(0)] string ReturnId,
    [property: Id(1)] ReturnStatus Status,
    [property: Id(2)] ReturnReason Reason,
    [property: Id(3)] string Description,
    [property: Id(4)] IReadOnlyList<ReturnLine> Lines,
    // What goes back to the buyer once the goods are back (or the return is approved without them), in the order's currency.
    [property: Id(5)] Common.Money Amount,
    [property: Id(6)] bool SellerPaysShipping,
    [property: Id(7)] string RequestedBy,
    [property: Id(8)] DateTimeOffset RequestedAt,
    [property: Id(9)] DateTimeOffset AddressDueBy,
    [property: Id(10)] IReadOnlyList<string> Attachments,
    [property: Id(11)] ShippingAddress? ReturnAddress = null,
    [property: Id(12)] ReturnParcel? PrepaidLabel = null,
    [property: Id(13)] DateTimeOffset? ShipBy = null,
    [property: Id(14)] ReturnParcel? Parcel = null,
    [property: Id(15)] DateTimeOffset? ShippedAt = null,
    [property: Id(16)] DateTimeOffset? ReceiptDueBy = null,
    [property: Id(17)] ReturnNote? SellerReport = null,
    [property: Id(18)] DateTimeOffset? ArbitrationDueAt = null,
    [property: Id(19)] ReturnNote? Ending = null,
    [property: Id(20)] Common.Money? Refund = null,
    [property: Id(21)] string? RefundId = null,
    // Where the seller put the goods that came back into stock (R-INV-1), and whether the SKUs took them.
    [property: Id(22)] string? RestockWarehouseId = null,
    [property: Id(23)] bool Restocked = false,
    // An arbitrator's verdict as given (the amount asked by a partial refund, before any cap): the same verdict sent again is
    // answered with the return, another one is refused.
    [property: Id(24)] ReturnOutcome? Verdict = null,
    [property: Id(25)] Common.Money? VerdictAmount = null)
{
    public bool IsOpen => Status is ReturnStatus.AwaitingAddress or ReturnStatus.AwaitingShipment or ReturnStatus.Shipped or ReturnStatus.UnderArbitration;

    /// <summary>
    /// When the open return's next step is due: the seller's address, the buyer's dispatch, the seller's confirmation (each
    /// carried out by the order when it passes), or the arbitrator's verdict (a ticket's due time only).
    /// </summary>
    public DateTimeOffset? DueAt => Status switch
    {
        ReturnStatus.AwaitingAddress => AddressDueBy,
        ReturnStatus.AwaitingShipment => ShipBy,
        ReturnStatus.Shipped => ReceiptDueBy,
        ReturnStatus.UnderArbitration => ArbitrationDueAt,
        _ => null,
    };
}

/// <summary>
/// One step of a return: <see cref="ReturnStep.Request"/> (reason, description in <c>Note</c>, lines or null for every line,
/// attachments), <see cref="ReturnStep.GiveAddress"/> (address, the prepaid label, note), <see cref="ReturnStep.Ship"/> (parcel),
/// <see cref="ReturnStep.ConfirmReceipt"/> (accept or report a problem, note, the warehouse whose stock takes the goods back),
/// <see cref="ReturnStep.Withdraw"/> (note),
/// <see cref="ReturnStep.Decide"/> (outcome, amount for a partial refund, note).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReturnCommand(
    [property: Id(0)] ReturnStep Step,
    [property: Id(1)] OrderActor Actor,
    [property: Id(2)] string? Note = null,
    [property: Id(3)] ReturnReason? Reason = null,
    [property: Id(4)] IReadOnlyList<ReturnLine>? Lines = null,
    [property: Id(5)] IReadOnlyList<string>? Attachments = null,
    [property: Id(6)] ShippingAddress? Address = null,
    [property: Id(7)] ReturnParcel? Parcel = null,
    [property: Id(8)] bool? Accept = null,
    [property: Id(9)] ReturnOutcome? Outcome = null,
    [property: Id(10)] Common.Money? Amount = null,
    [property: Id(11)] string? WarehouseId = null);

public enum ReturnCommandStatus { Applied, Existing, NotFound, Forbidden, Conflict, Invalid }

[GenerateSerializer, Immutable]
public sealed record ReturnResult(
    [property: Id(0)] ReturnCommandStatus Status,
    [property: Id(1)] ReturnView? Return,
    [property: Id(2)] string? Reason,
    [property: Id(3)] OrderStatus? OrderStatus = null,
    // For Invalid: the request field at fault, when one is.
    [property: Id(4)] string? Field = null);
