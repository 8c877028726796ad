namespace Orleans.Trade.Inventory;

/// <summary>The stock rules of R-INV-1..3 as plain functions over <see cref="SkuState"/>; no I/O.</summary>
public static class StockRules
{
    public static long TotalAvailable(SkuState state) => state.Warehouses.Values.Sum(w => w.Available);

    /// <summary>Sets the absolute on-hand quantity if <paramref name="update"/> carries a newer version.</summary>
    public static StockWriteStatus ApplyAbsolute(SkuState state, StockLevelUpdate update, DateTimeOffset now, out string? reason)
    {
        reason = null;
        if (update.OnHand is < 0 or > StockLimits.MaxOnHand)
        {
            reason = $"onHand must be between 0 and {StockLimits.MaxOnHand}.";
            return StockWriteStatus.Rejected;
        }
        if (state.Warehouses.TryGetValue(update.WarehouseId, out var current))
        {
            if (update.Version <= current.Version)
            {
                reason = $"version {update.Version} is not newer than the stored version {current.Version}.";
                return StockWriteStatus.Stale;
            }
            state.Warehouses[update.WarehouseId] = current with { OnHand = update.OnHand, Version = update.Version, UpdatedAt = now };
            return StockWriteStatus.Applied;
        }
        if (state.Warehouses.Count >= StockLimits.MaxWarehousesPerSku)
        {
            reason = $"a SKU can be stocked in at most {StockLimits.MaxWarehousesPerSku} warehouses.";
            return StockWriteStatus.Rejected;
        }
        state.Warehouses[update.WarehouseId] = new WarehouseStock(update.WarehouseId, update.OnHand, 0, update.Version, now);
        return StockWriteStatus.Applied;
    }

    /// <summary>Adds a delta to on hand once per event id; on hand never goes below zero.</summary>
    public static StockWriteStatus ApplyDelta(SkuState state, StockAdjustment adjustment, DateTimeOffset now, out string? reason)
    {
        reason = null;
        if (state.RecentAdjustmentIds.Contains(adjustment.EventId, StringComparer.Ordinal))
        {
            return StockWriteStatus.Duplicate;
        }
        state.Warehouses.TryGetValue(adjustment.WarehouseId, out var current);
        var onHand = current?.OnHand ?? 0;
        var next = onHand + adjustment.Delta;
        if (next < 0)
        {
            reason = $"on hand is {onHand}; a delta of {adjustment.Delta} would take it below zero.";
            return StockWriteStatus.Rejected;
        }
        if (next > StockLimits.MaxOnHand)
        {
            reason = $"on hand would exceed {StockLimits.MaxOnHand}.";
            return StockWriteStatus.Rejected;
        }
        if (current is null && state.Warehouses.Count >= StockLimits.MaxWarehousesPerSku)
        {
            reason = $"a SKU can be stocked in at most {StockLimits.MaxWarehousesPerSku} warehouses.";
            return StockWriteStatus.Rejected;
        }
        // A delta keeps the ERP's absolute version: the next absolute update still only needs to be newer than the last one.
        state.Warehouses[adjustment.WarehouseId] = current is null
            ? new WarehouseStock(adjustment.WarehouseId, next, 0, 0, now)
            : current with { OnHand = next, UpdatedAt = now };
        state.RecentAdjustmentIds.Add(adjustment.EventId);
        if (state.RecentAdjustmentIds.Count > StockLimits.AdjustmentDedupWindow)
        {
            state.RecentAdjustmentIds.RemoveRange(0, state.RecentAdjustmentIds.Count - StockLimits.AdjustmentDedupWindow);
        }
        return StockWriteStatus.Applied;
    }

    /// <summary>
    /// The alerts a change of total available raises: low stock when it falls from above the threshold to at or below it,
    /// out of stock when it falls from above zero to zero. Rising never alerts.
    /// </summary>
    public static IReadOnlyList<StockAlertKind> AlertsFor(long availableBefore, long availableAfter, int? lowStockThreshold)
    {
        if (availableAfter >= availableBefore)
        {
            return [];
        }
        var kinds = new List<StockAlertKind>(2);
        if (lowStockThreshold is { } threshold && availableBefore > threshold && availableAfter <= threshold && availableAfter > 0)
        {
            kinds.Add(StockAlertKind.LowStock);
        }
        if (availableBefore > 0 && availableAfter == 0)
        {
            kinds.Add(StockAlertKind.OutOfStock);
        }
        return kinds;
    }
}
