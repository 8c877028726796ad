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

        // Every checkout of a hot SKU comes through here, so the walk allocates nothing beyond its answer: a ranking lists a
        // handful of warehouses, and the first usually fills the line.
        var fromWarehouses = new List<(string WarehouseId, long Quantity)>(1);
        var remaining = quantity;
        for (var i = 0; i < rankedWarehouseIds.Count && remaining > 0; i++)
        {
            var warehouseId = rankedWarehouseIds[i];
            if (IndexOf(rankedWarehouseIds, warehouseId, i) >= 0)
            {
                continue; // ranked twice: taken from at its first place
            }
            remaining = Take(warehouseId, availableByWarehouse.GetValueOrDefault(warehouseId), remaining, fromWarehouses);
        }
        if (remaining > 0)
        {
            // Stocked warehouses the ranking does not name, in ordinal id order.
            List<string>? unranked = null;
            foreach (var (warehouseId, available) in availableByWarehouse)
            {
                if (available > 0 && IndexOf(rankedWarehouseIds, warehouseId, rankedWarehouseIds.Count) == -1)
                {
                    (unranked ??= []).Add(warehouseId);
                }
            }
            if (unranked is not null)
            {
                unranked.Sort(StringComparer.Ordinal);
                for (var i = 0; i < unranked.Count && remaining > 0; i++)
                {
                    remaining = Take(unranked[i], availableByWarehouse[unranked[i]], remaining, fromWarehouses);
                }
            }
        }
        // remaining <= preSaleRemaining here: quantity <= total available + pre-sale was checked above.
        return new AllocationResult(true, fromWarehouses, remaining, availableNow);
    }

    private static long Take(string warehouseId, long available, long remaining, List<(string WarehouseId, long Quantity)> taken)
    {
        if (available == 0)
        {
            return remaining;
        }
        var quantity = Math.Min(available, remaining);
        taken.Add((warehouseId, quantity));
        return remaining - quantity;
    }

    /// <summary>Where <paramref name="id"/> first appears among the first <paramref name="count"/> ids, or -1.</summary>
    private static int IndexOf(IReadOnlyList<string> ids, string id, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(ids[i], id, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
