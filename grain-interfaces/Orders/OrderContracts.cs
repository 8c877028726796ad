using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

public enum OrderSource { Checkout, Import }

/// <summary>One requested line of a cart.</summary>
[GenerateSerializer, Immutable]
public sealed record CartLine(
    [property: Id(0)] string SkuId,
    [property: Id(1)] long Quantity);

/// <summary>Everything needed to place one seller's order; built by the checkout (or import) and sent to the order grain.</summary>
[GenerateSerializer, Immutable]
public sealed record OrderPlacement(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CheckoutId,
    [property: Id(2)] string BuyerId,
    [property: Id(3)] string SellerId,
    [property: Id(4)] string BuyerCurrency,
    [property: Id(5)] ShippingAddress ShipTo,
    [property: Id(6)] IReadOnlyList<CartLine> Lines,
    [property: Id(7)] OrderSource Source,
    [property: Id(8)] ExternalOrderRef? External,
    [property: Id(9)] string Actor,
    [property: Id(10)] string? CouponCode,
    /// <summary>The ad channel and campaign that brought the buyer, as the checkout request named them (R-DAT-4); null when none did.</summary>
    [property: Id(11)] OrderAttribution? Attribution = null,
    /// <summary>
    /// The checkout's key (its grain's): a coupon redemption taken for an order of an earlier attempt of the same checkout does not
    /// count against this one's. Null for imports, and from a silo of an earlier release.
    /// </summary>
    [property: Id(12)] string? CheckoutKey = null)
{
    /// <summary>
    /// The buyer the order belongs to (who may read, pay and cancel it, and whose list it is in). An imported order's buyer is
    /// the other platform's, '{platform}:{buyerId}', which no buyer of this platform can be: imports stored before the import API
    /// qualified the id are qualified here, so a buyer here with the same bare id has no hold on them.
    /// </summary>
    public string Owner => Source == OrderSource.Import && External is { } external && !BuyerId.Contains(':')
        ? $"{external.Platform}:{BuyerId}"
        : BuyerId;
}

/// <summary>
/// The marketing channel (a lowercase slug such as <c>google-ads</c>, <c>affiliate</c>, <c>email</c>, <c>organic</c>) and optionally
/// the campaign within it that brought an order's buyer (R-DAT-4): kept on every order of the checkout, counted by ad ROI.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OrderAttribution(
    [property: Id(0)] string Channel,
    [property: Id(1)] string? Campaign = null);

/// <summary>An order that came from another marketplace through an ERP (R-ORD-4).</summary>
[GenerateSerializer, Immutable]
public sealed record ExternalOrderRef(
    [property: Id(0)] string Platform,
    [property: Id(1)] string ExternalOrderId,
    [property: Id(2)] bool PaidExternally);

[GenerateSerializer, Immutable]
public sealed record OrderLine(
    [property: Id(0)] string SkuId,
    [property: Id(1)] string Title,
    [property: Id(2)] long Quantity,
    [property: Id(3)] Money UnitPrice,
    [property: Id(4)] Money LineTotal,
    [property: Id(5)] IReadOnlyList<StockAllocationPart> Allocation,
    [property: Id(6)] string? Category = null,
    /// <summary>
    /// The seller's cost of one unit as the SKU's catalog had it when the order was placed (R-DAT-4), in the price's currency; null
    /// when the catalog had none. The seller's secret: never in the API's order answers (their lines are <c>OrderLineResponse</c>).
    /// </summary>
    [property: Id(7), System.Text.Json.Serialization.JsonIgnore] Money? UnitCost = null);

/// <summary>
/// Totals with the rate locked on the order (R-PAY-2). <see cref="Seller"/> is the goods value in the seller's currency;
/// <see cref="Shipping"/> the shipping fee its SKUs' shipping templates charge (R-LOG-1; null when none applies, zero when free);
/// <see cref="Tax"/> is destination VAT collected at checkout under IOSS (R-SET-2), if any, on goods and shipping, in the same
/// currency; <see cref="Buyer"/> is what the buyer pays (goods, shipping and tax) in the buyer's currency.
/// With a seller's coupon, <see cref="Discount"/> is what it took off the lines' list value and <see cref="Seller"/> the goods
/// value after it: what the buyer pays for the goods, on which VAT, escrow, commission and refunds are counted.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OrderTotals(
    [property: Id(0)] Money Seller,
    [property: Id(1)] Money Buyer,
    [property: Id(2)] decimal FxRate,
    [property: Id(3)] DateTimeOffset FxRateAt,
    [property: Id(4)] Money? Tax = null,
    [property: Id(5)] string? TaxCountry = null,
    [property: Id(6)] Money? Shipping = null,
    [property: Id(7), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Money? Discount = null)
{
    /// <summary>What is charged in the seller's currency: goods, shipping and collected tax; this is what escrow holds.</summary>
    public Money Charged => new(Seller.AmountMinor + (Shipping?.AmountMinor ?? 0) + (Tax?.AmountMinor ?? 0), Seller.Currency);
}

[GenerateSerializer, Immutable]
public sealed record Shipment(
    [property: Id(0)] string Carrier,
    [property: Id(1)] string TrackingNumber,
    [property: Id(2)] DateTimeOffset ShippedAt,
    [property: Id(3), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    DateTimeOffset? CorrectedAt = null);

/// <summary>One node of an order's history (R-ORD-5): what happened, when, who did it and why.</summary>
[GenerateSerializer, Immutable]
public sealed record TimelineEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Event,
    [property: Id(2)] OrderStatus Status,
    [property: Id(3)] string Actor,
    [property: Id(4)] string? Reason);

/// <summary>
/// When the order's next automatic action is due (R-ORD-1). <c>AutoCompleteAt</c>: a shipped order with no delivery event
/// completes at the end of the protection window, a delivered one after the confirmation window. <c>ReviewDueAt</c>: an order
/// in risk review still undecided then opens a ticket; <c>ReviewExpiresAt</c>: one whose payment is only authorized is
/// cancelled then and the authorization voided, before the card network lets it lapse.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OrderDeadlines(
    [property: Id(0)] DateTimeOffset? PaymentDueAt,
    [property: Id(1)] DateTimeOffset? ShipBy,
    [property: Id(2)] DateTimeOffset? AutoCompleteAt,
    [property: Id(3)] DateTimeOffset? ReviewDueAt = null,
    [property: Id(4)] DateTimeOffset? ReviewExpiresAt = null);

[GenerateSerializer, Immutable]
public sealed record OrderView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string BuyerId,
    [property: Id(2)] string SellerId,
    [property: Id(3)] OrderStatus Status,
    [property: Id(4)] IReadOnlyList<OrderLine> Lines,
    [property: Id(5)] OrderTotals Totals,
    [property: Id(6)] ShippingAddress ShipTo,
    [property: Id(7)] Shipment? Shipment,
    [property: Id(8)] OrderDeadlines Deadlines,
    [property: Id(9)] bool Accepted,
    [property: Id(10)] bool Late,
    [property: Id(11)] string? ReviewReason,
    [property: Id(12)] OrderSource Source,
    [property: Id(13)] ExternalOrderRef? External,
    [property: Id(14)] string CheckoutId,
    [property: Id(15)] DateTimeOffset CreatedAt,
    [property: Id(16)] DateTimeOffset UpdatedAt,
    [property: Id(17)] long Version,
    [property: Id(18)] string? PaidBy = null,
    [property: Id(19)] Money? Refunded = null,
    [property: Id(20)] DisputeView? Dispute = null,
    [property: Id(21)] IReadOnlyList<TrackingEvent>? Tracking = null,
    [property: Id(22)] ReturnView? Return = null,
    [property: Id(23)] IReadOnlyList<OrderRefundView>? Compensations = null,
    [property: Id(24)] OrderCoupon? Coupon = null,
    [property: Id(25)] OrderAttribution? Attribution = null);

/// <summary>A line that could not be had: how many were asked for, how many there are, and in-stock substitutes (R-INV-5).</summary>
[GenerateSerializer, Immutable]
public sealed record ShortLine(
    [property: Id(0)] string SkuId,
    [property: Id(1)] long Requested,
    [property: Id(2)] long Available,
    [property: Id(3)] IReadOnlyList<SubstituteOffer> Substitutes);

[GenerateSerializer, Immutable]
public sealed record SubstituteOffer(
    [property: Id(0)] string SkuId,
    [property: Id(1)] string Title,
    [property: Id(2)] long Available,
    [property: Id(3)] Money Price);

public enum PrepareStatus
{
    Prepared,
    Short,
    Refused,
    /// <summary>The order was abandoned earlier (its placement timed out); a new order is needed.</summary>
    Expired,
}

/// <summary>The outcome of reserving an order's stock: prepared, short (with the short lines), or refused (a rule failed).</summary>
[GenerateSerializer, Immutable]
public sealed record PrepareResult(
    [property: Id(0)] PrepareStatus Status,
    [property: Id(1)] IReadOnlyList<ShortLine> ShortLines,
    [property: Id(2)] string? Reason);

/// <summary>The outcome of a one-phase placement: the live order, or (when it is null) why it could not be placed.</summary>
[GenerateSerializer, Immutable]
public sealed record PlaceResult(
    [property: Id(0)] PrepareResult Prepared,
    [property: Id(1)] OrderView? Order,
    [property: Id(2)] PaymentRegistration? Payment = null);

public enum TransitionStatus { Applied, NotFound, Forbidden, InvalidTransition, Invalid }

[GenerateSerializer, Immutable]
public sealed record TransitionResult(
    [property: Id(0)] TransitionStatus Status,
    [property: Id(1)] OrderView? Order,
    [property: Id(2)] string? Reason);

/// <summary>Who is acting on an order: role and subject from the API key, or the system for deadlines.</summary>
[GenerateSerializer, Immutable]
public sealed record OrderActor(
    [property: Id(0)] string Role,
    [property: Id(1)] string? Subject)
{
    public static readonly OrderActor System = new("system", null);
    public override string ToString() => Subject is null ? Role : $"{Role}:{Subject}";
}
