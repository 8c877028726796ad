using Orleans.Trade.Inventory;

namespace Orleans.Trade.Tests.Inventory;

public sealed class StockRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static SkuState Stocked(long onHand, long version = 1, long reserved = 0) => new()
    {
        Warehouses = { ["wh"] = new WarehouseStock("wh", onHand, reserved, version, Now) },
    };

    [Fact]
    public void Absolute_update_needs_a_strictly_newer_version()
    {
        var state = Stocked(10, version: 4);

        Assert.Equal(StockWriteStatus.Stale, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 50, 4), Now, out var reason));
        Assert.Contains("4", reason);
        Assert.Equal(StockWriteStatus.Stale, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 50, 3), Now, out _));
        Assert.Equal(10, state.Warehouses["wh"].OnHand);

        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 50, 5), Now, out _));
        Assert.Equal(50, state.Warehouses["wh"].OnHand);
        Assert.Equal(5, state.Warehouses["wh"].Version);
    }

    [Fact]
    public void Absolute_update_keeps_reservations_and_available_never_goes_negative()
    {
        var state = Stocked(10, reserved: 6);

        StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 4, 2), Now, out _);

        Assert.Equal(6, state.Warehouses["wh"].Reserved);
        Assert.Equal(0, state.Warehouses["wh"].Available);
        Assert.Equal(0, StockRules.TotalAvailable(state));
    }

    [Fact]
    public void Delta_applies_once_per_event_id_and_never_below_zero()
    {
        var state = Stocked(3);

        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyDelta(state, new StockAdjustment("wh", "e1", -2, null), Now, out _));
        Assert.Equal(StockWriteStatus.Duplicate, StockRules.ApplyDelta(state, new StockAdjustment("wh", "e1", -2, null), Now, out _));
        Assert.Equal(StockWriteStatus.Rejected, StockRules.ApplyDelta(state, new StockAdjustment("wh", "e2", -2, null), Now, out var reason));
        Assert.Contains("below zero", reason);
        Assert.Equal(1, state.Warehouses["wh"].OnHand);
        // A rejected event id is not remembered: the same id may be retried once stock allows it.
        Assert.DoesNotContain(state.RecentAdjustmentIds, id => id.Contains("e2"));
    }

    [Fact]
    public void An_event_id_is_a_warehouses_own_and_reusing_it_for_another_delta_is_refused_not_called_a_duplicate()
    {
        var state = Stocked(10);
        state.Warehouses["wh-b"] = new WarehouseStock("wh-b", 10, 0, 1, Now);

        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyDelta(state, new StockAdjustment("wh", "1001", 5, null), Now, out _));
        // The same number from another warehouse's sequence is another movement.
        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyDelta(state, new StockAdjustment("wh-b", "1001", -3, null), Now, out _));
        Assert.Equal(StockWriteStatus.Duplicate, StockRules.ApplyDelta(state, new StockAdjustment("wh", "1001", 5, null), Now, out _));
        Assert.Equal(StockWriteStatus.Rejected, StockRules.ApplyDelta(state, new StockAdjustment("wh", "1001", 4, null), Now, out var reason));
        Assert.Contains("another delta", reason);
        Assert.Equal(15, state.Warehouses["wh"].OnHand);
        Assert.Equal(7, state.Warehouses["wh-b"].OnHand);
        // An id remembered bare by an earlier version still counts as applied, whatever it is sent with.
        state.RecentAdjustmentIds.Add("legacy-7");
        Assert.Equal(StockWriteStatus.Duplicate, StockRules.ApplyDelta(state, new StockAdjustment("wh-b", "legacy-7", 2, null), Now, out _));
        Assert.Equal(7, state.Warehouses["wh-b"].OnHand);
    }

    [Fact]
    public void An_absolute_update_sent_again_after_a_lost_answer_is_a_duplicate_not_stale()
    {
        var state = Stocked(10, version: 4);
        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 7, 5), Now, out _));
        Assert.Equal(StockWriteStatus.Duplicate, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 7, 5), Now, out _));
        Assert.Equal(StockWriteStatus.Stale, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 8, 5), Now, out _));
        Assert.Equal(7, state.Warehouses["wh"].OnHand);
    }

    [Fact]
    public void An_absolute_update_sent_again_after_an_order_shipped_or_an_adjustment_landed_is_still_a_duplicate()
    {
        var state = Stocked(10, version: 4);
        state.Catalog = new SkuCatalog("s1", "Mug", "home", new Orleans.Trade.Common.Money(999, "EUR"), 350, "691200", "PT", null);
        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 7, 5), Now, out _));
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("o1:0", 2, ["wh"]), Now, out _).Status);
        Assert.True(StockRules.Commit(state, "o1:0", Now)); // shipped: on hand 5
        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyDelta(state, new StockAdjustment("wh", "e1", 1, null), Now, out _)); // 6

        // The ERP's retry of version 5 (its answer was lost) changes nothing and is answered as the duplicate it is.
        Assert.Equal(StockWriteStatus.Duplicate, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 7, 5), Now, out _));
        Assert.Equal(StockWriteStatus.Stale, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 6, 5), Now, out _));
        Assert.Equal(6, state.Warehouses["wh"].OnHand);
        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 9, 6), Now, out _));
        Assert.Equal(StockWriteStatus.Duplicate, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 9, 6), Now, out _));
    }

    [Fact]
    public void Delta_keeps_the_erp_version_so_the_next_absolute_update_still_applies()
    {
        var state = Stocked(3, version: 8);

        StockRules.ApplyDelta(state, new StockAdjustment("wh", "e1", 5, null), Now, out _);

        Assert.Equal(8, state.Warehouses["wh"].Version);
        Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 1, 9), Now, out _));
    }

    [Fact]
    public void Dedup_memory_is_bounded_to_the_window()
    {
        var state = Stocked(0);
        for (var i = 0; i < StockLimits.AdjustmentDedupWindow + 10; i++)
        {
            Assert.Equal(StockWriteStatus.Applied, StockRules.ApplyDelta(state, new StockAdjustment("wh", $"e{i}", 1, null), Now, out _));
        }

        Assert.Equal(StockLimits.AdjustmentDedupWindow, state.RecentAdjustmentIds.Count);
        Assert.StartsWith("wh\u001fe10\u001f", state.RecentAdjustmentIds[0]);
        Assert.Equal(StockLimits.AdjustmentDedupWindow + 10, state.Warehouses["wh"].OnHand);
    }

    [Fact]
    public void Quantities_beyond_the_limit_are_rejected()
    {
        var state = Stocked(StockLimits.MaxOnHand);

        Assert.Equal(StockWriteStatus.Rejected, StockRules.ApplyDelta(state, new StockAdjustment("wh", "e", 1, null), Now, out _));
        Assert.Equal(StockWriteStatus.Rejected, StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", -1, 9), Now, out _));
    }

    [Theory]
    [InlineData(20, 5, 5, new[] { StockAlertKind.LowStock })]
    [InlineData(20, 6, 5, new StockAlertKind[0])]
    [InlineData(5, 3, 5, new StockAlertKind[0])]                    // already low: no repeat
    [InlineData(4, 0, 5, new[] { StockAlertKind.OutOfStock })]
    [InlineData(20, 0, 5, new[] { StockAlertKind.OutOfStock })]      // straight to zero: the stronger alert only
    [InlineData(1, 0, null, new[] { StockAlertKind.OutOfStock })]
    [InlineData(0, 10, 5, new StockAlertKind[0])]                   // rising never alerts
    [InlineData(0, 0, 5, new StockAlertKind[0])]
    public void Alerts_fire_when_available_crosses_the_threshold_or_reaches_zero(long before, long after, int? threshold, StockAlertKind[] expected)
    {
        Assert.Equal(expected, StockRules.AlertsFor(before, after, threshold));
    }

    [Theory]
    [InlineData(8, 5, 10, true)]
    [InlineData(8, null, 8, true)]      // a first threshold at the units available
    [InlineData(8, 10, 12, false)]      // low already
    [InlineData(8, 5, 7, false)]
    [InlineData(8, 10, 3, false)]       // lowered: nothing to raise
    [InlineData(0, 5, 10, false)]       // out of stock: its own alert said so
    [InlineData(8, 5, null, false)]
    public void Raising_the_threshold_to_or_above_the_units_available_reaches_low_stock_once(long available, int? before, int? after, bool expected)
    {
        Assert.Equal(expected, StockRules.ThresholdReachesLowStock(available, before, after));
    }

    [Fact]
    public void A_retried_tentative_hold_answers_the_same_units_and_is_held_longer_only_when_its_order_prepares_anew()
    {
        var state = Stocked(onHand: 5);
        state.Catalog = new SkuCatalog("s1", "Mug", "home", new Orleans.Trade.Common.Money(999, "EUR"), 350, "691200", "PT", null);
        var holdUntil = Now.AddMinutes(5);

        var first = StockRules.Reserve(state, new StockReservationRequest(ReservationIds.For("order-1", 0), 2, ["wh"], holdUntil), Now, out var changed);
        // The same order asking again (it rebuilds its lines): nothing changes.
        var retry = StockRules.Reserve(state, new StockReservationRequest(ReservationIds.For("order-1", 0), 2, ["wh"], holdUntil), Now.AddMinutes(4), out var changedAgain);

        Assert.True(changed);
        Assert.False(changedAgain);
        Assert.Equal(ReservationStatus.Reserved, retry.Status);
        Assert.Equal(first.Allocation, retry.Allocation);
        Assert.Equal(holdUntil, state.Reservations["order-1:0"].HoldUntil);
        // The order prepared anew (it had left memory; a retried checkout): held until its new time-out, never shortened.
        var anew = StockRules.Reserve(state, new StockReservationRequest(ReservationIds.For("order-1", 0), 2, ["wh"], Now.AddMinutes(9)), Now.AddMinutes(4), out var extended);
        var earlier = StockRules.Reserve(state, new StockReservationRequest(ReservationIds.For("order-1", 0), 2, ["wh"], Now.AddMinutes(6)), Now.AddMinutes(4), out var shortened);
        Assert.True(extended);
        Assert.False(shortened);
        Assert.Equal(first.Allocation, anew.Allocation);
        Assert.Equal(first.Allocation, earlier.Allocation);
        Assert.Equal(Now.AddMinutes(9), state.Reservations["order-1:0"].HoldUntil);
        Assert.Equal(2, state.Warehouses["wh"].Reserved);
        Assert.Equal("order-1", ReservationIds.OrderOf(state.Reservations.Keys.Single()));
    }

    [Fact]
    public void Pre_sale_stops_selling_once_its_promised_ship_date_has_passed()
    {
        var state = Stocked(0);
        state.Catalog = new SkuCatalog("s1", "Phone", "electronics", new Common.Money(100_00, "USD"), 200, "8517", "CN", null,
            new PreSaleTerms(10, DateOnly.FromDateTime(Now.UtcDateTime).AddDays(1)));

        var onTime = StockRules.Reserve(state, new StockReservationRequest("o1:0", 2, ["wh"]), Now, out _);
        Assert.Equal(ReservationStatus.Reserved, onTime.Status);
        Assert.Equal(DateOnly.FromDateTime(Now.UtcDateTime).AddDays(1), Assert.Single(onTime.Allocation).PromisedShipDate);
        // On the promised day itself it still sells; the day after, nothing is promised any more.
        Assert.Equal(8, StockRules.PreSaleRemaining(state, state.Catalog, Now.AddDays(1)));
        var late = StockRules.Reserve(state, new StockReservationRequest("o2:0", 1, ["wh"]), Now.AddDays(2), out var changed);
        Assert.Equal(ReservationStatus.Insufficient, late.Status);
        Assert.False(changed);
        Assert.Equal(0, late.Available);
        Assert.Equal(2, state.PreSaleReserved);
    }

    [Fact]
    public void A_new_pre_sale_campaign_counts_the_open_pre_orders_but_not_the_shipped_ones_of_the_last()
    {
        var state = Stocked(0);
        var first = new PreSaleTerms(5, DateOnly.FromDateTime(Now.UtcDateTime).AddDays(10));
        state.Catalog = new SkuCatalog("s1", "Phone", "electronics", new Common.Money(100_00, "USD"), 200, "8517", "CN", null, first);
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("o1:0", 3, ["wh"]), Now, out _).Status);
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("o2:0", 2, ["wh"]), Now, out _).Status);
        Assert.True(StockRules.Commit(state, "o1:0", Now));  // shipped: its units stay counted in this campaign
        Assert.Equal(0, StockRules.PreSaleRemaining(state, state.Catalog, Now));

        // The same campaign with a larger quota: still counting all five.
        var larger = first with { Quota = 8 };
        StockRules.ApplyPreSaleTerms(state, first, larger);
        Assert.Equal(5, state.PreSaleReserved);
        // A new campaign (another promised date): only the two still open count against its quota.
        var next = new PreSaleTerms(5, first.PromisedShipDate.AddDays(30));
        StockRules.ApplyPreSaleTerms(state, larger, next);
        Assert.Equal(2, state.PreSaleReserved);
        StockRules.CheckReservationsMatch(state);
        Assert.Equal(3, StockRules.PreSaleRemaining(state, state.Catalog with { PreSale = next }, Now));
    }

    [Fact]
    public void The_pre_sale_room_a_sku_shows_ends_with_its_promised_date_as_reservations_do()
    {
        var state = Stocked(0);
        var promised = DateOnly.FromDateTime(Now.UtcDateTime).AddDays(3);
        state.Catalog = new SkuCatalog("s1", "Phone", "electronics", new Common.Money(100_00, "USD"), 200, "8517", "CN", null, new PreSaleTerms(5, promised));
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("o1:0", 2, ["wh"]), Now, out _).Status);
        var view = new SkuView("sku-1", state.Catalog, 0, [], Now, Now, state.PreSaleReserved, state.PreSaleOpen);

        foreach (var days in new[] { 0, 3, 4, 30 })
        {
            var at = Now.AddDays(days);
            Assert.Equal(StockRules.PreSaleRemaining(state, state.Catalog, at), view.PreSaleRemainingAt(at));
        }
        Assert.Equal(3, view.PreSaleRemainingAt(Now.AddDays(3)));
        Assert.Equal(0, view.PreSaleRemainingAt(Now.AddDays(4))); // it showed 3 after the date, which no checkout could have
    }

    [Fact]
    public void Pre_sale_paused_and_put_back_with_the_same_date_goes_on_counting_what_it_sold()
    {
        var state = Stocked(0);
        var terms = new PreSaleTerms(5, DateOnly.FromDateTime(Now.UtcDateTime).AddDays(10));
        StockRules.ApplyPreSaleTerms(state, null, terms);
        state.Catalog = new SkuCatalog("s1", "Phone", "electronics", new Common.Money(100_00, "USD"), 200, "8517", "CN", null, terms);
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("o1:0", 5, ["wh"]), Now, out _).Status);
        Assert.True(StockRules.Commit(state, "o1:0", Now));

        // Paused (the SKU saved without terms), then put back unchanged: the quota is sold out, not refilled.
        StockRules.ApplyPreSaleTerms(state, terms, null);
        StockRules.ApplyPreSaleTerms(state, null, terms);
        Assert.Equal(5, state.PreSaleReserved);
        Assert.Equal(0, StockRules.PreSaleRemaining(state, state.Catalog, Now));
        // Put back with another date after a pause: a new campaign.
        var next = terms with { PromisedShipDate = terms.PromisedShipDate.AddDays(30) };
        StockRules.ApplyPreSaleTerms(state, terms, null);
        StockRules.ApplyPreSaleTerms(state, null, next);
        Assert.Equal(5, StockRules.PreSaleRemaining(state, state.Catalog with { PreSale = next }, Now));
    }

    [Fact]
    public void Stock_arriving_for_a_pre_sale_is_held_for_the_open_pre_orders_and_leaves_with_them()
    {
        var state = Stocked(0);
        state.Warehouses["wh-b"] = new WarehouseStock("wh-b", 0, 0, 1, Now);
        state.Catalog = new SkuCatalog("s1", "Phone", "electronics", new Common.Money(100_00, "USD"), 200, "8517", "CN", null,
            new PreSaleTerms(3, DateOnly.FromDateTime(Now.UtcDateTime).AddDays(10)));
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("pre-1:0", 2, ["wh"]), Now, out _).Status);
        Assert.Equal(ReservationStatus.Reserved, StockRules.Reserve(state, new StockReservationRequest("pre-2:0", 1, ["wh"]), Now, out _).Status);
        Assert.Equal(3, state.PreSaleOpen);

        // The goods arrive: 2 in "wh", 8 in "wh-b". The three pre-sold units are held first (ordinal order: "wh", then "wh-b").
        StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh", 2, 2), Now, out _);
        StockRules.ApplyAbsolute(state, new StockLevelUpdate("wh-b", 8, 2), Now, out _);
        Assert.Equal(7, StockRules.TotalAvailable(state));
        Assert.Equal(new Dictionary<string, long> { ["wh"] = 0, ["wh-b"] = 7 }, StockRules.AvailableByWarehouse(state));
        Assert.Equal(new Dictionary<string, long> { ["wh"] = 2, ["wh-b"] = 1 }, StockRules.HeldForPreOrders(state));
        var tooMany = StockRules.Reserve(state, new StockReservationRequest("o1:0", 8, ["wh"]), Now, out var changed);
        Assert.Equal(ReservationStatus.Insufficient, tooMany.Status);
        Assert.False(changed);
        Assert.Equal(7, tooMany.Available);
        var fromStock = StockRules.Reserve(state, new StockReservationRequest("o2:0", 4, ["wh"]), Now, out _);
        Assert.Equal(ReservationStatus.Reserved, fromStock.Status);
        Assert.Equal(new StockAllocationPart("wh-b", 4, null), Assert.Single(fromStock.Allocation));
        Assert.Equal(3, StockRules.TotalAvailable(state));

        // A cancelled pre-order frees its unit; a shipped one takes its units from the stock held for it.
        Assert.True(StockRules.Release(state, "pre-2:0", Now));
        Assert.Equal(4, StockRules.TotalAvailable(state));
        Assert.True(StockRules.Commit(state, "pre-1:0", Now));
        Assert.Equal(0, state.PreSaleOpen);
        Assert.Equal(2, state.PreSaleReserved); // still counted against the campaign's quota
        Assert.Equal((0L, 2L), (state.Warehouses["wh"].OnHand, state.Warehouses["wh"].Sold));
        Assert.Equal((8L, 4L, 0L), (state.Warehouses["wh-b"].OnHand, state.Warehouses["wh-b"].Reserved, state.Warehouses["wh-b"].Sold));
        Assert.Equal(4, StockRules.TotalAvailable(state));
        Assert.Empty(StockRules.HeldForPreOrders(state));
        StockRules.CheckReservationsMatch(state);
    }

    [Fact]
    public void Open_pre_orders_are_counted_again_from_the_reservations_on_load()
    {
        var state = Stocked(5);
        state.Catalog = new SkuCatalog("s1", "Phone", "electronics", new Common.Money(100_00, "USD"), 200, "8517", "CN", null,
            new PreSaleTerms(10, DateOnly.FromDateTime(Now.UtcDateTime).AddDays(10)));
        StockRules.Reserve(state, new StockReservationRequest("o1:0", 7, ["wh"]), Now, out _);
        StockRules.Reserve(state, new StockReservationRequest("o2:0", 1, ["wh"]), Now, out _);
        var loaded = new SkuState
        {
            Catalog = state.Catalog,
            Warehouses = new Dictionary<string, WarehouseStock>(state.Warehouses, StringComparer.Ordinal),
            PreSaleReserved = state.PreSaleReserved,
            Reservations = new Dictionary<string, StockReservation>(state.Reservations, StringComparer.Ordinal),
        };

        Assert.Throws<InvalidOperationException>(() => StockRules.CheckReservationsMatch(loaded));
        StockRules.CountOpenPreSale(loaded);

        Assert.Equal(3, loaded.PreSaleOpen);
        StockRules.CheckReservationsMatch(loaded);
        Assert.Equal(StockRules.TotalAvailable(state), StockRules.TotalAvailable(loaded));
    }
}
