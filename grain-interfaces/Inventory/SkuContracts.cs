using Orleans.Trade.Common;

namespace Orleans.Trade.Inventory;

/// <summary>Catalog data of a SKU as the seller maintains it.</summary>
[GenerateSerializer, Immutable]
public sealed record SkuCatalog(
    [property: Id(0)] string SellerId,
    [property: Id(1)] string Title,
    [property: Id(2)] string Category,
    [property: Id(3)] Money Price,
    [property: Id(4)] int WeightGrams,
    [property: Id(5)] string HsCode,
    [property: Id(6)] string OriginCountry,
    [property: Id(7)] int? LowStockThreshold,
    [property: Id(8)] PreSaleTerms? PreSale = null,
    [property: Id(9)] IReadOnlyList<string>? SubstituteSkuIds = null,
    [property: Id(10)] int? HandlingTimeDays = null,
    [property: Id(11)] string? ShippingTemplateId = null,
    /// <summary>Restricted goods the SKU is or holds (R-LOG-2): carriers that do not take them to a destination are hidden for it.</summary>
    [property: Id(12)] IReadOnlyList<Logistics.GoodsClass>? RestrictedGoods = null,
    /// <summary>
    /// What one unit costs the seller (R-DAT-4), in the price's currency; null when the seller did not say. The seller's secret:
    /// the API shows it only to the owning seller's keys, admins and analysts, and an order's line keeps it from its reservation.
    /// </summary>
    [property: Id(13)] Money? UnitCost = null);

/// <summary>R-INV-5: beyond on-hand stock, up to <see cref="Quota"/> units may be sold for shipping on <see cref="PromisedShipDate"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record PreSaleTerms(
    [property: Id(0)] long Quota,
    [property: Id(1)] DateOnly PromisedShipDate);

/// <summary>Stock of one SKU in one warehouse. Reserved units belong to orders not yet shipped.</summary>
[GenerateSerializer, Immutable]
public sealed record WarehouseStock(
    [property: Id(0)] string WarehouseId,
    [property: Id(1)] long OnHand,
    [property: Id(2)] long Reserved,
    [property: Id(3)] long Version,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] long Sold = 0,
    /// <summary>
    /// The on-hand the ERP's update of <see cref="Version"/> set, before shipments and adjustments moved it: a retry of that
    /// update is known as such. Null for stock last set by an adjustment, or stored before it was kept.
    /// </summary>
    [property: Id(6)] long? VersionOnHand = null)
{
    /// <summary>Units that can still be sold; never negative even when the ERP reports less than is reserved.</summary>
    public long Available => Math.Max(0, OnHand - Reserved);
}

[GenerateSerializer, Immutable]
public sealed record SkuView(
    [property: Id(0)] string SkuId,
    [property: Id(1)] SkuCatalog Catalog,
    [property: Id(2)] long TotalAvailable,
    [property: Id(3)] IReadOnlyList<WarehouseStock> Warehouses,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset UpdatedAt,
    [property: Id(6)] long PreSaleReserved = 0,
    /// <summary>Pre-sold units not yet shipped: stock on hand goes to them first, so <see cref="TotalAvailable"/> leaves them out.</summary>
    [property: Id(7)] long PreSaleOpen = 0,
    /// <summary>Units of each warehouse's stock held for those pre-orders (warehouses holding none are left out).</summary>
    [property: Id(8)] IReadOnlyDictionary<string, long>? HeldForPreOrders = null)
{
    /// <summary>Pre-sale units still to be had at <paramref name="now"/>: none once the promised ship date has passed (R-INV-5).</summary>
    public long PreSaleRemainingAt(DateTimeOffset now) =>
        Catalog.PreSale is { } terms && terms.PromisedShipDate >= DateOnly.FromDateTime(now.UtcDateTime) ? Math.Max(0, terms.Quota - PreSaleReserved) : 0;
}

/// <summary>An absolute stock level from a seller's ERP; <see cref="Version"/> must increase per (SKU, warehouse).</summary>
[GenerateSerializer, Immutable]
public sealed record StockLevelUpdate(
    [property: Id(0)] string WarehouseId,
    [property: Id(1)] long OnHand,
    [property: Id(2)] long Version);

/// <summary>A relative stock change identified by an event id; the same event id is applied once.</summary>
[GenerateSerializer, Immutable]
public sealed record StockAdjustment(
    [property: Id(0)] string WarehouseId,
    [property: Id(1)] string EventId,
    [property: Id(2)] long Delta,
    [property: Id(3)] string? Reason);

public enum StockWriteStatus
{
    /// <summary>The change was applied and is durable.</summary>
    Applied,
    /// <summary>The version was not newer than the stored one; nothing changed.</summary>
    Stale,
    /// <summary>The event id was applied before; nothing changed this time.</summary>
    Duplicate,
    /// <summary>The change breaks a stock rule (e.g. on hand below zero); nothing changed.</summary>
    Rejected,
    /// <summary>The SKU has no catalog data yet.</summary>
    UnknownSku,
    /// <summary>The SKU belongs to another seller.</summary>
    Forbidden,
}

[GenerateSerializer, Immutable]
public sealed record StockWriteResult(
    [property: Id(0)] StockWriteStatus Status,
    [property: Id(1)] WarehouseStock? Warehouse,
    [property: Id(2)] long TotalAvailable,
    [property: Id(3)] string? Reason,
    /// <summary>Units of <see cref="Warehouse"/>'s stock held for open pre-orders (R-INV-5).</summary>
    [property: Id(4)] long HeldForPreOrders = 0);

public enum CatalogWriteStatus
{
    Created,
    Updated,
    /// <summary>The SKU exists and belongs to another seller.</summary>
    Forbidden,
}

[GenerateSerializer, Immutable]
public sealed record CatalogWriteResult(
    [property: Id(0)] CatalogWriteStatus Status,
    [property: Id(1)] SkuView? Sku);

public enum StockAlertKind
{
    /// <summary>Total available fell to or below the SKU's low-stock threshold.</summary>
    LowStock,
    /// <summary>Total available reached zero.</summary>
    OutOfStock,
}

/// <summary>A recorded crossing of a stock threshold.</summary>
[GenerateSerializer, Immutable]
public sealed record StockAlert(
    [property: Id(0)] string AlertId,
    [property: Id(1)] string SkuId,
    [property: Id(2)] string SellerId,
    [property: Id(3)] StockAlertKind Kind,
    [property: Id(4)] long Available,
    [property: Id(5)] int? Threshold,
    [property: Id(6)] DateTimeOffset RaisedAt);

/// <summary>
/// A request to hold stock for one order line. <see cref="ReservationId"/> makes retries no-ops. With <see cref="HoldUntil"/>
/// the hold is tentative: unless its order is placed by then, the SKU asks the order and gives the units back (an abandoned
/// checkout). Without it the units stay held until the order releases or commits them.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record StockReservationRequest(
    [property: Id(0)] string ReservationId,
    [property: Id(1)] long Quantity,
    [property: Id(2)] IReadOnlyList<string> RankedWarehouseIds,
    [property: Id(3)] DateTimeOffset? HoldUntil = null,
    /// <summary>The seller whose order asks: a SKU of another seller holds nothing for it (one shop's import or a SKU moved to
    /// another seller must not take, even for a moment, units another shop's buyers are checking out).</summary>
    [property: Id(4)] string? SellerId = null);

/// <summary>Reservation ids are "{order id}:{line index}": the order that holds a reservation is known from its id.</summary>
public static class ReservationIds
{
    public static string For(string orderId, int line) => $"{orderId}:{line}";

    public static string OrderOf(string reservationId) =>
        reservationId.LastIndexOf(':') is var colon and > 0 ? reservationId[..colon] : reservationId;
}

/// <summary>Units of one line taken from one warehouse, or from pre-sale (no warehouse) with a promised ship date.</summary>
[GenerateSerializer, Immutable]
public sealed record StockAllocationPart(
    [property: Id(0)] string? WarehouseId,
    [property: Id(1)] long Quantity,
    [property: Id(2)] DateOnly? PromisedShipDate);

public enum ReservationStatus
{
    Reserved,
    Insufficient,
    UnknownSku,
    /// <summary>The SKU is sold by another seller than the request's; nothing was held.</summary>
    OtherSeller,
}

[GenerateSerializer, Immutable]
public sealed record StockReservationResult(
    [property: Id(0)] ReservationStatus Status,
    [property: Id(1)] IReadOnlyList<StockAllocationPart> Allocation,
    [property: Id(2)] long Available, // units that could be had right now: warehouse stock plus pre-sale room
    [property: Id(3)] SkuCatalog? Catalog); // the catalog at reservation time: the price and seller the line is bound to

[GenerateSerializer, Immutable]
public sealed record SkuAvailability(
    [property: Id(0)] SkuCatalog Catalog,
    [property: Id(1)] long Available);
