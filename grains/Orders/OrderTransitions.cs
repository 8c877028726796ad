using System.Collections.Frozen;

namespace Orleans.Trade.Orders;

/// <summary>The order lifecycle of R-ORD-1 as one table: which action is allowed in which status, and where it leads.</summary>
public static class OrderTransitions
{
    private static readonly FrozenDictionary<(OrderStatus From, OrderAction Action), OrderStatus> Table =
        new Dictionary<(OrderStatus, OrderAction), OrderStatus>
        {
            [(OrderStatus.AwaitingPayment, OrderAction.ConfirmPayment)] = OrderStatus.Paid,
            [(OrderStatus.AwaitingPayment, OrderAction.Cancel)] = OrderStatus.Cancelled,
            // A payment scored for review is authorized but not captured: the order waits for an analyst (R-PAY-5).
            [(OrderStatus.AwaitingPayment, OrderAction.HoldForReview)] = OrderStatus.RiskReview,

            [(OrderStatus.Paid, OrderAction.ReleaseToSeller)] = OrderStatus.AwaitingShipment,
            [(OrderStatus.Paid, OrderAction.HoldForReview)] = OrderStatus.RiskReview,
            [(OrderStatus.Paid, OrderAction.Cancel)] = OrderStatus.Cancelled,

            [(OrderStatus.RiskReview, OrderAction.ApproveReview)] = OrderStatus.AwaitingShipment,
            [(OrderStatus.RiskReview, OrderAction.Cancel)] = OrderStatus.Cancelled,

            // Accept and MarkLate set flags on the order; the status stays where it is.
            [(OrderStatus.AwaitingShipment, OrderAction.Accept)] = OrderStatus.AwaitingShipment,
            [(OrderStatus.AwaitingShipment, OrderAction.MarkLate)] = OrderStatus.AwaitingShipment,
            [(OrderStatus.AwaitingShipment, OrderAction.Ship)] = OrderStatus.Shipped,
            [(OrderStatus.AwaitingShipment, OrderAction.Cancel)] = OrderStatus.Cancelled,

            [(OrderStatus.Shipped, OrderAction.RecordDelivery)] = OrderStatus.Delivered,
            [(OrderStatus.Shipped, OrderAction.Complete)] = OrderStatus.Completed,
            [(OrderStatus.Shipped, OrderAction.Close)] = OrderStatus.Closed,

            [(OrderStatus.Delivered, OrderAction.Complete)] = OrderStatus.Completed,
            [(OrderStatus.Delivered, OrderAction.Close)] = OrderStatus.Closed,

            // A completed order can still be closed by a late refund or dispute verdict.
            [(OrderStatus.Completed, OrderAction.Close)] = OrderStatus.Closed,
        }.ToFrozenDictionary();

    private static readonly FrozenDictionary<OrderStatus, IReadOnlyCollection<OrderAction>> AllowedByStatus =
        Enum.GetValues<OrderStatus>().ToFrozenDictionary(
            status => status,
            IReadOnlyCollection<OrderAction> (status) => Enum.GetValues<OrderAction>().Where(action => Table.ContainsKey((status, action))).ToArray().AsReadOnly());

    /// <summary>Applies <paramref name="action"/>; when it is refused, returns false and <paramref name="next"/> is <paramref name="current"/>.</summary>
    public static bool TryApply(OrderStatus current, OrderAction action, out OrderStatus next)
    {
        if (Table.TryGetValue((current, action), out next))
        {
            return true;
        }
        next = current;
        return false;
    }

    /// <summary>The actions allowed in <paramref name="current"/>, in declaration order; empty for terminal statuses.</summary>
    public static IReadOnlyCollection<OrderAction> Allowed(OrderStatus current) =>
        AllowedByStatus.TryGetValue(current, out var actions) ? actions : [];

    /// <summary>True when nothing more can happen to an order in <paramref name="status"/> (Cancelled, Closed).</summary>
    public static bool IsTerminal(OrderStatus status) => Allowed(status).Count == 0;
}
