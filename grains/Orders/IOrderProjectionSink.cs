namespace Orleans.Trade.Orders;

/// <summary>Writes an order's projection row, its notifications (outbox) and tickets in one transaction; idempotent.</summary>
public interface IOrderProjectionSink
{
    Task RecordAsync(OrderSummary summary, IReadOnlyList<OrderNotification> notifications, IReadOnlyList<ServiceTicket> tickets, CancellationToken cancellationToken);
}
