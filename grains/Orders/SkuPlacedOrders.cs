using Orleans.Trade.Inventory;

namespace Orleans.Trade.Orders;

/// <summary>
/// What a SKU stores for a one-line checkout it places itself (<see cref="ISkuGrain.PlaceOrder"/>): the order as the order grain
/// would have stored it through the saga (same pricing, same first state, same list row and notification), and the checkout's
/// key as the checkout grain stores its plan, so a retry that reaches the saga resumes this order.
/// </summary>
public static class SkuPlacedOrders
{
    /// <summary>
    /// The live order's rows and view, with the inline payment's registration when the checkout carries one (registered in the
    /// placing write, as the order grain does), or null when it cannot be priced (no FX rate): the saga then refuses it.
    /// </summary>
    /// <param name="reserved">The line's reservation (status <see cref="ReservationStatus.Reserved"/>).</param>
    /// <param name="coupon">The seller's coupon the checkout names, its redemption taken (its line shares not yet allocated).</param>
    public static (PlacedOrderWrite Rows, OrderView View, PaymentRegistration? Payment)? Build(SkuCheckout checkout, StockReservationResult reserved,
        string orderId, string checkoutId, string orderGrainId, string checkoutGrainId, DateTimeOffset now, IFxRates fxRates, OrderOptions options,
        Payments.PaymentOptions paymentOptions, IReadOnlyDictionary<string, Logistics.ShippingTemplate>? templates = null, OrderCoupon? coupon = null)
    {
        var command = checkout.Command;
        var sellerId = reserved.Catalog!.SellerId;
        var order = new OrderState
        {
            Placement = new OrderPlacement(orderId, checkoutId, command.BuyerId, sellerId, command.Currency, command.ShipTo, command.Items,
                OrderSource.Checkout, null, command.Actor, command.CouponCode, command.Attribution, checkout.CheckoutKey),
            Phase = OrderPhase.Preparing,
            Coupon = coupon, // redeemed by the SKU before it reserved the line, as the order grain redeems it in the saga
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (OrderPlacing.Price(order, [reserved], fxRates, options, templates) is not null)
        {
            return null;
        }
        OrderPlacing.GoLive(order, orderId, now, options);
        var payment = command.Payment is { } request
            ? OrderPlacing.RegisterPayment(order, orderId, request, now, fxRates, paymentOptions, options)
            : null;
        order.Version = 1; // the order grain's first write
        var outbox = OrderPlacing.TakeOutbox(order, orderId)!;
        var plan = new CheckoutState { RequestHash = command.RequestHash, CheckoutId = checkoutId };
        plan.OrderIdsBySeller[sellerId] = orderId;
        var rows = new PlacedOrderWrite(orderGrainId, order, OrderPlacing.NextWake(order, now, options), outbox, checkoutGrainId, plan);
        return (rows, OrderPlacing.View(order, orderId), payment);
    }
}
