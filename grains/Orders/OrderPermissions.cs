namespace Orleans.Trade.Orders;

/// <summary>Who may do what to an order (role and ownership); the state machine then says whether it fits the status.</summary>
public static class OrderPermissions
{
    public static bool MayApply(OrderActor actor, OrderAction action, string buyerId, string sellerId, OrderStatus status)
    {
        var admin = actor.Role == "admin";
        var system = actor.Role == OrderActor.System.Role;
        var analyst = actor.Role == "analyst";
        var buyer = actor.Role == "buyer" && actor.Subject == buyerId;
        var seller = actor.Role is "seller" or "erp" && actor.Subject == sellerId;
        return action switch
        {
            OrderAction.ConfirmPayment => admin || system,
            OrderAction.ReleaseToSeller or OrderAction.HoldForReview or OrderAction.MarkLate => system,
            OrderAction.ApproveReview => analyst || admin,
            OrderAction.Accept or OrderAction.Ship => seller || admin,
            // Not the seller: a delivery starts the short confirmation window before the escrow goes to the seller (R-ROLE-1).
            OrderAction.RecordDelivery => actor.Role == "carrier" || admin || system,
            OrderAction.Complete => buyer || admin || system,
            // Analysts cancel only by rejecting a held order; buyers only their own (the state machine stops it after shipment).
            OrderAction.Cancel => buyer || admin || system || (analyst && status == OrderStatus.RiskReview),
            OrderAction.Close => admin || system,
            _ => false,
        };
    }

    /// <summary>
    /// A carrier key's subject (an id: "royal-mail") names the carrier a seller typed when shipping ("Royal Mail"): compared by
    /// letters and digits only, ignoring case.
    /// </summary>
    public static bool SameCarrier(string? keySubject, string? shippedWith) =>
        keySubject is not null && shippedWith is not null && ShipmentKeys.Carrier(keySubject) is { Length: > 0 } code && code == ShipmentKeys.Carrier(shippedWith);

    /// <summary>The buyer pays their own order; an admin may start a payment for them (e.g. a bank transfer taken by phone).</summary>
    public static bool MayPay(OrderActor actor, string buyerId) =>
        actor.Role == "admin" || (actor.Role == "buyer" && actor.Subject == buyerId);

    /// <summary>Refunds are granted by the order's seller or an admin; buyers ask through disputes, not directly.</summary>
    public static bool MayRefund(OrderActor actor, string sellerId) =>
        actor.Role is "admin" or "system" || (actor.Role == "seller" && actor.Subject == sellerId);

    public static bool MayRead(OrderActor actor, string buyerId, string sellerId) =>
        actor.Role is "admin" or "analyst" or "system"
        || (actor.Role == "buyer" && actor.Subject == buyerId)
        || (actor.Role is "seller" or "erp" && actor.Subject == sellerId);
}
