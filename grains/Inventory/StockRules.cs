namespace Orleans.Trade.Inventory;

/// <summary>The stock rules of R-INV-1..3 as plain functions over <see cref="SkuState"/>; no I/O.</summary>
public static class StockRules
{
    /// <summary>
    /// Units that can still be sold from stock: every warehouse's unreserved on-hand units, less those held for pre-orders not
    /// yet shipped (R-INV-5), never below zero.
    /// </summary>
    public static long TotalAvailable(SkuState state)
    {
        // Walks the dictionary itself (its enumerator is a struct): every reservation of a hot SKU asks twice.
        var total = 0L;
        foreach (var (_, stock) in state.Warehouses)
        {
            total += stock.Available;
        }
        return Math.Max(0, total - state.PreSaleOpen);
    }

    /// <summary>Counts the open pre-sold units from the reservations (on load: they are not stored apart).</summary>
    public static void CountOpenPreSale(SkuState state)
    {
        var open = 0L;
        foreach (var reservation in state.Reservations.Values)
        {
            foreach (var part in reservation.Parts)
            {
                if (part.WarehouseId is null)
                {
                    open += part.Quantity;
                }
            }
        }
        state.PreSaleOpen = open;
    }

    /// <summary>
    /// Each warehouse's units a new order can have: its unreserved on-hand units, less what is held for open pre-orders. Stock
    /// that arrives for a pre-sale is held from the warehouses in ordinal id order (the order <see cref="Commit"/> takes
    /// shipped pre-orders' units from), so the pre-orders are served before it is offered again.
    /// </summary>
    public static Dictionary<string, long> AvailableByWarehouse(SkuState state)
    {
        var held = HeldForPreOrders(state);
        var available = new Dictionary<string, long>(state.Warehouses.Count, StringComparer.Ordinal);
        foreach (var (warehouseId, stock) in state.Warehouses)
        {
            available[warehouseId] = stock.Available - held.GetValueOrDefault(warehouseId);
        }
        return available;
    }

    /// <summary>Units of each warehouse's stock held for open pre-orders (see <see cref="AvailableByWarehouse"/>); empty when none.</summary>
    public static IReadOnlyDictionary<string, long> HeldForPreOrders(SkuState state)
    {
        if (state.PreSaleOpen == 0)
        {
            return NoneHeld;
        }
        var held = new Dictionary<string, long>(StringComparer.Ordinal);
        var left = state.PreSaleOpen;
        foreach (var warehouseId in InHoldingOrder(state))
        {
            if (Math.Min(left, state.Warehouses[warehouseId].Available) is > 0 and var units)
            {
                held[warehouseId] = units;
                left -= units;
            }
            if (left == 0)
            {
                break;
            }
        }
        return held;
    }

    private static readonly IReadOnlyDictionary<string, long> NoneHeld = new Dictionary<string, long>();

    private static string[] InHoldingOrder(SkuState state)
    {
        var ids = state.Warehouses.Keys.ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }

    private const char AdjustmentKeySeparator = '\u001f';

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
            if (update.Version == current.Version && update.OnHand == (current.VersionOnHand ?? current.OnHand))
            {
                // The same update again (a retry after a lost answer or a time-out), even if an order shipped or an adjustment
                // landed since: already applied.
                return StockWriteStatus.Duplicate;
            }
            if (update.Version <= current.Version)
            {
                reason = $"version {update.Version} is not newer than the stored version {current.Version}.";
                return StockWriteStatus.Stale;
            }
            state.Warehouses[update.WarehouseId] = current with { OnHand = update.OnHand, Version = update.Version, VersionOnHand = update.OnHand, UpdatedAt = now };
            return StockWriteStatus.Applied;
        }
        if (state.Warehouses.Count >= StockLimits.MaxWarehousesPerSku)
        {
            reason = $"a SKU can be stocked in at most {StockLimits.MaxWarehousesPerSku} warehouses.";
            return StockWriteStatus.Rejected;
        }
        state.Warehouses[update.WarehouseId] = new WarehouseStock(update.WarehouseId, update.OnHand, 0, update.Version, now, VersionOnHand: update.OnHand);
        return StockWriteStatus.Applied;
    }

    /// <summary>Adds a delta to on hand once per event id; on hand never goes below zero.</summary>
    public static StockWriteStatus ApplyDelta(SkuState state, StockAdjustment adjustment, DateTimeOffset now, out string? reason)
    {
        reason = null;
        // Event ids are deduplicated per warehouse (ERPs often number stock movements per warehouse), and an id already used there
        // for another delta is refused rather than answered as a duplicate of a change it is not.
        var key = $"{adjustment.WarehouseId}{AdjustmentKeySeparator}{adjustment.EventId}{AdjustmentKeySeparator}{adjustment.Delta}";
        var prefix = key[..(key.LastIndexOf(AdjustmentKeySeparator) + 1)];
        if (state.RecentAdjustmentIds.FindLast(id => id.StartsWith(prefix, StringComparison.Ordinal) || id == adjustment.EventId) is { } seen)
        {
            if (seen == key || seen == adjustment.EventId) // the bare id: kept by earlier versions, for any warehouse and delta
            {
                return StockWriteStatus.Duplicate;
            }
            reason = $"eventId {adjustment.EventId} was already applied to warehouse {adjustment.WarehouseId} with another delta; a new change needs a new eventId.";
            return StockWriteStatus.Rejected;
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
        state.RecentAdjustmentIds.Add(key);
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

    /// <summary>
    /// A low-stock threshold changed while the units available stay: raised to or above them, the SKU is low as if it had
    /// fallen there, so it alerts once; not when it was low already under the old threshold, nor out of stock (R-INV-2).
    /// </summary>
    public static bool ThresholdReachesLowStock(long available, int? thresholdBefore, int? thresholdAfter) =>
        thresholdAfter is { } after && available > 0 && available <= after && !(thresholdBefore is { } before && available <= before);

    /// <summary>
    /// R-INV-1/4/5: holds <c>request.Quantity</c> units, nearest ranked warehouse first, then pre-sale room; all or nothing.
    /// A reservation id seen before returns its allocation unchanged.
    /// </summary>
    /// <summary>
    /// Pre-sale units still to be had (R-INV-5): none once the promised ship date has passed, since a buyer would be promised a
    /// date already gone.
    /// </summary>
    public static long PreSaleRemaining(SkuState state, SkuCatalog catalog, DateTimeOffset now) =>
        catalog.PreSale is { } terms && terms.PromisedShipDate >= DateOnly.FromDateTime(now.UtcDateTime)
            ? Math.Max(0, terms.Quota - state.PreSaleReserved)
            : 0;

    /// <summary>
    /// New pre-sale terms with another promised ship date start a new campaign: its quota counts only the pre-sold units still
    /// open (reserved, not shipped), not those the last campaign shipped, which would otherwise use the new quota up. Terms
    /// taken away pause the campaign; put back with its date, they go on counting everything it sold.
    /// </summary>
    public static void ApplyPreSaleTerms(SkuState state, PreSaleTerms? before, PreSaleTerms? after)
    {
        // States stored before the campaign date was kept know it only from the terms being replaced.
        var campaign = state.PreSaleCampaignDate ?? before?.PromisedShipDate;
        if (after is null)
        {
            state.PreSaleCampaignDate = campaign;
            return;
        }
        if (after.PromisedShipDate != campaign)
        {
            state.PreSaleReserved = state.PreSaleOpen;
        }
        state.PreSaleCampaignDate = after.PromisedShipDate;
    }

    public static StockReservationResult Reserve(SkuState state, StockReservationRequest request, DateTimeOffset now, out bool changed)
    {
        changed = false;
        var catalog = state.Catalog;
        if (catalog is null)
        {
            return new StockReservationResult(ReservationStatus.UnknownSku, [], 0, null);
        }
        var preSaleRemaining = PreSaleRemaining(state, catalog, now);
        if (state.Reservations.TryGetValue(request.ReservationId, out var existing))
        {
            if (existing.HoldUntil is { } heldUntil && request.HoldUntil is { } wanted && wanted > heldUntil)
            {
                // A tentative hold asked for again by an order preparing anew (a retried checkout whose order had left memory):
                // held until the new time-out, so that a hold check asking the order meanwhile releases nothing from under it.
                state.Reservations[request.ReservationId] = existing with { HoldUntil = wanted };
                changed = true;
            }
            return new StockReservationResult(ReservationStatus.Reserved, existing.Parts, TotalAvailable(state) + preSaleRemaining, catalog);
        }
        if (request.SellerId is { } seller && !string.Equals(seller, catalog.SellerId, StringComparison.Ordinal))
        {
            return new StockReservationResult(ReservationStatus.OtherSeller, [], 0, catalog);
        }
        var available = AvailableByWarehouse(state);
        var allocation = Orders.StockAllocation.Allocate(request.Quantity, request.RankedWarehouseIds, available, preSaleRemaining);
        if (!allocation.Satisfied)
        {
            return new StockReservationResult(ReservationStatus.Insufficient, [], allocation.AvailableNow, catalog);
        }
        var parts = new List<StockAllocationPart>(allocation.FromWarehouses.Count + 1);
        foreach (var (warehouseId, quantity) in allocation.FromWarehouses)
        {
            var stock = state.Warehouses[warehouseId];
            state.Warehouses[warehouseId] = stock with { Reserved = stock.Reserved + quantity, UpdatedAt = now };
            parts.Add(new StockAllocationPart(warehouseId, quantity, null));
        }
        if (allocation.PreSaleQuantity > 0)
        {
            state.PreSaleReserved += allocation.PreSaleQuantity;
            state.PreSaleOpen += allocation.PreSaleQuantity;
            parts.Add(new StockAllocationPart(null, allocation.PreSaleQuantity, catalog.PreSale!.PromisedShipDate));
        }
        state.Reservations[request.ReservationId] = new StockReservation(request.ReservationId, parts, now, request.HoldUntil);
        changed = true;
        CheckInvariants(state);
        return new StockReservationResult(ReservationStatus.Reserved, parts, TotalAvailable(state) + Math.Max(0, preSaleRemaining - allocation.PreSaleQuantity), catalog);
    }

    /// <summary>Returns a reservation's units to stock; false when the id is unknown (already released or committed).</summary>
    public static bool Release(SkuState state, string reservationId, DateTimeOffset now)
    {
        if (!state.Reservations.Remove(reservationId, out var reservation))
        {
            return false;
        }
        foreach (var part in reservation.Parts)
        {
            if (part.WarehouseId is null)
            {
                state.PreSaleReserved -= part.Quantity;
                state.PreSaleOpen -= part.Quantity;
            }
            else if (state.Warehouses.TryGetValue(part.WarehouseId, out var stock))
            {
                state.Warehouses[part.WarehouseId] = stock with { Reserved = stock.Reserved - part.Quantity, UpdatedAt = now };
            }
        }
        CheckInvariants(state);
        return true;
    }

    /// <summary>
    /// Turns a reservation into a sale: reserved and on-hand units leave the warehouse; false when the id is unknown. A shipped
    /// pre-order's units leave the stock held for it (warehouses in ordinal id order, as far as stock arrived for them); they stay
    /// counted against the pre-sale quota.
    /// </summary>
    public static bool Commit(SkuState state, string reservationId, DateTimeOffset now)
    {
        if (!state.Reservations.Remove(reservationId, out var reservation))
        {
            return false;
        }
        foreach (var part in reservation.Parts)
        {
            if (part.WarehouseId is null)
            {
                ShipPreOrdered(state, part.Quantity, now);
            }
            else if (state.Warehouses.TryGetValue(part.WarehouseId, out var stock))
            {
                state.Warehouses[part.WarehouseId] = stock with
                {
                    OnHand = Math.Max(0, stock.OnHand - part.Quantity),
                    Reserved = stock.Reserved - part.Quantity,
                    Sold = stock.Sold + part.Quantity,
                    UpdatedAt = now,
                };
            }
        }
        CheckInvariants(state);
        return true;
    }

    private static void ShipPreOrdered(SkuState state, long quantity, DateTimeOffset now)
    {
        state.PreSaleOpen -= quantity;
        var remaining = quantity;
        foreach (var warehouseId in InHoldingOrder(state))
        {
            if (remaining == 0)
            {
                break;
            }
            var stock = state.Warehouses[warehouseId];
            var taken = Math.Min(remaining, stock.Available);
            if (taken > 0)
            {
                state.Warehouses[warehouseId] = stock with { OnHand = stock.OnHand - taken, Sold = stock.Sold + taken, UpdatedAt = now };
                remaining -= taken;
            }
        }
        // Units beyond what arrived on hand shipped from elsewhere (straight from the supplier): no stock here to take.
    }

    /// <summary>Stock invariants (TigerStyle), cheap enough for every change: a violation stops the operation.</summary>
    public static void CheckInvariants(SkuState state)
    {
        foreach (var w in state.Warehouses.Values)
        {
            if (w.OnHand < 0 || w.Reserved < 0 || w.Sold < 0)
            {
                throw new InvalidOperationException($"Stock invariant broken in warehouse {w.WarehouseId}: onHand {w.OnHand}, reserved {w.Reserved}, sold {w.Sold}.");
            }
        }
        if (state.PreSaleReserved < 0 || state.PreSaleOpen < 0 || state.PreSaleOpen > state.PreSaleReserved)
        {
            throw new InvalidOperationException($"Stock invariant broken: pre-sale reserved {state.PreSaleReserved}, open {state.PreSaleOpen}.");
        }
    }

    /// <summary>The full cross-check, linear in open reservations (run on activation): reserved units equal what reservations hold.</summary>
    public static void CheckReservationsMatch(SkuState state)
    {
        CheckInvariants(state);
        var held = new Dictionary<string, long>(StringComparer.Ordinal);
        long preSale = 0;
        foreach (var part in state.Reservations.Values.SelectMany(r => r.Parts))
        {
            if (part.WarehouseId is null)
            {
                preSale += part.Quantity;
            }
            else
            {
                held[part.WarehouseId] = held.GetValueOrDefault(part.WarehouseId) + part.Quantity;
            }
        }
        foreach (var w in state.Warehouses.Values)
        {
            if (held.GetValueOrDefault(w.WarehouseId) != w.Reserved)
            {
                throw new InvalidOperationException($"Stock invariant broken in warehouse {w.WarehouseId}: reserved {w.Reserved} but reservations hold {held.GetValueOrDefault(w.WarehouseId)}.");
            }
        }
        if (preSale != state.PreSaleOpen)
        {
            throw new InvalidOperationException($"Stock invariant broken: open pre-sale reservations hold {preSale} but {state.PreSaleOpen} are counted open.");
        }
        if (preSale > state.PreSaleReserved)
        {
            throw new InvalidOperationException($"Stock invariant broken: open pre-sale reservations hold {preSale} but only {state.PreSaleReserved} are counted.");
        }
    }
}
