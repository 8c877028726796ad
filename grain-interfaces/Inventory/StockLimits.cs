namespace Orleans.Trade.Inventory;

/// <summary>Limits on stock quantities, shared by the API's validation and the SKU grain's rules.</summary>
public static class StockLimits
{
    /// <summary>Upper bound of units in one warehouse: keeps sums far from overflow.</summary>
    public const long MaxOnHand = 1_000_000_000;

    /// <summary>How many recent adjustment event ids a SKU remembers to drop repeats.</summary>
    public const int AdjustmentDedupWindow = 2_048;

    /// <summary>Upper bound of warehouses a single SKU is stocked in.</summary>
    public const int MaxWarehousesPerSku = 256;
}
