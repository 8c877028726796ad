using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Common;

namespace Orleans.Trade.Inventory;

/// <summary>
/// One SKU: catalog and stock per warehouse (R-INV-1..5). Requests are applied in memory one at a time, inside the grain's
/// single-threaded turn, so a stock check and its deduction can never race. The grain is reentrant only so that requests can
/// share a write: changes made while a write is in flight are gathered and written together (group commit), and every request
/// is answered only after the write holding its change has committed. If a write fails, every request waiting on it fails and
/// the activation is dropped, so the next one reloads what is durable. A checkout's reservation is tentative until its order is
/// placed: a periodic check confirms the holds of placed orders in bulk (from the order projection) and gives back the units of
/// holds that ran out for orders that were never placed, after asking each such order (which then cannot be confirmed). A hold
/// made firm stays tentative in storage (no rewrite per order); a reactivated SKU settles it again from the order projection.
/// </summary>
[Reentrant]
public sealed class SkuGrain(
    ISkuLedgerStore store,
    IStockAlertSink alertSink,
    IPlacedOrders placedOrders,
    IOptions<InventoryOptions> options,
    Orders.IFxRates fxRates,
    IOptions<Orders.OrderOptions> orderOptions,
    IOptions<Payments.PaymentOptions> paymentOptions,
    CachedWarehouses warehouses,
    Logistics.CachedShippingTemplates shippingTemplates,
    Logistics.CachedCarrierCatalog carriers,
    TradeClock clock,
    ILogger<SkuGrain> logger) : Grain, ISkuGrain, IRemindable
{
    /// <summary>Order ids per query of the order projection.</summary>
    private const int HoldCheckChunk = 2_000;
    private static readonly TimeSpan AlertRetryPeriod = TimeSpan.FromSeconds(5);
    /// <summary>Registered while the alert table refuses this SKU's alerts, so they are recorded even if the activation is gone.</summary>
    private const string AlertReminder = "stock-alerts";

    /// <summary>Bound on undelivered alerts kept in state while the alert table is unreachable; the oldest are dropped first.</summary>
    private const int MaxPendingAlerts = 256;

    private SkuState _state = new();
    /// <summary>A copy of the state as last loaded or written (what <see cref="Get"/> shows).</summary>
    private SkuState _durable = new();
    private long _version;
    private readonly Dictionary<string, StockReservation?> _reservationChanges = new(StringComparer.Ordinal);
    private GroupCommit? _commit;
    private IGrainTimer? _alertTimer;
    /// <summary>This activation registered the alert reminder, or was woken by it.</summary>
    private bool _alertReminderSet;
    private IGrainTimer? _holdTimer;
    private bool _checkingHolds;
    /// <summary>Orders placed here whose rows go with the next write.</summary>
    private readonly List<(PlacedCheckout Checkout, PlacedOrderWrite Rows)> _placing = [];
    /// <summary>
    /// Checkouts placed here whose write is not yet durable, by checkout key: a copy sent meanwhile waits for the same write and
    /// gets the same answer. A later copy goes the way of any retry (its key is found stored, and the saga answers), so nothing is
    /// kept in memory once a checkout has answered.
    /// </summary>
    private readonly Dictionary<string, PlacedCheckout> _checkoutsInFlight = new(StringComparer.Ordinal);
    /// <summary>Checkouts whose coupon is being redeemed here, by checkout key: a copy sent meanwhile waits for the redemption.</summary>
    private readonly Dictionary<string, Task<Orders.OrderCoupon?>> _redeeming = new(StringComparer.Ordinal);
    /// <summary>
    /// Checkout keys this activation knows are stored: placed and answered here, or refused by the store as placed before. A
    /// client's retry of one goes to the saga at once (which answers from what is stored) instead of being placed again, which
    /// would make the store refuse the whole batch it joined and the SKU write that batch again; a storm of retries of one key
    /// would cost a refused batch each. Keys older than the window or beyond the count are forgotten (then the store's check
    /// still catches a retry, at that cost). Kept as hashes: a new key mistaken for a stored one only goes to the saga.
    /// </summary>
    private readonly RecentKeys _storedKeys = new(TimeSpan.FromMinutes(2), 16_384);

    /// <summary>A checkout placed by this activation: its answer, unless its key turned out to be stored before.</summary>
    private sealed class PlacedCheckout(string key, string requestHash, string reservationId, Orders.CheckoutResult answer)
    {
        public string Key { get; } = key;
        public string RequestHash { get; } = requestHash;
        public string ReservationId { get; } = reservationId;
        public Orders.CheckoutResult Answer { get; } = answer;
        public bool KeyTaken { get; set; }
    }

    private string SkuId => this.GetPrimaryKeyString();

    private GroupCommit Commit => _commit ??= new GroupCommit(WritePending, ex =>
    {
        logger.LogError(ex, "Writing SKU {SkuId} failed; the activation reloads", SkuId);
        DeactivateOnIdle();
        return new TransientStorageException($"SKU '{SkuId}' could not store a change ({ex.GetType().Name}); nothing was acknowledged, retry.");
    });

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await store.LoadAsync(SkuId, cancellationToken) is { } ledger)
        {
            _state = ledger.State;
            _version = ledger.Version;
            _state.Reservations = ledger.Reservations.ToDictionary(r => r.ReservationId, StringComparer.Ordinal);
        }
        StockRules.CountOpenPreSale(_state);
        StockRules.CheckReservationsMatch(_state);
        _durable = Snapshot();
        if (_state.PendingAlerts.Count > 0)
        {
            ScheduleAlertPublish(TimeSpan.Zero);
        }
        if (_state.Reservations.Values.Any(r => r.HoldUntil is not null))
        {
            ScheduleHoldCheck();
        }
    }

    public Task<SkuCatalog?> GetCatalog() => Task.FromResult(_state.Catalog);

    public Task<SkuAvailability?> GetAvailability() => Task.FromResult(_state.Catalog is { } catalog
        ? new SkuAvailability(catalog, AvailableNow(catalog, clock.GetUtcNow()))
        : null);

    /// <summary>Units that could be had now: warehouse stock plus pre-sale room.</summary>
    private long AvailableNow(SkuCatalog catalog, DateTimeOffset now) =>
        StockRules.TotalAvailable(_state) + StockRules.PreSaleRemaining(_state, catalog, now);

    /// <summary>
    /// The SKU as of its last durable write: never a change that might still be lost, and without waiting behind the writes of
    /// a busy SKU (a read that waited for the pending write took up to two of its round trips). Every acknowledged change is
    /// in it, since a change is acknowledged only after the write that made it durable.
    /// </summary>
    public Task<SkuView?> Get() => Task.FromResult(_durable.Catalog is null ? null : View(_durable));

    public async Task<CatalogWriteResult> UpsertCatalog(SkuCatalog catalog, string? actingSellerId)
    {
        Commit.ThrowIfFailed();
        var existing = _state.Catalog;
        if (!MayAct(catalog.SellerId, actingSellerId) || (existing is not null && !MayAct(existing.SellerId, actingSellerId)))
        {
            return new CatalogWriteResult(CatalogWriteStatus.Forbidden, null);
        }
        var now = clock.GetUtcNow();
        if (existing is null)
        {
            _state.CreatedAt = now;
        }
        StockRules.ApplyPreSaleTerms(_state, existing?.PreSale, catalog.PreSale);
        _state.Catalog = catalog;
        _state.UpdatedAt = now;
        var available = StockRules.TotalAvailable(_state);
        if (StockRules.ThresholdReachesLowStock(available, existing?.LowStockThreshold, catalog.LowStockThreshold))
        {
            Raise([StockAlertKind.LowStock], available, now);
        }
        var result = new CatalogWriteResult(existing is null ? CatalogWriteStatus.Created : CatalogWriteStatus.Updated, View(_state));
        await Commit.CommitAsync(changed: true);
        return result;
    }

    public async Task<StockWriteResult> SetStock(StockLevelUpdate update, string? actingSellerId) =>
        (await SetStockBatch([update], actingSellerId))[0];

    public async Task<IReadOnlyList<StockWriteResult>> SetStockBatch(IReadOnlyList<StockLevelUpdate> updates, string? actingSellerId)
    {
        Commit.ThrowIfFailed();
        if (Refusal(actingSellerId) is { } refusal)
        {
            return updates.Select(_ => refusal).ToArray();
        }
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(_state);
        var statuses = new (StockWriteStatus Status, string? Reason)[updates.Count];
        for (var i = 0; i < updates.Count; i++)
        {
            statuses[i] = (StockRules.ApplyAbsolute(_state, updates[i], now, out var reason), reason);
        }
        var changed = statuses.Any(s => s.Status == StockWriteStatus.Applied);
        if (changed)
        {
            Changed(before, now);
        }
        var total = StockRules.TotalAvailable(_state);
        var held = StockRules.HeldForPreOrders(_state);
        var results = updates
            .Select((u, i) => new StockWriteResult(statuses[i].Status, _state.Warehouses.GetValueOrDefault(u.WarehouseId), total, statuses[i].Reason,
                held.GetValueOrDefault(u.WarehouseId)))
            .ToArray();
        await Commit.CommitAsync(changed);
        return results;
    }

    public async Task<StockWriteResult> AdjustStock(StockAdjustment adjustment, string? actingSellerId)
    {
        Commit.ThrowIfFailed();
        if (Refusal(actingSellerId) is { } refusal)
        {
            return refusal;
        }
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(_state);
        var status = StockRules.ApplyDelta(_state, adjustment, now, out var reason);
        if (status == StockWriteStatus.Applied)
        {
            Changed(before, now);
        }
        var result = new StockWriteResult(status, _state.Warehouses.GetValueOrDefault(adjustment.WarehouseId), StockRules.TotalAvailable(_state), reason,
            StockRules.HeldForPreOrders(_state).GetValueOrDefault(adjustment.WarehouseId));
        // A duplicate is answered once the original is durable too.
        await Commit.CommitAsync(status == StockWriteStatus.Applied);
        return result;
    }

    public async Task<StockReservationResult> Reserve(StockReservationRequest request)
    {
        Commit.ThrowIfFailed();
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(_state);
        var result = StockRules.Reserve(_state, request, now, out var changed);
        if (changed)
        {
            _reservationChanges[request.ReservationId] = _state.Reservations[request.ReservationId];
            var raised = Changed(before, now);
            if (request.HoldUntil is not null)
            {
                // Its alerts wait for the hold to stand: its units may yet go back (see SkuState.TentativeAlerts).
                for (var i = Math.Max(0, _state.PendingAlerts.Count - raised); i < _state.PendingAlerts.Count; i++)
                {
                    _state.TentativeAlerts[_state.PendingAlerts[i].AlertId] = request.ReservationId;
                }
                ScheduleHoldCheck();
            }
        }
        await Commit.CommitAsync(changed);
        return result;
    }

    public async Task<Orders.CheckoutResult?> PlaceOrder(Orders.SkuCheckout checkout)
    {
        Commit.ThrowIfFailed();
        var command = checkout.Command;
        if (command.Items is not [{ } line] || line.SkuId != SkuId)
        {
            return null;
        }
        var ranked = await warehouses.RankedForAsync(command.ShipTo.Country, GrainFactory.GetGrain<IWarehouseRegistryGrain>(WarehouseRegistry.Key).List);
        // R-LOG-1: the shipping template that prices this SKU's shipping, read before the reservation as the warehouses are.
        IReadOnlyDictionary<string, Logistics.ShippingTemplate>? templates = null;
        if (_state.Catalog is { ShippingTemplateId: { } templateId } named
            && await shippingTemplates.GetAsync(named.SellerId, templateId, GrainFactory) is { } template)
        {
            templates = new Dictionary<string, Logistics.ShippingTemplate>(StringComparer.Ordinal) { [templateId] = template };
        }
        // R-LOG-2: goods the destination prohibits are the saga's to refuse, with its answer.
        if (_state.Catalog is { RestrictedGoods: { Count: > 0 } goods }
            && Logistics.CarrierRules.Prohibited(await carriers.GetAsync(GrainFactory), command.ShipTo.Country, goods).Count > 0)
        {
            return null;
        }
        while (_redeeming.TryGetValue(checkout.CheckoutKey, out var redeeming))
        {
            // A copy of a checkout whose coupon is being redeemed here: it follows that checkout, as a copy of one being written does.
            await redeeming.ContinueWith(static _ => { }, TaskScheduler.Current);
        }
        Commit.ThrowIfFailed();
        if (_checkoutsInFlight.TryGetValue(checkout.CheckoutKey, out var seen))
        {
            // A copy of a checkout being placed here (a double click, a client retry): the same answer once it is durable. Another
            // body, or a key found stored before, is the saga's to answer from what is stored.
            if (seen.RequestHash != command.RequestHash)
            {
                return null;
            }
            await Commit.CommitAsync(changed: false);
            return seen.KeyTaken ? null : seen.Answer;
        }
        var now = clock.GetUtcNow();
        if (_state.Catalog is null || _storedKeys.Contains(checkout.CheckoutKey, now))
        {
            return null;
        }

        var orderId = Ulid.NewUlid(now).ToString();
        Orders.OrderCoupon? coupon = null;
        var catalog = _state.Catalog;
        if (command.CouponCode is { } code)
        {
            // Redeemed before the units are reserved: a reservation must not reach a write (another checkout's) without its order.
            if (AvailableNow(catalog, now) < line.Quantity)
            {
                return null; // short already: the saga answers with the units left, and no redemption is taken for it
            }
            var redeeming = RedeemCoupon(catalog, code, command.BuyerId, line.Quantity, orderId, checkout.CheckoutKey, now);
            _redeeming[checkout.CheckoutKey] = redeeming;
            try
            {
                coupon = await redeeming;
            }
            finally
            {
                _redeeming.Remove(checkout.CheckoutKey);
            }
            if (coupon is null)
            {
                return null; // refused: the saga refuses it again with its own answer, which it stores
            }
            if (Commit.IsFailed || !ReferenceEquals(_state.Catalog, catalog))
            {
                // The SKU failed a write or changed its catalog (price, seller) while the coupon answered: the saga places it afresh.
                await GiveBackCoupon(catalog.SellerId, orderId);
                Commit.ThrowIfFailed();
                return null;
            }
        }
        var reservationId = ReservationIds.For(orderId, 0);
        var before = StockRules.TotalAvailable(_state);
        // Firm at once (no hold time): the order's rows commit in the same transaction as the reservation.
        var reserved = StockRules.Reserve(_state, new StockReservationRequest(reservationId, line.Quantity, ranked), now, out var changed);
        if (!changed)
        {
            if (coupon is not null)
            {
                await GiveBackCoupon(catalog.SellerId, orderId);
            }
            return null; // short: the saga answers with the units left and substitutes, and stores that answer
        }
        var checkoutId = Ulid.NewUlid(now).ToString();
        var built = Orders.SkuPlacedOrders.Build(checkout, reserved, orderId, checkoutId,
            GrainFactory.GetGrain<Orders.IOrderGrain>(orderId).GetGrainId().ToString(),
            GrainFactory.GetGrain<Orders.ICheckoutGrain>(checkout.CheckoutKey).GetGrainId().ToString(),
            now, fxRates, orderOptions.Value, paymentOptions.Value, templates, coupon);
        if (built is not { } placed)
        {
            StockRules.Release(_state, reservationId, now);
            if (coupon is not null)
            {
                await GiveBackCoupon(catalog.SellerId, orderId);
            }
            return null;
        }
        var entry = new PlacedCheckout(checkout.CheckoutKey, command.RequestHash, reservationId,
            new Orders.CheckoutResult(Orders.CheckoutStatus.Created, checkoutId, [placed.View], [], null, placed.Payment));
        _checkoutsInFlight[checkout.CheckoutKey] = entry;
        _reservationChanges[reservationId] = _state.Reservations[reservationId];
        // Encoded now, while the write before is in flight, not by the write that carries it (a hot SKU has one write in flight).
        _placing.Add((entry, store.Encode(placed.Rows)));
        Changed(before, now);
        try
        {
            await Commit.CommitAsync(changed: true);
        }
        finally
        {
            _checkoutsInFlight.Remove(checkout.CheckoutKey);
        }
        // Stored now, by this write or (refused as taken) by an earlier one.
        _storedKeys.Add(checkout.CheckoutKey, clock.GetUtcNow());
        if (entry.KeyTaken && coupon is not null)
        {
            await GiveBackCoupon(catalog.SellerId, orderId); // this order was never placed: the saga answers the stored one
        }
        return entry.KeyTaken ? null : entry.Answer;
    }

    /// <summary>
    /// Takes the redemption of the seller's coupon for the order this SKU is about to place (tentative until the order's placement
    /// time-out, when the coupon asks the order whether it was placed, as in the saga); null when the coupon does not apply.
    /// </summary>
    private async Task<Orders.OrderCoupon?> RedeemCoupon(SkuCatalog catalog, string code, string buyerId, long quantity, string orderId,
        string checkoutKey, DateTimeOffset now)
    {
        long goods;
        try
        {
            goods = checked(catalog.Price.AmountMinor * quantity);
        }
        catch (OverflowException)
        {
            return null; // the saga refuses it, saying why
        }
        var redemption = await GrainFactory.GetGrain<Orders.ISellerCouponsGrain>(catalog.SellerId).Redeem(new Orders.CouponRedemptionRequest(
            code, orderId, buyerId, new Money(goods, catalog.Price.Currency), now, now + orderOptions.Value.PlacementTimeout,
            [new Orders.CouponLine(SkuId, catalog.Category, goods)], checkoutKey));
        return redemption.Redeemed ? new Orders.OrderCoupon(code, redemption.Discount!, [], EligibleLines: redemption.EligibleLines,
            FreeShipping: redemption.FreeShipping) : null;
    }

    /// <summary>Gives back a redemption taken for an order this SKU did not place; one that cannot be given back now runs out.</summary>
    private async Task GiveBackCoupon(string sellerId, string orderId)
    {
        try
        {
            await GrainFactory.GetGrain<Orders.ISellerCouponsGrain>(sellerId).GiveBack(orderId);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "SKU {SkuId} could not give back the coupon redemption of order {OrderId}, which it did not place; its hold runs out",
                SkuId, orderId);
        }
    }

    public async Task ReleaseReservation(string reservationId)
    {
        Commit.ThrowIfFailed();
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(_state);
        var changed = Release(reservationId, now);
        if (changed)
        {
            Changed(before, now);
        }
        await Commit.CommitAsync(changed);
    }

    /// <summary>Gives a reservation's units back in memory and marks its row for deletion; false when it is not held.</summary>
    private bool Release(string reservationId, DateTimeOffset now)
    {
        var tentative = _state.Reservations.TryGetValue(reservationId, out var held) && held.HoldUntil is not null;
        if (!StockRules.Release(_state, reservationId, now))
        {
            return false;
        }
        _reservationChanges[reservationId] = null;
        if (tentative && _state.TentativeAlerts.Count > 0)
        {
            WithdrawAlertsOf(reservationId);
        }
        return true;
    }

    /// <summary>
    /// A tentative hold given back: the alerts it raised (never published) go, unless the stock stands at their level anyway;
    /// those left no longer wait for it.
    /// </summary>
    private void WithdrawAlertsOf(string reservationId)
    {
        var available = StockRules.TotalAvailable(_state);
        var threshold = _state.Catalog?.LowStockThreshold;
        _state.PendingAlerts.RemoveAll(alert => _state.TentativeAlerts.TryGetValue(alert.AlertId, out var by) && by == reservationId
            && Contradicted(alert, available, threshold));
        foreach (var (alertId, _) in _state.TentativeAlerts.Where(t => t.Value == reservationId).ToArray())
        {
            _state.TentativeAlerts.Remove(alertId);
        }
    }

    /// <summary>An alert the stock now available says is not so.</summary>
    private static bool Contradicted(StockAlert alert, long available, int? threshold) => alert.Kind switch
    {
        StockAlertKind.OutOfStock => available > 0,
        StockAlertKind.LowStock => threshold is not { } low || available > low,
        _ => false,
    };

    /// <summary>An alert raised by a hold that is still tentative: not published yet.</summary>
    private bool IsHeld(StockAlert alert) => _state.TentativeAlerts.Count > 0
        && _state.TentativeAlerts.TryGetValue(alert.AlertId, out var by)
        && _state.Reservations.TryGetValue(by, out var hold) && hold.HoldUntil is not null;

    public async Task CommitReservation(string reservationId)
    {
        Commit.ThrowIfFailed();
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(_state);
        var changed = StockRules.Commit(_state, reservationId, now);
        if (changed)
        {
            _reservationChanges[reservationId] = null;
            Changed(before, now);
        }
        await Commit.CommitAsync(changed);
    }

    /// <summary>
    /// Settles tentative holds: those whose order is placed become firm (in memory; see the class remarks); an expired hold whose
    /// order is not placed is put to the order, which keeps it only if it is placed by now, and is otherwise released.
    /// </summary>
    private async Task CheckHolds()
    {
        if (_checkingHolds || Commit.IsFailed)
        {
            return;
        }
        _checkingHolds = true;
        try
        {
            var tentative = _state.Reservations.Values.Where(r => r.HoldUntil is not null).ToArray();
            if (tentative.Length == 0)
            {
                _holdTimer?.Dispose();
                _holdTimer = null;
                return;
            }
            var placed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in tentative.Select(r => ReservationIds.OrderOf(r.ReservationId)).Distinct(StringComparer.Ordinal).Chunk(HoldCheckChunk))
            {
                placed.UnionWith(await placedOrders.WhichArePlacedAsync(chunk, CancellationToken.None));
            }
            var now = clock.GetUtcNow();
            var expired = tentative.Where(r => !placed.Contains(ReservationIds.OrderOf(r.ReservationId)) && r.HoldUntil <= now).ToArray();
            var answers = await Task.WhenAll(expired.Select(async r =>
            {
                try
                {
                    return (bool?)await GrainFactory.GetGrain<Orders.IOrderGrain>(ReservationIds.OrderOf(r.ReservationId)).KeepsReservation(r.ReservationId);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "SKU {SkuId} could not settle the hold {ReservationId}; will ask again", SkuId, r.ReservationId);
                    return null;
                }
            }));
            Commit.ThrowIfFailed();
            var firm = tentative.Where(r => placed.Contains(ReservationIds.OrderOf(r.ReservationId)))
                .Concat(expired.Where((_, i) => answers[i] is true)).Select(r => r.ReservationId).ToArray();
            // Only holds still expired: one asked for again while the orders answered (an order that had left memory answers
            // false at once, and its retried checkout may prepare it anew before the slowest answer) belongs to a live order.
            var released = expired.Where((_, i) => answers[i] is false).Select(r => r.ReservationId)
                .Where(id => _state.Reservations.TryGetValue(id, out var current) && current.HoldUntil <= now).ToArray();
            var firmedWithAlerts = false;
            foreach (var id in firm)
            {
                // Still held and still tentative: the order may have released it meanwhile. Firm in memory only: the stored row
                // keeps its hold time, and the order projection (whose row commits with the order's placement) settles it again
                // after a reactivation. One row rewrite less per checkout.
                if (_state.Reservations.TryGetValue(id, out var current) && current.HoldUntil is not null)
                {
                    _state.Reservations[id] = current with { HoldUntil = null };
                    firmedWithAlerts |= _state.TentativeAlerts.ContainsValue(id);
                }
            }
            if (firmedWithAlerts)
            {
                ScheduleAlertPublish(TimeSpan.Zero); // the alerts of holds that now stand
            }
            var before = StockRules.TotalAvailable(_state);
            var anyReleased = false;
            foreach (var id in released)
            {
                anyReleased |= Release(id, now);
            }
            if (anyReleased)
            {
                logger.LogInformation("SKU {SkuId} gave back {Count} holds of checkouts that were never placed", SkuId, released.Length);
                Changed(before, now);
            }
            if (anyReleased)
            {
                await Commit.CommitAsync(changed: true);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "SKU {SkuId} could not settle its tentative holds; will retry", SkuId);
        }
        finally
        {
            _checkingHolds = false;
        }
    }

    private void ScheduleHoldCheck()
    {
        var period = options.Value.HoldCheckPeriod;
        _holdTimer ??= this.RegisterGrainTimer(static (grain, _) => grain.CheckHolds(), this,
            new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = true, KeepAlive = true });
    }

    private StockWriteResult? Refusal(string? actingSellerId)
    {
        if (_state.Catalog is null)
        {
            return new StockWriteResult(StockWriteStatus.UnknownSku, null, 0, $"SKU '{SkuId}' has no catalog data; create it first.");
        }
        return MayAct(_state.Catalog.SellerId, actingSellerId)
            ? null
            : new StockWriteResult(StockWriteStatus.Forbidden, null, 0, $"SKU '{SkuId}' belongs to another seller.");
    }

    private static bool MayAct(string ownerSellerId, string? actingSellerId) =>
        actingSellerId is null || string.Equals(ownerSellerId, actingSellerId, StringComparison.Ordinal);

    /// <summary>Records the alerts a change raised; the change itself is already applied in memory.</summary>
    /// <returns>How many alerts it raised (the last ones of <see cref="SkuState.PendingAlerts"/>).</returns>
    private int Changed(long availableBefore, DateTimeOffset now)
    {
        var after = StockRules.TotalAvailable(_state);
        var raised = Raise(StockRules.AlertsFor(availableBefore, after, _state.Catalog!.LowStockThreshold), after, now);
        _state.UpdatedAt = now;
        return raised;
    }

    /// <summary>Adds alerts of <paramref name="kinds"/> at <paramref name="available"/> units to the outbox, within its bound.</summary>
    private int Raise(IReadOnlyList<StockAlertKind> kinds, long available, DateTimeOffset now)
    {
        var catalog = _state.Catalog!;
        foreach (var kind in kinds)
        {
            _state.PendingAlerts.Add(new StockAlert(Ulid.NewUlid(now).ToString(), SkuId, catalog.SellerId, kind, available, catalog.LowStockThreshold, now));
        }
        if (_state.PendingAlerts.Count > MaxPendingAlerts)
        {
            logger.LogError("SKU {SkuId} drops {Count} undelivered stock alerts: the alert table has been unreachable too long",
                SkuId, _state.PendingAlerts.Count - MaxPendingAlerts);
            _state.PendingAlerts.RemoveRange(0, _state.PendingAlerts.Count - MaxPendingAlerts);
        }
        return kinds.Count;
    }

    /// <summary>
    /// Writes every change made so far in one transaction, then projects the alerts they raised. If orders placed here carry
    /// checkout keys stored before, nothing was written: their reservations are given back, their callers go to the saga, and
    /// everything else is written again.
    /// </summary>
    private async Task WritePending()
    {
        while (true)
        {
            var changes = _reservationChanges.ToArray();
            var placing = _placing.ToArray();
            var write = new SkuLedgerWrite(SkuId, _version, Snapshot(),
                changes.Where(c => c.Value is not null).Select(c => c.Value!).ToArray(),
                changes.Where(c => c.Value is null).Select(c => c.Key).ToArray(),
                placing.Select(p => p.Rows).ToArray());
            _reservationChanges.Clear();
            _placing.Clear();
            try
            {
                _version = await store.WriteAsync(write, CancellationToken.None);
                _durable = write.State;
                break;
            }
            catch (CheckoutKeysTakenException taken)
            {
                PutBack(changes, placing, taken.CheckoutGrainIds);
            }
        }
        if (_durable.PendingAlerts.Count > 0 && _durable.PendingAlerts.Exists(a => !IsHeld(a)))
        {
            // In a turn of its own, after this write's callers are answered: a slow or unreachable alert table must not hold
            // the SKU's checkouts (the alerts are in the durable outbox; the timer retries until they are recorded).
            ScheduleAlertPublish(TimeSpan.Zero);
        }
    }

    /// <summary>
    /// A write that stored nothing goes again with what came since: its reservation changes (unless a later one replaced them)
    /// and its placed orders, but not those whose checkout key was stored before, whose units go back.
    /// </summary>
    private void PutBack(KeyValuePair<string, StockReservation?>[] changes, (PlacedCheckout Checkout, PlacedOrderWrite Rows)[] placing,
        IReadOnlyList<string> takenCheckoutGrainIds)
    {
        var taken = takenCheckoutGrainIds.ToHashSet(StringComparer.Ordinal);
        var lost = placing.Where(p => taken.Contains(p.Rows.CheckoutGrainId)).ToArray();
        if (lost.Length == 0)
        {
            throw new InvalidOperationException($"SKU '{SkuId}': the store reported checkout keys taken that this write did not carry.");
        }
        foreach (var (id, change) in changes)
        {
            _reservationChanges.TryAdd(id, change);
        }
        _placing.InsertRange(0, placing.Where(p => !taken.Contains(p.Rows.CheckoutGrainId)));
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(_state);
        foreach (var (checkout, _) in lost)
        {
            checkout.KeyTaken = true;
            StockRules.Release(_state, checkout.ReservationId, now);
            _reservationChanges.Remove(checkout.ReservationId); // never stored
        }
        Changed(before, now);
        // An alert raised since the last write that stored anything and contradicted by the units given back describes stock no
        // write will hold (the out-of-stock of a checkout that never took its units): it goes with them.
        var available = StockRules.TotalAvailable(_state);
        var threshold = _state.Catalog?.LowStockThreshold;
        _state.PendingAlerts.RemoveAll(alert => !_durable.PendingAlerts.Exists(stored => stored.AlertId == alert.AlertId)
            && Contradicted(alert, available, threshold));
    }

    /// <summary>The aggregate as of now; the write must not see later changes, so it gets a copy.</summary>
    private SkuState Snapshot() => new()
    {
        Catalog = _state.Catalog,
        Warehouses = new Dictionary<string, WarehouseStock>(_state.Warehouses, StringComparer.Ordinal),
        RecentAdjustmentIds = [.. _state.RecentAdjustmentIds],
        PendingAlerts = [.. _state.PendingAlerts],
        CreatedAt = _state.CreatedAt,
        UpdatedAt = _state.UpdatedAt,
        PreSaleReserved = _state.PreSaleReserved,
        PreSaleOpen = _state.PreSaleOpen,
        PreSaleCampaignDate = _state.PreSaleCampaignDate,
        TentativeAlerts = _state.TentativeAlerts.Count == 0
            ? new(StringComparer.Ordinal)
            : new Dictionary<string, string>(_state.TentativeAlerts, StringComparer.Ordinal),
    };

    /// <summary>
    /// Records the alerts of durable changes (a change still being written, or lost with its write, has raised nothing yet);
    /// stops its timer once none is left, and otherwise lets it try again.
    /// </summary>
    private async Task PublishPendingAlerts()
    {
        // Until none is left: a write that committed while the sink was being called raised alerts of its own, and found this
        // timer still there, so it did not start another.
        // An alert of a hold still tentative waits for it (see SkuState.TentativeAlerts).
        while (_durable.PendingAlerts.Where(a => _state.PendingAlerts.Contains(a) && !IsHeld(a)).ToArray() is { Length: > 0 } pending)
        {
            try
            {
                await alertSink.RecordAsync(pending, CancellationToken.None);
                _state.PendingAlerts.RemoveAll(a => pending.Contains(a));
                foreach (var alert in pending)
                {
                    _state.TentativeAlerts.Remove(alert.AlertId);
                }
                // The cleared outbox is persisted with the next write; a replay after a crash is harmless (idempotent by id).
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not record {Count} stock alerts for SKU {SkuId}; will retry", pending.Length, SkuId);
                if (!_alertReminderSet)
                {
                    // The timer retries while this activation lives; the reminder wakes the SKU if it goes first.
                    try
                    {
                        var period = options.Value.AlertReminderPeriod;
                        await this.RegisterOrUpdateReminder(AlertReminder, period, period);
                        _alertReminderSet = true;
                    }
                    catch (Exception reminderFailed)
                    {
                        logger.LogWarning(reminderFailed, "SKU {SkuId} could not register its alert reminder", SkuId);
                    }
                }
                return;
            }
        }
        if (_state.TentativeAlerts.Count > 0)
        {
            // Alerts dropped from the outbox otherwise (given back with a refused write, or beyond its bound).
            foreach (var (alertId, _) in _state.TentativeAlerts.Where(t => !_state.PendingAlerts.Exists(a => a.AlertId == t.Key)).ToArray())
            {
                _state.TentativeAlerts.Remove(alertId);
            }
        }
        _alertTimer?.Dispose();
        _alertTimer = null;
        if (_alertReminderSet && _state.PendingAlerts.Count == 0)
        {
            await UnregisterAlertReminder();
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != AlertReminder)
        {
            return;
        }
        _alertReminderSet = true;
        if (_state.PendingAlerts.Count > 0)
        {
            ScheduleAlertPublish(TimeSpan.Zero); // lets the reminder go once every alert is recorded
            return;
        }
        await UnregisterAlertReminder();
    }

    private async Task UnregisterAlertReminder()
    {
        try
        {
            if (await this.GetReminder(AlertReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            _alertReminderSet = false;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "SKU {SkuId} could not unregister its alert reminder; its next tick tries again", SkuId);
        }
    }

    private void ScheduleAlertPublish(TimeSpan dueTime)
    {
        _alertTimer ??= this.RegisterGrainTimer(
            static (grain, _) => grain.PublishPendingAlerts(),
            this,
            // Kept alive while it retries: a sold-out SKU goes idle, and its alerts would wait for its next activation.
            new GrainTimerCreationOptions { DueTime = dueTime, Period = AlertRetryPeriod, Interleave = false, KeepAlive = true });
    }

    private SkuView View(SkuState state)
    {
        var warehouses = state.Warehouses.Values.OrderBy(w => w.WarehouseId, StringComparer.Ordinal).ToArray();
        return new SkuView(SkuId, state.Catalog!, StockRules.TotalAvailable(state), warehouses, state.CreatedAt, state.UpdatedAt,
            state.PreSaleReserved, state.PreSaleOpen, StockRules.HeldForPreOrders(state));
    }
}
