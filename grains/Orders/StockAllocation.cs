namespace Orleans.Trade.Orders;

/// <summary>
/// Where an order line's units come from. When <see cref="Satisfied"/> is false nothing is allocated;
/// <see cref="AvailableNow"/> tells the buyer how many could be had (warehouse stock plus pre-sale).
/// </summary>
public sealed record AllocationResult(
    bool Satisfied,
    IReadOnlyList<(string WarehouseId, long Quantity)> FromWarehouses,
    long PreSaleQuantity,
    long AvailableNow);

/// <summary>R-INV-4 and R-INV-5: fill an order line from the nearest warehouses first, then from the pre-sale quota.</summary>
public static class StockAllocation
{
    /// <summary>
    /// Takes greedily from <paramref name="rankedWarehouseIds"/> in order, then from stocked warehouses missing from the ranking
    /// (ordinal id order), then up to <paramref name="preSaleRemaining"/> from pre-sale. All or nothing.
    /// </summary>
    public static AllocationResult Allocate(
        long quantity,
        IReadOnlyList<string> rankedWarehouseIds,
        IReadOnlyDictionary<string, long> availableByWarehouse,
        long preSaleRemaining)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        ArgumentOutOfRangeException.ThrowIfNegative(preSaleRemaining);
        ArgumentNullException.ThrowIfNull(rankedWarehouseIds);
        ArgumentNullException.ThrowIfNull(availableByWarehouse);

        var totalAvailable = 0L;
        foreach (var (warehouseId, available) in availableByWarehouse)
        {
            // Negative availability would mean stock was oversold: a bug upstream, not something to allocate around.
            if (available < 0)
            {
                throw new ArgumentException($"Warehouse '{warehouseId}' has negative availability {available}.", nameof(availableByWarehouse));
            }
            totalAvailable = checked(totalAvailable + available);
        }
        var availableNow = checked(totalAvailable + preSaleRemaining);
        if (quantity > availableNow)
        {
            return new AllocationResult(false, [], 0, availableNow);
        }

        var ranked = rankedWarehouseIds.ToHashSet(StringComparer.Ordinal);
        var visitOrder = rankedWarehouseIds
            .Concat(availableByWarehouse.Keys.Where(id => !ranked.Contains(id)).Order(StringComparer.Ordinal))
            .Distinct(StringComparer.Ordinal);

        var fromWarehouses = new List<(string WarehouseId, long Quantity)>();
        var remaining = quantity;
        foreach (var warehouseId in visitOrder)
        {
            if (remaining == 0)
            {
                break;
            }
            var available = availableByWarehouse.GetValueOrDefault(warehouseId);
            if (available == 0)
            {
                continue;
            }
            var taken = Math.Min(available, remaining);
            fromWarehouses.Add((warehouseId, taken));
            remaining -= taken;
        }
        // remaining <= preSaleRemaining here: quantity <= total available + pre-sale was checked above.
        return new AllocationResult(true, fromWarehouses, remaining, availableNow);
    }
}
