namespace Orleans.Trade.Orders;

/// <summary>Where an order is in its life (R-ORD-1).</summary>
public enum OrderStatus
{
    AwaitingPayment,
    Paid,
    RiskReview,
    AwaitingShipment,
    Shipped,
    Delivered,
    Completed,
    /// <summary>Ended before shipment: by the buyer, an analyst, or the payment deadline. Stock is released.</summary>
    Cancelled,
    /// <summary>Ended after shipment without completion (refunded in full, dispute closed against the seller).</summary>
    Closed,
}

/// <summary>What can happen to an order; <c>OrderTransitions</c> says which action is allowed in which status.</summary>
public enum OrderAction
{
    /// <summary>The payment was captured (or the order was imported as paid elsewhere).</summary>
    ConfirmPayment,
    /// <summary>A paid order passes the automatic checks and proceeds to the seller.</summary>
    ReleaseToSeller,
    /// <summary>A paid order is held for a human risk review.</summary>
    HoldForReview,
    /// <summary>An analyst approves a held order.</summary>
    ApproveReview,
    /// <summary>The seller acknowledges the order and starts packing (status unchanged).</summary>
    Accept,
    Ship,
    RecordDelivery,
    /// <summary>The buyer confirms receipt, or the protection window lapses.</summary>
    Complete,
    /// <summary>Buyer, analyst (rejected review) or the payment deadline cancels before shipment.</summary>
    Cancel,
    /// <summary>After shipment: a full refund or a dispute verdict ends the order (hook for the payments and disputes issues).</summary>
    Close,
    /// <summary>The seller missed the handling time: flagged, status unchanged.</summary>
    MarkLate,
}
