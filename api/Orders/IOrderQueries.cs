using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

/// <summary>
/// Orders of one seller or one buyer, newest first, filtered and paged: by page number (offset paging with a total count), or
/// after a cursor (<paramref name="After"/>, the list's next cursor: keyset paging, no count), which costs the same on every
/// page however many orders come before it.
/// </summary>
public sealed record OrderListQuery(string? SellerId, string? BuyerId, OrderStatus? Status, DateTimeOffset? From, DateTimeOffset? To, int Page, int PageSize,
    OrderListCursor? After = null);

/// <param name="Total">Orders matching the filters; null when paging by cursor.</param>
/// <param name="Next">Where the next page starts; null on the last page.</param>
public sealed record OrderListPage(IReadOnlyList<OrderSummary> Items, long? Total, OrderListCursor? Next = null);

/// <summary>A position in a list ordered by creation time, then order id, newest first: the last order of a page.</summary>
public sealed record OrderListCursor(DateTimeOffset CreatedAt, string OrderId)
{
    public static OrderListCursor After(OrderSummary last) => new(last.CreatedAt, last.OrderId);

    /// <summary>The cursor as the API shows it: the time in .NET ticks (UTC) and the order id, joined by a dot.</summary>
    public override string ToString() => $"{CreatedAt.UtcTicks}.{OrderId}";

    public static bool TryParse(string? text, out OrderListCursor? cursor)
    {
        cursor = null;
        var dot = text?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (dot <= 0 || !long.TryParse(text.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks || !Common.Ids.IsValid(text![(dot + 1)..]))
        {
            return false;
        }
        cursor = new OrderListCursor(new DateTimeOffset(ticks, TimeSpan.Zero), text[(dot + 1)..]);
        return true;
    }
}

/// <summary>Reads the order and ticket projections (implemented by the silo over the database).</summary>
public interface IOrderQueries
{
    Task<OrderListPage> ListAsync(OrderListQuery query, CancellationToken cancellationToken);

    /// <summary>One page of tickets: open ones earliest due first, closed ones newest first (R-ORD-6).</summary>
    Task<IReadOnlyList<ServiceTicketRow>> TicketsAsync(TicketQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The orders shipped with the carrier <paramref name="carrierKey"/> under each of <paramref name="trackingKeys"/> (both as
    /// <see cref="ShipmentKeys"/> writes them), at most <paramref name="perKey"/> a tracking number; one whose tracking number was
    /// corrected is found under the new one only (R-LOG-5).
    /// </summary>
    Task<IReadOnlyList<TrackedOrder>> TrackedOrdersAsync(string carrierKey, IReadOnlyList<string> trackingKeys, int perKey, CancellationToken cancellationToken);

    /// <summary>
    /// What the orders shipped in [<paramref name="from"/>, <paramref name="to"/>) did, per carrier and destination (R-LOG-7): read
    /// through the partial index of shipped orders, counted as the rows stream by (memory per carrier and country, not per order).
    /// </summary>
    Task<IReadOnlyList<CarrierCountryStats>> CarrierShipmentsAsync(DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// How fast the orders shipped in [<paramref name="from"/>, <paramref name="to"/>) were handled and delivered, per seller (only
    /// <paramref name="sellerId"/>'s when given; R-DAT-3): read through the partial index of shipped orders, counted as the rows stream by.
    /// </summary>
    Task<IReadOnlyList<SellerShippingStats>> ShippingTimesAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, CancellationToken cancellationToken);

    /// <summary>
    /// The after-sales facts of the orders created in [<paramref name="from"/>, <paramref name="to"/>) that count
    /// (<see cref="AfterSalesCounting"/>), per seller (R-DAT-4): counted by the database per seller and currency, then each dispute's
    /// opening and end streamed for the percentiles (memory per seller and dispute, not per order). Only <paramref name="sellerId"/>'s
    /// when given.
    /// </summary>
    Task<IReadOnlyList<SellerServiceStats>> ServiceStatsAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, CancellationToken cancellationToken);

    /// <summary>
    /// The buyers of the orders created in [<paramref name="from"/>, <paramref name="to"/>) that count (<see cref="AfterSalesCounting"/>),
    /// per seller and in all (R-DAT-4): how many ordered, ordered twice or more, and had ordered before <paramref name="from"/> (from the
    /// same seller for a seller's row; from anyone for the totals, or from <paramref name="sellerId"/> when given, whose orders alone are read).
    /// Streamed by buyer: memory per seller, not per buyer.
    /// </summary>
    Task<RetentionStats> RetentionAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, CancellationToken cancellationToken);

    /// <summary>Closes an open ticket with who closed it, when and what was done (R-ORD-6).</summary>
    Task<TicketClosureOutcome> CloseTicketAsync(string ticketId, string closedBy, DateTimeOffset at, string note, CancellationToken cancellationToken);
}

public enum TicketClosureOutcome { Closed, NotFound, AlreadyClosed }

/// <summary>An order a carrier's tracking number names: its id and its seller.</summary>
public sealed record TrackedOrder(string TrackingKey, string OrderId, string SellerId);

/// <summary>Which tickets to list: open or closed, optionally one seller's, one kind, one order; after the ticket <c>After</c>.</summary>
public sealed record TicketQuery(bool Closed, string? SellerId, string? Kind, string? OrderId, string? After, int Limit);

/// <summary>A ticket as stored, with its closure (by hand: who, when, what was done; by its order's change: system).</summary>
public sealed record ServiceTicketRow(ServiceTicket Ticket, bool Closed, string? ClosedBy, DateTimeOffset? ClosedAt, string? ClosedNote);

/// <summary>
/// The orders one carrier (by its <see cref="ShipmentKeys"/> key) shipped to one country: how many, how many were delivered and in
/// how many days (<see cref="TransitDays"/>: index d counts deliveries in d-1 to d days, the last index those beyond), how old the
/// undelivered ones are (<see cref="OpenDays"/>, alike), and the delivery complaints of their buyers by reason.
/// </summary>
public sealed class CarrierCountryStats(string carrierKey, string country)
{
    public const int MaxDays = 120;

    public string CarrierKey { get; } = carrierKey;
    public string Country { get; } = country;
    public long Shipped { get; set; }
    public long Delivered { get; set; }
    public long[] TransitDays { get; } = new long[MaxDays + 2];
    public long[] OpenDays { get; } = new long[MaxDays + 2];
    public Dictionary<string, long> Complaints { get; } = new(StringComparer.Ordinal);

    /// <summary>Whole days, rounded up, from <paramref name="from"/> to <paramref name="to"/>, as a bucket index.</summary>
    public static int Days(DateTimeOffset from, DateTimeOffset to) =>
        (int)Math.Clamp(Math.Ceiling((to - from).TotalDays), 0, MaxDays + 1);

    /// <summary>Counts one shipped order.</summary>
    public void Add(DateTimeOffset shippedAt, DateTimeOffset? deliveredAt, string? complaint, DateTimeOffset now)
    {
        Shipped++;
        if (deliveredAt is { } delivered)
        {
            Delivered++;
            TransitDays[Days(shippedAt, delivered)]++;
        }
        else
        {
            OpenDays[Days(shippedAt, now)]++;
        }
        if (complaint is not null)
        {
            Complaints[complaint] = Complaints.GetValueOrDefault(complaint) + 1;
        }
    }
}

/// <summary>
/// One seller's shipped orders: how many, how many shipped late (after their ship-by time), the hours from placing to shipping
/// (<see cref="HandlingHours"/>: index h counts orders shipped in h-1 to h hours, the last index those beyond), and per destination
/// the days from shipping to delivery of those delivered (alike).
/// </summary>
public sealed class SellerShippingStats(string sellerId)
{
    public const int MaxHours = 30 * 24;

    public string SellerId { get; } = sellerId;
    public long Shipped { get; set; }
    public long Late { get; set; }
    public long[] HandlingHours { get; } = new long[MaxHours + 2];
    public Dictionary<string, long[]> DeliveryDays { get; } = new(StringComparer.Ordinal);

    /// <summary>Counts one shipped order.</summary>
    public void Add(DateTimeOffset createdAt, DateTimeOffset shippedAt, DateTimeOffset? deliveredAt, string country, bool late)
    {
        Shipped++;
        if (late)
        {
            Late++;
        }
        HandlingHours[(int)Math.Clamp(Math.Ceiling((shippedAt - createdAt).TotalHours), 0, MaxHours + 1)]++;
        if (deliveredAt is { } delivered)
        {
            if (!DeliveryDays.TryGetValue(country, out var days))
            {
                DeliveryDays[country] = days = new long[CarrierCountryStats.MaxDays + 2];
            }
            days[CarrierCountryStats.Days(shippedAt, delivered)]++;
        }
    }
}

/// <summary>
/// Which orders the service score and retention count (R-DAT-4): the paid ones, in any status but <c>AwaitingPayment</c> and
/// <c>Cancelled</c>. An unpaid order is no purchase yet, and a cancelled one ended before shipment by its buyer, an analyst or the
/// payment deadline (never by its seller), so it says nothing of the seller's service.
/// </summary>
public static class AfterSalesCounting
{
    public static readonly IReadOnlyList<OrderStatus> Excluded = [OrderStatus.AwaitingPayment, OrderStatus.Cancelled];

    /// <summary>The SQL condition on a row's <c>status</c> column (of the alias <paramref name="alias"/>).</summary>
    public static string Condition(string alias) => $"{alias}.status NOT IN ({string.Join(", ", Excluded.Select(s => $"'{s}'"))})";
}

/// <summary>One seller's after-sales counts over a window's orders (R-DAT-4), in all and per currency.</summary>
public sealed class SellerServiceStats(string sellerId)
{
    public string SellerId { get; } = sellerId;
    public long Orders { get; set; }
    /// <summary>Orders whose buyer had any money back: a refund or a compensation.</summary>
    public long Refunded { get; set; }
    public long Disputes { get; set; }
    public long DisputesLost { get; set; }
    public long Returns { get; set; }
    public long Late { get; set; }
    /// <summary>Per currency: the orders' goods totals (GMV) and what their buyers had back, in minor units.</summary>
    public SortedDictionary<string, (long Gmv, long Refunded)> Amounts { get; } = new(StringComparer.Ordinal);
    /// <summary>The disputes resolved (by the seller's acceptance or a verdict, not withdrawn): when each was opened and resolved.</summary>
    public List<(DateTimeOffset OpenedAt, DateTimeOffset ResolvedAt)> Resolved { get; } = [];
    /// <summary>When each dispute still open was opened.</summary>
    public List<DateTimeOffset> Open { get; } = [];
}

/// <summary>Buyers of a window's orders (R-DAT-4): how many, how many ordered twice or more in it, how many had ordered before it.</summary>
public sealed class RetentionCounts
{
    public long Orders { get; set; }
    public long Buyers { get; set; }
    public long RepeatBuyers { get; set; }
    public long ReturningBuyers { get; set; }
}

/// <summary>A window's buyers in all (or of the one seller asked for) and per seller, by seller id.</summary>
public sealed record RetentionStats(RetentionCounts Totals, IReadOnlyList<(string SellerId, RetentionCounts Counts)> Sellers);
