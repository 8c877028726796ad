namespace Orleans.Trade.Inventory;

/// <summary>
/// A SKU grain's state. Everything but <see cref="Reservations"/> is the small aggregate written on every change; the
/// reservations are stored as rows of their own (see <see cref="ISkuLedgerStore"/>).
/// </summary>
[GenerateSerializer]
public sealed class SkuState
{
    [Id(0)] public SkuCatalog? Catalog { get; set; }
    [Id(1)] public Dictionary<string, WarehouseStock> Warehouses { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Ids of recently applied adjustments, oldest first, bounded by <see cref="StockLimits.AdjustmentDedupWindow"/>.</summary>
    [Id(2)] public List<string> RecentAdjustmentIds { get; set; } = [];
    /// <summary>Alerts persisted with the change that raised them, not yet confirmed in the alert table (an outbox).</summary>
    [Id(3)] public List<StockAlert> PendingAlerts { get; set; } = [];
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    [Id(5)] public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Open reservations by id: units held for orders that have not shipped or been cancelled.</summary>
    [Id(6), System.Text.Json.Serialization.JsonIgnore]
    public Dictionary<string, StockReservation> Reservations { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Units sold beyond on-hand stock under the SKU's pre-sale terms.</summary>
    [Id(7)] public long PreSaleReserved { get; set; }
    /// <summary>
    /// The promised ship date of the pre-sale campaign <see cref="PreSaleReserved"/> counts for; kept while pre-sale is paused,
    /// so terms put back with the same date go on counting the units it already sold. Null until a SKU first has terms.
    /// </summary>
    [Id(9)] public DateOnly? PreSaleCampaignDate { get; set; }
    /// <summary>
    /// Pre-sold units not yet shipped (open reservation parts without a warehouse): stock on hand goes to them before any new
    /// order (R-INV-5). Counted from <see cref="Reservations"/> on load, kept up to date by <see cref="StockRules"/>.
    /// </summary>
    [Id(8), System.Text.Json.Serialization.JsonIgnore]
    public long PreSaleOpen { get; set; }
    /// <summary>
    /// Pending alerts raised by a tentative hold, by alert id: the reservation id of the hold (R-INV-2). Such an alert is not
    /// published while its hold is tentative, since the hold's units may go back (a multi-line checkout or an import refused for
    /// another line's want of stock); if they do, the alert goes with them unless the stock stands at its level anyway. Once the
    /// hold is firm (or gone otherwise) the alert goes out like any other.
    /// </summary>
    [Id(10)] public Dictionary<string, string> TentativeAlerts { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Immutable]
public sealed record StockReservation(
    [property: Id(0)] string ReservationId,
    [property: Id(1)] IReadOnlyList<StockAllocationPart> Parts,
    [property: Id(2)] DateTimeOffset ReservedAt,
    /// <summary>Set while the hold is tentative (its order not yet known to be placed); null once it is.</summary>
    [property: Id(3)] DateTimeOffset? HoldUntil = null);
