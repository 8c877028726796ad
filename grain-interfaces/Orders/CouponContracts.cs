using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>
/// A seller's coupon: <see cref="PercentOff"/> (1-90, capped at <see cref="MaxDiscountMinor"/> if set) or
/// <see cref="AmountOffMinor"/> off the seller's goods in a checkout, and/or <see cref="FreeShipping"/>, in <see cref="Currency"/>, from <see cref="MinSpendMinor"/>
/// of goods, within [<see cref="StartsAt"/>, <see cref="EndsAt"/>), at most <see cref="MaxRedemptions"/> orders in all and
/// <see cref="MaxPerBuyer"/> per buyer; of all the seller's goods, or of chosen SKUs and categories only (then the minimum spend and
/// the discount count those lines alone). The seller funds it (its order's escrow holds what the buyer paid).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CouponTerms(
    [property: Id(0)] string Code,
    [property: Id(1)] string Currency,
    [property: Id(2)] int? PercentOff,
    [property: Id(3)] long? AmountOffMinor,
    [property: Id(4)] long? MaxDiscountMinor,
    [property: Id(5)] long MinSpendMinor,
    [property: Id(6)] DateTimeOffset? StartsAt,
    [property: Id(7)] DateTimeOffset? EndsAt,
    [property: Id(8)] int MaxRedemptions,
    [property: Id(9)] int MaxPerBuyer,
    [property: Id(10)] bool Enabled,
    /// <summary>The SKUs it applies to (with <see cref="Categories"/>: a line of either counts); null or empty with no categories: all of the seller's goods.</summary>
    [property: Id(11)] IReadOnlyList<string>? SkuIds = null,
    /// <summary>The catalog categories it applies to, compared without case.</summary>
    [property: Id(12)] IReadOnlyList<string>? Categories = null,
    /// <summary>The order's shipping is waived (the seller funds it), alone or beside a percent or amount off the goods.</summary>
    [property: Id(13)] bool FreeShipping = false)
{
    /// <summary>Whether it applies to chosen SKUs or categories only.</summary>
    public bool Scoped => SkuIds is { Count: > 0 } || Categories is { Count: > 0 };
}

/// <summary>A coupon as its seller reads it: its terms and how many orders hold a redemption of it (placed or being placed).</summary>
[GenerateSerializer, Immutable]
public sealed record CouponView(
    [property: Id(0)] string SellerId,
    [property: Id(1)] CouponTerms Terms,
    [property: Id(2)] int Redeemed,
    [property: Id(3)] long Version,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset UpdatedAt);

public enum CouponWriteStatus { Created, Updated, Unchanged, TooMany }

[GenerateSerializer, Immutable]
public sealed record CouponWrite(
    [property: Id(0)] CouponWriteStatus Status,
    [property: Id(1)] CouponView? Coupon);

/// <summary>
/// An order asks for a redemption of its seller's coupon: <paramref name="Goods"/> is the list value of the order's goods, the
/// redemption is the order's (idempotent by <paramref name="OrderId"/>) and tentative until <paramref name="HoldUntil"/>, when
/// the coupon asks the order whether it was placed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CouponRedemptionRequest(
    [property: Id(0)] string Code,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string BuyerId,
    [property: Id(3)] Money Goods,
    [property: Id(4)] DateTimeOffset At,
    [property: Id(5)] DateTimeOffset HoldUntil,
    /// <summary>The order's lines (same order as the order's), for a coupon of chosen SKUs or categories; null: all of <paramref name="Goods"/> counts.</summary>
    [property: Id(6)] IReadOnlyList<CouponLine>? Lines = null,
    /// <summary>
    /// The checkout the order is placed for. A retry of a checkout whose earlier attempt failed after its redemption was taken
    /// (its write failed, its answer was lost) places a new order: the earlier attempts' redemptions that are still tentative do not
    /// count against it, as at most one order of a checkout is ever placed. Null: no such allowance.
    /// </summary>
    [property: Id(7)] string? CheckoutKey = null);

/// <summary>An order line as a coupon sees it: its SKU, its catalog category, and its list value in minor units.</summary>
[GenerateSerializer, Immutable]
public sealed record CouponLine(
    [property: Id(0)] string SkuId,
    [property: Id(1)] string Category,
    [property: Id(2)] long ValueMinor);

/// <summary>The discount a redemption gives (in the goods' currency), or why there is none.</summary>
[GenerateSerializer, Immutable]
public sealed record CouponRedemption(
    [property: Id(0)] bool Redeemed,
    [property: Id(1)] Money? Discount,
    [property: Id(2)] string? Reason,
    /// <summary>Per line of the request, whether the coupon applies to it (the discount is shared by those lines only); null: every line.</summary>
    [property: Id(3)] IReadOnlyList<bool>? EligibleLines = null,
    /// <summary>The coupon waives the order's shipping.</summary>
    [property: Id(4)] bool FreeShipping = false);

/// <summary>
/// One seller's coupons (state name <c>coupon</c>) and their redemptions (the coupon ledger's rows). Key: the seller id. A redemption counts against the
/// limits from the moment an order asks for it until that order is cancelled, aborted or never placed.
/// </summary>
/// <remarks>
/// Version 1: Put, Get, List, Offers, Redeem, GiveBack. Version 2 (same methods): redemptions are rows of the coupon ledger, no
/// longer in the grain's state, so callers of this release are served only by activations that count them there. Version 3 (same
/// methods): coupons of chosen SKUs and categories, which a redemption checks against the request's lines and answers with the
/// lines it applies to; an activation of an earlier version would apply such a coupon to all of the goods. Version 4 (same methods):
/// a redemption names its checkout, and a retried checkout's new order is not refused for the tentative redemptions of its earlier
/// attempts; an activation of an earlier version counts them.
/// </remarks>
[Orleans.CodeGeneration.Version(4)]
public interface ISellerCouponsGrain : IGrainWithStringKey
{
    /// <summary>Creates or replaces a coupon (at most <see cref="CouponCodes.MaxCouponsPerSeller"/> per seller).</summary>
    Task<CouponWrite> Put(CouponTerms terms);

    [ReadOnly]
    Task<CouponView?> Get(string code);

    [ReadOnly]
    Task<IReadOnlyList<CouponView>> List();

    /// <summary>Whether the seller has a coupon of this code (enabled or not): the checkout sends the code to that seller's order.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<bool> Offers(string code);

    /// <summary>Takes a redemption for an order (the same order again answers the same), or refuses it with the reason.</summary>
    Task<CouponRedemption> Redeem(CouponRedemptionRequest request);

    /// <summary>The order was cancelled or aborted: its redemption no longer counts. Repeating it changes nothing.</summary>
    Task GiveBack(string orderId);
}

/// <summary>The coupon an order used: its code, the discount off the goods, and each line's share of it (same order as the lines).</summary>
[GenerateSerializer, Immutable]
public sealed record OrderCoupon(
    [property: Id(0)] string Code,
    [property: Id(1)] Money Discount,
    [property: Id(2)] IReadOnlyList<long> LineDiscounts,
    [property: Id(3)] CouponRedemptionState Redemption = CouponRedemptionState.Held,
    /// <summary>The lines the coupon applies to (a coupon of chosen SKUs or categories); null: every line.</summary>
    [property: Id(4)] IReadOnlyList<bool>? EligibleLines = null,
    /// <summary>The coupon gives free shipping.</summary>
    [property: Id(5)] bool FreeShipping = false,
    /// <summary>The shipping fee it waived (the order's shipping is then 0); null when none was waived.</summary>
    [property: Id(6)] Money? ShippingWaived = null)
{
    /// <summary>The discount of line <paramref name="index"/>, 0 before the lines were priced.</summary>
    public long LineDiscount(int index) => index < LineDiscounts.Count ? LineDiscounts[index] : 0;
}

/// <summary>Where an order's redemption is: counting against the coupon, being given back (cancelled), or given back.</summary>
public enum CouponRedemptionState { Held, GivingBack, GivenBack }

/// <summary>What a coupon code is: letters, digits and dashes, up to 32, compared without case (kept in upper case).</summary>
public static class CouponCodes
{
    public const int MaxLength = 32;
    public const int MaxCouponsPerSeller = 100;

    public static bool IsValid(string? code) =>
        code is { Length: > 0 and <= MaxLength } && code.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static string Normalize(string code) => code.ToUpperInvariant();

    /// <summary>The reservation id an order answers for its coupon's redemption (see IOrderGrain.KeepsReservation).</summary>
    public static string ReservationId(string orderId) => $"{orderId}:coupon";
}
