using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Api.Inventory;

// Requests use nullable members so a missing field is reported by name instead of defaulting to zero.

public sealed record MoneyRequest([Required] long? AmountMinor, [Required] string? Currency);

public sealed record PutSkuRequest(
    [Description("Required unless the API key acts for a seller: then it is that seller.")] string? SellerId,
    [Required] string? Title,
    [Required] string? Category,
    [Required] MoneyRequest? Price,
    [Required] int? WeightGrams,
    [Required] string? HsCode,
    [Required] string? OriginCountry,
    int? LowStockThreshold,
    PreSaleRequest? PreSale = null,
    IReadOnlyList<string?>? SubstituteSkuIds = null,
    int? HandlingTimeDays = null,
    [property: System.ComponentModel.Description("The seller's shipping template that prices this SKU's shipping (R-LOG-1), in the SKU's currency; left out, shipping is free.")]
    string? ShippingTemplateId = null,
    [property: System.ComponentModel.Description("Restricted goods the SKU is or holds (R-LOG-2): batteries, liquids, pastes, powders, magnets, flammables, sharpObjects, perishables. Carriers that do not take them to a destination are hidden for it, and a destination that prohibits them gets no carrier.")]
    IReadOnlyList<string?>? RestrictedGoods = null,
    [property: System.ComponentModel.Description("What one unit costs the seller (R-DAT-4), in the price's currency: counted by GET /api/v1/analytics/category-margin for the orders placed from then on. The seller's secret: shown only to the seller's own keys, admins and analysts, never to buyers or storefronts. Left out, the SKU has none.")]
    MoneyRequest? UnitCost = null);

/// <summary>R-INV-5: sell up to <c>quota</c> units beyond stock, promising to ship on <c>promisedShipDate</c>.</summary>
public sealed record PreSaleRequest([Required] long? Quota, [Required] DateOnly? PromisedShipDate);

public sealed record PutStockRequest([Required] long? OnHand, [Required] long? Version);

public sealed record StockAdjustmentRequest([Required] string? EventId, [Required] long? Delta, string? Reason);

public sealed record BulkStockItemRequest([Required] string? SkuId, [Required] string? WarehouseId, [Required] long? OnHand, [Required] long? Version);

public sealed record BulkStockRequest([Required] IReadOnlyList<BulkStockItemRequest?>? Items);

public sealed record PutWarehouseRequest([Required] string? Name, [Required] string? Country);

/// <param name="OnHand">Units on the shelf as the ERP last reported them (physical stock, pre-ordered units included).</param>
/// <param name="Available">Units a new order can have from this warehouse: on hand less reserved and less
/// <paramref name="HeldForPreOrders"/>.</param>
/// <param name="HeldForPreOrders">Units of this warehouse's stock held for open pre-orders (R-INV-5).</param>
public sealed record WarehouseStockResponse(
    string WarehouseId, long OnHand, long Reserved, long Available, long Sold, long Version, DateTimeOffset UpdatedAt, long HeldForPreOrders)
{
    public static WarehouseStockResponse From(WarehouseStock w, long heldForPreOrders) =>
        new(w.WarehouseId, w.OnHand, w.Reserved, w.Available - heldForPreOrders, w.Sold, w.Version, w.UpdatedAt, heldForPreOrders);

    public static WarehouseStockResponse From(WarehouseStock w, IReadOnlyDictionary<string, long>? held) =>
        From(w, held?.GetValueOrDefault(w.WarehouseId) ?? 0);
}

/// <param name="TotalAvailable">Units a new order can have from stock: unreserved on-hand units less <paramref name="PreOrdersOpen"/>.</param>
/// <param name="Warehouses">Each warehouse's stock as the ERP reported it, with its reserved and sold units.</param>
/// <param name="PreSale">The pre-sale terms' use, when the SKU has terms.</param>
/// <param name="PreOrdersOpen">Pre-sold units not yet shipped (R-INV-5): stock on hand is held for them before it is offered
/// again, and a shipped pre-order's units leave that stock.</param>
public sealed record SkuStockResponse(long TotalAvailable, IReadOnlyList<WarehouseStockResponse> Warehouses, PreSaleResponse? PreSale,
    long PreOrdersOpen);

public sealed record PreSaleResponse(long Quota, long Reserved, long Remaining, DateOnly PromisedShipDate);

public sealed record SkuResponse(
    string SkuId,
    string SellerId,
    string Title,
    string Category,
    Money Price,
    int WeightGrams,
    string HsCode,
    string OriginCountry,
    int? LowStockThreshold,
    PreSaleTerms? PreSale,
    IReadOnlyList<string> SubstituteSkuIds,
    int? HandlingTimeDays,
    SkuStockResponse Stock,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? ShippingTemplateId = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<Orleans.Trade.Logistics.GoodsClass>? RestrictedGoods = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [property: System.ComponentModel.Description("The seller's unit cost (R-DAT-4): present only for the SKU's own seller's keys, admins and analysts, and when there is one.")]
    Money? UnitCost = null)
{
    /// <summary>
    /// The SKU as the API shows it at <paramref name="now"/> (the pre-sale room ends with its promised date); its unit cost only when
    /// <paramref name="showCost"/> (the caller may see the seller's costs: <see cref="MayReadCost"/>).
    /// </summary>
    public static SkuResponse From(SkuView v, DateTimeOffset now, bool showCost = false) => new(
        v.SkuId, v.Catalog.SellerId, v.Catalog.Title, v.Catalog.Category, v.Catalog.Price, v.Catalog.WeightGrams,
        v.Catalog.HsCode, v.Catalog.OriginCountry, v.Catalog.LowStockThreshold, v.Catalog.PreSale, v.Catalog.SubstituteSkuIds ?? [], v.Catalog.HandlingTimeDays,
        new SkuStockResponse(v.TotalAvailable, v.Warehouses.Select(w => WarehouseStockResponse.From(w, v.HeldForPreOrders)).ToArray(),
            v.Catalog.PreSale is { } p ? new PreSaleResponse(p.Quota, v.PreSaleReserved, v.PreSaleRemainingAt(now), p.PromisedShipDate) : null,
            v.PreSaleOpen),
        v.CreatedAt, v.UpdatedAt, v.Catalog.ShippingTemplateId, v.Catalog.RestrictedGoods is { Count: > 0 } goods ? goods : null,
        showCost ? v.Catalog.UnitCost : null);

    /// <summary>Whether a caller may see a SKU's unit cost: an admin or analyst, or a key of the SKU's own seller (a seller's or ERP key).</summary>
    public static bool MayReadCost(Auth.Caller caller, string sellerId) =>
        caller.Role is Auth.Roles.Admin or Auth.Roles.Analyst || caller.ActingSellerId == sellerId;
}

public sealed record StockWriteResponse(string SkuId, string Outcome, WarehouseStockResponse Warehouse, long TotalAvailable);

/// <summary>
/// An item's outcome: applied (or applied before), stale (an older version), invalid (fix the item), failed (not stored, nothing
/// of its SKU acknowledged: send it again as it is).
/// </summary>
public enum BulkItemStatus { Applied, Stale, Invalid, Failed }

public sealed record BulkItemResult(int Index, string? SkuId, string? WarehouseId, BulkItemStatus Status, long? CurrentVersion, string? Reason);

public sealed record BulkStockResponse(int Applied, int Stale, int Invalid, IReadOnlyList<BulkItemResult> Results, int Failed = 0);

public sealed record StockAlertResponse(
    string AlertId, string SkuId, string SellerId, StockAlertKind Kind, long Available, int? Threshold, DateTimeOffset RaisedAt);

public sealed record StockAlertPage(IReadOnlyList<StockAlertResponse> Items, string? NextCursor);

public sealed record WarehouseResponse(string WarehouseId, string Name, string Country, DateTimeOffset RegisteredAt)
{
    public static WarehouseResponse From(Warehouse w) => new(w.WarehouseId, w.Name, w.Country, w.RegisteredAt);
}

/// <summary>A page request over recorded stock alerts, newest first.</summary>
public sealed record StockAlertQuery(string? SellerId, string? SkuId, StockAlertKind? Kind, string? BeforeAlertId, int Limit);

/// <summary>Reads the stock alert projection (implemented by the silo over the database).</summary>
public interface IStockAlertQueries
{
    Task<IReadOnlyList<StockAlert>> ListAsync(StockAlertQuery query, CancellationToken cancellationToken);
}
