namespace Orleans.Trade.Inventory;

/// <summary>A SKU's stored ledger: its small aggregate state, a version, and one record per open reservation.</summary>
public sealed record SkuLedger(long Version, SkuState State, IReadOnlyList<StockReservation> Reservations);

/// <summary>
/// One atomic change of a SKU's ledger: the new aggregate, reservations opened and closed since the last write. Several
/// requests' changes travel in one write (group commit); a write never carries the whole reservation book, so its cost does
/// not grow with the number of open orders.
/// </summary>
public sealed record SkuLedgerWrite(
    string SkuId,
    long ExpectedVersion,
    SkuState State,
    IReadOnlyList<StockReservation> Opened,
    IReadOnlyList<string> Closed,
    IReadOnlyList<PlacedOrderWrite>? Placed = null);

/// <summary>
/// An order the SKU placed itself (a one-line checkout, <see cref="ISkuGrain.PlaceOrder"/>): its first state (grain storage row
/// of the order grain, state name <c>order</c>, version 1, woken at <paramref name="WakeAt"/>), the rows its write carries (list
/// row, notification) and its checkout's key (grain storage row of the checkout grain, state name <c>checkout</c>), all
/// committed with the reservation. A checkout key already stored fails the SKU's write (<see cref="CheckoutKeysTakenException"/>).
/// </summary>
public sealed record PlacedOrderWrite(
    string OrderGrainId,
    Orders.OrderState Order,
    DateTimeOffset? WakeAt,
    Orders.OrderOutbox Outbox,
    string CheckoutGrainId,
    Orders.CheckoutState Checkout,
    PlacedOrderPayloads? Payloads = null);

/// <summary>
/// The stored form of a placed order's two grain states (<see cref="ISkuLedgerStore.Encode"/>), made when the order is placed,
/// while the write before it is still in flight, so the write that carries the order does not encode them on its critical path.
/// </summary>
public sealed record PlacedOrderPayloads(byte[] Order, byte[] Checkout);

/// <summary>Checkout keys of a write were stored before (retries or reused keys); nothing of that write was stored.</summary>
public sealed class CheckoutKeysTakenException(IReadOnlyList<string> checkoutGrainIds)
    : Exception($"{checkoutGrainIds.Count} checkout key(s) of the write were used before; nothing was written.")
{
    public IReadOnlyList<string> CheckoutGrainIds { get; } = checkoutGrainIds;
}

/// <summary>The write lost a race with another activation of the same SKU (its version moved); nothing was written.</summary>
public sealed class SkuLedgerConflictException(string skuId, long expectedVersion)
    : Exception($"The ledger of SKU '{skuId}' is no longer at version {expectedVersion}; another activation wrote it.");

/// <summary>Durable storage of SKU ledgers (the silo implements it over PostgreSQL or SQLite).</summary>
public interface ISkuLedgerStore
{
    Task<SkuLedger?> LoadAsync(string skuId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies the write in one transaction if the stored version is <c>ExpectedVersion</c> and none of its placed orders'
    /// checkout keys is stored yet; returns the new version.
    /// </summary>
    Task<long> WriteAsync(SkuLedgerWrite write, CancellationToken cancellationToken);

    /// <summary>
    /// The placed order with its grain states encoded as the store will write them (<see cref="PlacedOrderWrite.Payloads"/>); its
    /// states must not change after this. A store that encodes nothing ahead answers it as it is.
    /// </summary>
    PlacedOrderWrite Encode(PlacedOrderWrite placed) => placed;
}
