using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Orders;

/// <summary>Orders of one seller or one buyer, newest first, filtered and paged (offset paging with a total count).</summary>
public sealed record OrderListQuery(string? SellerId, string? BuyerId, OrderStatus? Status, DateTimeOffset? From, DateTimeOffset? To, int Page, int PageSize);

public sealed record OrderListPage(IReadOnlyList<OrderSummary> Items, long Total);

/// <summary>Reads the order and ticket projections (implemented by the silo over the database).</summary>
public interface IOrderQueries
{
    Task<OrderListPage> ListAsync(OrderListQuery query, CancellationToken cancellationToken);

    Task<IReadOnlyList<ServiceTicket>> OpenTicketsAsync(string? sellerId, int limit, CancellationToken cancellationToken);
}
