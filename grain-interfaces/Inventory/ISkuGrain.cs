namespace Orleans.Trade.Inventory;

/// <summary>
/// One SKU: its catalog data and its stock per warehouse. Key: the SKU id.
/// Every write returns only after the new state is durable.
/// <paramref name="actingSellerId"/> parameters carry the caller's seller id (null for platform staff)
/// so ownership is checked inside the grain's turn without an extra call.
/// Version 1: the catalog carries the seller's unit cost (<see cref="SkuCatalog.UnitCost"/>) and a one-line checkout its ad attribution,
/// which an activation of an older release would drop (and store the catalog without), so callers of this release are served by an
/// activation on a silo of this release.
/// </summary>
[Orleans.CodeGeneration.Version(1)]
public interface ISkuGrain : IGrainWithStringKey
{
    Task<CatalogWriteResult> UpsertCatalog(SkuCatalog catalog, string? actingSellerId);

    [ReadOnly]
    Task<SkuView?> Get();

    /// <summary>
    /// The catalog data alone, answered between other calls without waiting for a hot SKU's queue of stock writes. It may show a
    /// catalog change whose write is still in flight; prices that bind an order come from <see cref="Reserve"/>, never from here.
    /// </summary>
    [ReadOnly, AlwaysInterleave]
    Task<SkuCatalog?> GetCatalog();

    /// <summary>
    /// Catalog and units that could be had now (warehouse stock plus pre-sale room), answered between other calls. A hint for
    /// failing fast once a flash sale is sold out; only <see cref="Reserve"/> decides.
    /// </summary>
    [ReadOnly, AlwaysInterleave]
    Task<SkuAvailability?> GetAvailability();

    Task<StockWriteResult> SetStock(StockLevelUpdate update, string? actingSellerId);

    /// <summary>Applies several absolute updates in order and persists them with one write.</summary>
    Task<IReadOnlyList<StockWriteResult>> SetStockBatch(IReadOnlyList<StockLevelUpdate> updates, string? actingSellerId);

    Task<StockWriteResult> AdjustStock(StockAdjustment adjustment, string? actingSellerId);

    /// <summary>Holds stock for an order line, nearest ranked warehouse first, topping up from pre-sale; all or nothing.</summary>
    Task<StockReservationResult> Reserve(StockReservationRequest request);

    /// <summary>
    /// A one-line checkout placed by the SKU itself (R-ORD-2): reserves the line, prices the order and stores it, its order-list
    /// row, its notification, its inline payment's registration and its checkout key in the SKU's own group-commit write, then
    /// answers the live order (and the registration, which the caller starts). One grain call and one shared round trip per
    /// checkout instead of the saga's three activations and three writes. A checkout naming a coupon first takes its redemption
    /// from the seller's coupons (their own group-commit write), then places the order as above. Null when the saga must answer
    /// instead: the key was used before, the line cannot be had (short, unknown, no FX rate), the coupon does not apply (the
    /// redemption, if one was taken, is given back), or the cart is not one line of this SKU.
    /// </summary>
    Task<Orders.CheckoutResult?> PlaceOrder(Orders.SkuCheckout checkout);

    /// <summary>Gives a reservation's units back (order cancelled). Unknown ids are ignored, so retries are safe.</summary>
    Task ReleaseReservation(string reservationId);

    /// <summary>Turns a reservation into a sale (order shipped): on hand and reserved both drop. Unknown ids are ignored.</summary>
    Task CommitReservation(string reservationId);
}
