namespace Orleans.Trade.Orders;

/// <summary>Order deadlines and limits (configuration section <c>Orders</c>).</summary>
public sealed class OrderOptions
{
    /// <summary>Unpaid orders are cancelled and their stock released after this (R-ORD-1).</summary>
    public TimeSpan PaymentWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A seller's handling time when the SKU does not set one.</summary>
    public int DefaultHandlingDays { get; set; } = 5;

    /// <summary>Delivered orders complete automatically after this without a buyer action.</summary>
    public TimeSpan AutoCompleteAfter { get; set; } = TimeSpan.FromDays(15);

    /// <summary>Customer service must act on a ticket within this (R-ORD-6).</summary>
    public TimeSpan ServiceTicketDue { get; set; } = TimeSpan.FromHours(48);

    /// <summary>An order still being placed after this is an abandoned checkout: its reservations are released.</summary>
    public TimeSpan PlacementTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often an open order's deadline reminder ticks (Orleans' minimum is lowered to match when below a minute).</summary>
    public TimeSpan DeadlineCheckPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Orders worth more than this many US cents go to risk review after payment (R-ORD-3).</summary>
    public long RiskReviewAboveUsdMinor { get; set; } = 200_000;

    public int MaxLinesPerOrder { get; set; } = 50;

    /// <summary>Channels each order event is announced on (R-ORD-5); the webhook receiver fans them out.</summary>
    public string[] NotificationChannels { get; set; } = ["email", "sms", "push"];

    /// <summary>Timeline entries kept per order (the oldest are summarised away beyond it).</summary>
    public int MaxTimelineEntries { get; set; } = 200;
}
