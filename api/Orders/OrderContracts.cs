using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

public sealed record ShippingAddressRequest(
    [Required] string? Name,
    [Required] string? Line1,
    string? Line2,
    [Required] string? City,
    string? Region,
    [Description("Required, except in the countries that have no postal codes.")] string? PostalCode,
    [Required] string? Country,
    [Required] string? Phone);

public sealed record CartLineRequest([Required] string? SkuId, [Required] long? Quantity);

public sealed record CheckoutRequest(
    [Description("Required unless the API key is a buyer's: then it is that buyer.")] string? BuyerId,
    [Required] string? Currency,
    [Required] ShippingAddressRequest? ShipTo,
    [Required] IReadOnlyList<CartLineRequest?>? Items,
    [Description("A seller's coupon code (letters, digits, dashes, up to 32, any case): it takes its discount off that seller's goods in the cart (or those of its chosen SKUs and categories), and may waive that seller's shipping (one coupon per checkout). A code no seller of the cart has, or one that does not apply (disabled, not started, expired, below its minimum spend, used up, used up by this buyer, another currency, none of its chosen goods in the cart), is refused with 422 and nothing is placed.")] string? CouponCode,
    Payments.PaymentRequest? Payment,
    [property: Description("The ad channel (a lowercase slug: google-ads, affiliate, email, organic, ...) and campaign that brought the buyer (R-DAT-4): kept on every order placed, counted by GET /api/v1/analytics/ad-roi. Part of the request: a retry must send the same.")]
    AttributionRequest? Attribution = null);

/// <summary>Where the buyer came from: a channel of 1 to 40 lowercase letters, digits and dashes, and optionally a campaign of 1 to 100 printable characters.</summary>
public sealed record AttributionRequest([Required] string? Channel, string? Campaign);

public sealed record OrderImportRequest(
    [Required] string? Platform,
    [Required] string? ExternalOrderId,
    [Description("Required unless the API key acts for a seller: then it is that seller.")] string? SellerId,
    [Required, Description("The buyer's id on that platform. The order is stored for buyer '{platform}:{buyerId}', which no buyer of this platform can be (their ids have no ':').")] string? BuyerId,
    [Required] string? Currency,
    [Required] ShippingAddressRequest? ShipTo,
    [Required] IReadOnlyList<CartLineRequest?>? Items,
    [Description("Whether the platform took the payment; true when absent.")] bool? Paid);

public sealed record ReasonRequest(string? Reason);

public sealed record ShipRequest([Required] string? Carrier, [Required] string? TrackingNumber);

public sealed record OrderLineResponse(string SkuId, string Title, long Quantity, Money UnitPrice, Money LineTotal, IReadOnlyList<StockAllocationPart> Allocation,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("The line's share of the order's coupon discount (its lines share it in proportion to their value); absent without a coupon. The line was paid lineTotal less this, and refunds of its units are counted on that.")]
    Money? Discount = null);

/// <summary>The seller's coupon an order used and what it took off the goods (the lines' shares sum to it).</summary>
public sealed record OrderCouponSummary(
    string Code,
    Money Discount,
    [property: Description("The coupon gives free shipping.")] bool FreeShipping = false,
    [property: Description("The shipping fee it waived (totals.shipping is then 0); absent when it waived none.")] Money? ShippingWaived = null);

public sealed record OrderResponse(
    string OrderId,
    string CheckoutId,
    string BuyerId,
    string SellerId,
    OrderStatus Status,
    IReadOnlyList<OrderLineResponse> Lines,
    OrderTotals Totals,
    ShippingAddress ShipTo,
    Shipment? Shipment,
    OrderDeadlines Deadlines,
    bool Accepted,
    bool Late,
    string? ReviewReason,
    OrderSource Source,
    ExternalOrderRef? External,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? PaidBy,
    Money? Refunded,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("The buyer's dispute of the order (R-DIS-1), absent when there is none; GET /api/v1/orders/{orderId}/dispute has the whole of it.")]
    OrderDisputeSummary? Dispute = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("The carrier's latest tracking events (R-LOG-5), at most 10, oldest first by event time; absent when there are none. The timeline has every one.")]
    IReadOnlyList<TrackingEvent>? Tracking = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("The buyer's return of the order's goods (R-DIS-5), absent when there is none; GET /api/v1/orders/{orderId}/return has the whole of it.")]
    OrderReturnSummary? Return = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("Compensations paid to the buyer by the seller for a late shipment or fake tracking (R-DIS-4): amount (order currency), buyerAmount, compensationPercent, status at the payment provider, fundedFrom (the seller's deposit and available balance, settlement currency); absent when there are none. They are not in refunded: the escrow still holds what they gave.")]
    IReadOnlyList<OrderRefundView>? Compensations = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("The seller's coupon the order used (code, discount off the goods, also in totals.discount); absent when none. totals.seller is the goods after it: VAT, escrow, commission and refunds are on what was paid.")]
    OrderCouponSummary? Coupon = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("The ad channel and campaign the checkout named (R-DAT-4); absent when it named none.")]
    OrderAttribution? Attribution = null)
{
    public static OrderResponse From(OrderView v) => new(v.OrderId, v.CheckoutId, v.BuyerId, v.SellerId, v.Status,
        v.Lines.Select((l, i) => new OrderLineResponse(l.SkuId, l.Title, l.Quantity, l.UnitPrice, l.LineTotal, l.Allocation,
            v.Coupon is { } c ? new Money(c.LineDiscount(i), l.LineTotal.Currency) : null)).ToArray(),
        v.Totals, v.ShipTo, v.Shipment, v.Deadlines, v.Accepted, v.Late, v.ReviewReason, v.Source, v.External, v.CreatedAt, v.UpdatedAt,
        v.PaidBy, v.Refunded, v.Dispute is { } d ? new OrderDisputeSummary(d.DisputeId, d.Status, d.RespondBy, d.ArbitrationDueAt) : null,
        v.Tracking, v.Return is { } r ? new OrderReturnSummary(r.ReturnId, r.Status, r.Reason, r.Amount, r.DueAt) : null, v.Compensations,
        v.Coupon is { } coupon ? new OrderCouponSummary(coupon.Code, coupon.Discount, coupon.FreeShipping, coupon.ShippingWaived) : null, v.Attribution);
}

/// <summary>Where an order's return is, what it refunds, and when its next step is due (the seller's, the buyer's, or the arbitrator's).</summary>
public sealed record OrderReturnSummary(string ReturnId, ReturnStatus Status, ReturnReason Reason, Money Amount,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    DateTimeOffset? DueAt);

/// <summary>Where an order's dispute is: the seller's answer is due by <c>RespondBy</c>, an escalated one's verdict by <c>ArbitrationDueAt</c>.</summary>
public sealed record OrderDisputeSummary(string DisputeId, DisputeStatus Status, DateTimeOffset RespondBy, DateTimeOffset? ArbitrationDueAt);

/// <summary>
/// The orders of a checkout and, when it paid inline, each order's payment (one per seller); an order whose inline payment was
/// refused (an instalment count not offered, an amount under the instalments' minimum, an order that cannot be paid) is placed
/// all the same and waits for a payment, and the refusal says why.
/// </summary>
public sealed record CheckoutResponse(
    string CheckoutId,
    IReadOnlyList<OrderResponse> Orders,
    IReadOnlyList<Payments.PaymentResponse>? Payments = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("Inline payments that were refused, one per order; each such order is placed and awaits a payment (POST /api/v1/orders/{orderId}/payments). Absent when none was.")]
    IReadOnlyList<CheckoutPaymentRefusal>? PaymentRefusals = null);

/// <summary>Why an order's inline payment was refused: the status and text the order's own payment endpoint would answer.</summary>
public sealed record CheckoutPaymentRefusal(string OrderId, int Status, string Title, string Detail);

public sealed record TimelineResponse(string OrderId, IReadOnlyList<TimelineEntry> Entries);

public sealed record OrderListResponse(
    IReadOnlyList<OrderSummary> Items,
    [property: Description("Orders matching the filters; null when paging by cursor (counting a big seller's orders costs as much as reading them).")]
    long? Total,
    int Page,
    int PageSize,
    [property: Description("Pass as cursor for the next page; null on the last page.")]
    string? NextCursor);

public sealed record ClockRequest(double? AdvanceSeconds);

public sealed record TicketClosureRequest(
    [Required][property: Description("What customer service did about the exception (up to 2,000 characters).")] string? Note);

/// <summary>A customer-service ticket (R-ORD-6): open (overdue once past its due time) or closed, with its closure.</summary>
public sealed record ServiceTicketResponse(
    string TicketId,
    string OrderId,
    string SellerId,
    string Kind,
    string Description,
    DateTimeOffset OpenedAt,
    DateTimeOffset DueAt,
    [property: Description("open or closed.")] string Status,
    [property: Description("Open past its due time: customer service did not act within it.")] bool Overdue,
    [property: Description("Who closed it: the key that closed it by hand, or system when the order's own change ended its exception (null for tickets closed that way before 7 December).")]
    string? ClosedBy,
    DateTimeOffset? ClosedAt,
    string? ClosedNote,
    [property: Description("What customer service is proposed to do, on a StalledShipment ticket (R-LOG-6): proofOfDispatch, customsFollowUp, reshipOrRefund, carrierTrace or refund (the description says it in words); null on other kinds and on stall tickets opened before 7 December.")]
    string? Remedy)
{
    public static ServiceTicketResponse From(ServiceTicketRow row, DateTimeOffset now)
    {
        var t = row.Ticket;
        return new ServiceTicketResponse(t.TicketId, t.OrderId, t.SellerId, t.Kind, t.Description, t.OpenedAt, t.DueAt, row.Closed ? "closed" : "open",
            !row.Closed && t.DueAt < now, row.ClosedBy, row.ClosedAt, row.ClosedNote, t.Remedy);
    }
}

public sealed record TicketClosureResponse(string TicketId, string Status, string ClosedBy, DateTimeOffset ClosedAt, string Note);

public sealed record ClockResponse(DateTimeOffset Now, double OffsetSeconds);
