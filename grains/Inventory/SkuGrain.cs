using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Trade.Common;

namespace Orleans.Trade.Inventory;

public sealed class SkuGrain(
    [PersistentState(stateName: "sku", storageName: StorageNames.Trade)] IPersistentState<SkuState> state,
    IStockAlertSink alertSink,
    TradeClock clock,
    ILogger<SkuGrain> logger) : Grain, ISkuGrain
{
    private static readonly TimeSpan AlertRetryPeriod = TimeSpan.FromSeconds(5);

    /// <summary>Bound on undelivered alerts kept in state while the alert table is unreachable; the oldest are dropped first.</summary>
    private const int MaxPendingAlerts = 256;
    private IGrainTimer? _alertRetryTimer;

    private string SkuId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        StockRules.CheckReservationsMatch(state.State);
        if (state.State.PendingAlerts.Count > 0)
        {
            ScheduleAlertRetry();
        }
        return Task.CompletedTask;
    }

    public Task<SkuCatalog?> GetCatalog() => Task.FromResult(state.State.Catalog);

    public Task<SkuView?> Get() => Task.FromResult(state.State.Catalog is null ? null : View());

    public async Task<CatalogWriteResult> UpsertCatalog(SkuCatalog catalog, string? actingSellerId)
    {
        var existing = state.State.Catalog;
        if (!MayAct(catalog.SellerId, actingSellerId) || (existing is not null && !MayAct(existing.SellerId, actingSellerId)))
        {
            return new CatalogWriteResult(CatalogWriteStatus.Forbidden, null);
        }
        var now = clock.GetUtcNow();
        if (existing is null)
        {
            state.State.CreatedAt = now;
        }
        state.State.Catalog = catalog;
        state.State.UpdatedAt = now;
        await WriteOrReload();
        return new CatalogWriteResult(existing is null ? CatalogWriteStatus.Created : CatalogWriteStatus.Updated, View());
    }

    public async Task<StockWriteResult> SetStock(StockLevelUpdate update, string? actingSellerId) =>
        (await SetStockBatch([update], actingSellerId))[0];

    public async Task<IReadOnlyList<StockWriteResult>> SetStockBatch(IReadOnlyList<StockLevelUpdate> updates, string? actingSellerId)
    {
        if (Refusal(actingSellerId) is { } refusal)
        {
            return updates.Select(_ => refusal).ToArray();
        }
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(state.State);
        var statuses = new (StockWriteStatus Status, string? Reason)[updates.Count];
        for (var i = 0; i < updates.Count; i++)
        {
            statuses[i] = (StockRules.ApplyAbsolute(state.State, updates[i], now, out var reason), reason);
        }
        if (statuses.Any(s => s.Status == StockWriteStatus.Applied))
        {
            await Persist(before, now);
        }
        var total = StockRules.TotalAvailable(state.State);
        return updates
            .Select((u, i) => new StockWriteResult(statuses[i].Status, state.State.Warehouses.GetValueOrDefault(u.WarehouseId), total, statuses[i].Reason))
            .ToArray();
    }

    public async Task<StockWriteResult> AdjustStock(StockAdjustment adjustment, string? actingSellerId)
    {
        if (Refusal(actingSellerId) is { } refusal)
        {
            return refusal;
        }
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(state.State);
        var status = StockRules.ApplyDelta(state.State, adjustment, now, out var reason);
        if (status == StockWriteStatus.Applied)
        {
            await Persist(before, now);
        }
        return new StockWriteResult(status, state.State.Warehouses.GetValueOrDefault(adjustment.WarehouseId), StockRules.TotalAvailable(state.State), reason);
    }

    public async Task<StockReservationResult> Reserve(StockReservationRequest request)
    {
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(state.State);
        var result = StockRules.Reserve(state.State, request, now, out var changed);
        if (changed)
        {
            await Persist(before, now);
        }
        return result;
    }

    public async Task ReleaseReservation(string reservationId)
    {
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(state.State);
        if (StockRules.Release(state.State, reservationId, now))
        {
            await Persist(before, now);
        }
    }

    public async Task CommitReservation(string reservationId)
    {
        var now = clock.GetUtcNow();
        var before = StockRules.TotalAvailable(state.State);
        if (StockRules.Commit(state.State, reservationId, now))
        {
            await Persist(before, now);
        }
    }

    private StockWriteResult? Refusal(string? actingSellerId)
    {
        if (state.State.Catalog is null)
        {
            return new StockWriteResult(StockWriteStatus.UnknownSku, null, 0, $"SKU '{SkuId}' has no catalog data; create it first.");
        }
        return MayAct(state.State.Catalog.SellerId, actingSellerId)
            ? null
            : new StockWriteResult(StockWriteStatus.Forbidden, null, 0, $"SKU '{SkuId}' belongs to another seller.");
    }

    private static bool MayAct(string ownerSellerId, string? actingSellerId) =>
        actingSellerId is null || string.Equals(ownerSellerId, actingSellerId, StringComparison.Ordinal);

    /// <summary>Persists the in-memory change together with any alerts it raised, then projects the alerts.</summary>
    private async Task Persist(long availableBefore, DateTimeOffset now)
    {
        var catalog = state.State.Catalog!;
        var after = StockRules.TotalAvailable(state.State);
        foreach (var kind in StockRules.AlertsFor(availableBefore, after, catalog.LowStockThreshold))
        {
            state.State.PendingAlerts.Add(new StockAlert(Ulid.NewUlid(now).ToString(), SkuId, catalog.SellerId, kind, after, catalog.LowStockThreshold, now));
        }
        if (state.State.PendingAlerts.Count > MaxPendingAlerts)
        {
            logger.LogError("SKU {SkuId} drops {Count} undelivered stock alerts: the alert table has been unreachable too long",
                SkuId, state.State.PendingAlerts.Count - MaxPendingAlerts);
            state.State.PendingAlerts.RemoveRange(0, state.State.PendingAlerts.Count - MaxPendingAlerts);
        }
        state.State.UpdatedAt = now;
        await WriteOrReload();
        if (state.State.PendingAlerts.Count > 0)
        {
            await PublishPendingAlerts();
        }
    }

    private async Task WriteOrReload()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // The write may or may not have landed: reload so memory never runs ahead of storage.
            await state.ReadStateAsync();
            throw;
        }
    }

    private async Task PublishPendingAlerts()
    {
        var pending = state.State.PendingAlerts.ToArray();
        try
        {
            await alertSink.RecordAsync(pending, CancellationToken.None);
            state.State.PendingAlerts.RemoveAll(a => pending.Contains(a));
            // The cleared outbox is persisted with the next write; a replay after a crash is harmless (idempotent by id).
            _alertRetryTimer?.Dispose();
            _alertRetryTimer = null;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not record {Count} stock alerts for SKU {SkuId}; will retry", pending.Length, SkuId);
            ScheduleAlertRetry();
        }
    }

    private void ScheduleAlertRetry()
    {
        _alertRetryTimer ??= this.RegisterGrainTimer(
            static (grain, _) => grain.PublishPendingAlerts(),
            this,
            new GrainTimerCreationOptions { DueTime = AlertRetryPeriod, Period = AlertRetryPeriod, Interleave = false });
    }

    private SkuView View()
    {
        var warehouses = state.State.Warehouses.Values.OrderBy(w => w.WarehouseId, StringComparer.Ordinal).ToArray();
        return new SkuView(SkuId, state.State.Catalog!, warehouses.Sum(w => w.Available), warehouses, state.State.CreatedAt, state.State.UpdatedAt,
            state.State.PreSaleReserved);
    }
}
