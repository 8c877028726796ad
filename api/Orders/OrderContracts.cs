using Orleans.Trade.Common;
using Orleans.Trade.Inventory;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

public sealed record ShippingAddressRequest(string? Name, string? Line1, string? Line2, string? City, string? Region, string? PostalCode, string? Country, string? Phone);

public sealed record CartLineRequest(string? SkuId, long? Quantity);

public sealed record CheckoutRequest(
    string? BuyerId,
    string? Currency,
    ShippingAddressRequest? ShipTo,
    IReadOnlyList<CartLineRequest?>? Items,
    string? CouponCode,
    Payments.PaymentRequest? Payment);

public sealed record OrderImportRequest(
    string? Platform,
    string? ExternalOrderId,
    string? SellerId,
    string? BuyerId,
    string? Currency,
    ShippingAddressRequest? ShipTo,
    IReadOnlyList<CartLineRequest?>? Items,
    bool? Paid);

public sealed record ReasonRequest(string? Reason);

public sealed record ShipRequest(string? Carrier, string? TrackingNumber);

public sealed record OrderLineResponse(string SkuId, string Title, long Quantity, Money UnitPrice, Money LineTotal, IReadOnlyList<StockAllocationPart> Allocation);

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
    Money? Refunded)
{
    public static OrderResponse From(OrderView v) => new(v.OrderId, v.CheckoutId, v.BuyerId, v.SellerId, v.Status,
        v.Lines.Select(l => new OrderLineResponse(l.SkuId, l.Title, l.Quantity, l.UnitPrice, l.LineTotal, l.Allocation)).ToArray(),
        v.Totals, v.ShipTo, v.Shipment, v.Deadlines, v.Accepted, v.Late, v.ReviewReason, v.Source, v.External, v.CreatedAt, v.UpdatedAt,
        v.PaidBy, v.Refunded);
}

/// <summary>The orders of a checkout and, when it paid inline, each order's payment (one per seller).</summary>
public sealed record CheckoutResponse(string CheckoutId, IReadOnlyList<OrderResponse> Orders, IReadOnlyList<Payments.PaymentResponse>? Payments = null);

public sealed record TimelineResponse(string OrderId, IReadOnlyList<TimelineEntry> Entries);

public sealed record OrderListResponse(IReadOnlyList<OrderSummary> Items, long Total, int Page, int PageSize);

public sealed record ClockRequest(double? AdvanceSeconds);

public sealed record ClockResponse(DateTimeOffset Now, double OffsetSeconds);
