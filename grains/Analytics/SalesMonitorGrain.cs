using Microsoft.Extensions.Options;
using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Analytics;

[GenerateSerializer]
public sealed class SalesMonitorState
{
    /// <summary>The cluster's minutes with orders, kept for <see cref="SalesMonitor.RetentionHours"/> hours (the baseline).</summary>
    [Id(0)] public Dictionary<long, SalesTotals> Minutes { get; set; } = [];

    /// <summary>The last flush applied per source, and the minute it came (sources silent for the retention are forgotten).</summary>
    [Id(1)] public Dictionary<string, SalesSourceMark> Sources { get; set; } = [];

    [Id(2)] public List<SalesAlert> Alerts { get; set; } = [];
}

[GenerateSerializer, Immutable]
public sealed record SalesSourceMark([property: Id(0)] long Sequence, [property: Id(1)] long Minute);

/// <summary>
/// The cluster's sales monitor (R-DAT-1): sums the silos' minute buckets, judges the last window against its baseline on each
/// flush, and keeps the alerts. Minutes are written at most every <c>Analytics:PersistSeconds</c> (a restart loses at most
/// that much of the baseline); an alert opening or ending is written before the flush is answered.
/// </summary>
public sealed class SalesMonitorGrain(
    [PersistentState(stateName: "sales-monitor", storageName: StorageNames.Trade)] IPersistentState<SalesMonitorState> state,
    TradeClock clock,
    IFxRates rates,
    IOptions<SalesAnomalyOptions> options) : Grain, ISalesMonitorGrain
{
    private SalesMonitorState S => state.State;
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;
    private bool _dirty;

    public async Task<IReadOnlyList<SalesAlert>> Record(SalesFlush flush)
    {
        var now = clock.GetUtcNow();
        var nowMinute = SalesMonitor.MinuteOf(now);
        var oldest = nowMinute - SalesMonitor.RetentionHours * 60;
        if (!S.Sources.TryGetValue(flush.SourceId, out var last) || flush.Sequence > last.Sequence)
        {
            foreach (var minute in flush.Minutes.Where(m => m.Minute >= oldest))
            {
                S.Minutes[minute.Minute] = Add(S.Minutes.GetValueOrDefault(minute.Minute), minute);
            }
            S.Sources[flush.SourceId] = new SalesSourceMark(flush.Sequence, nowMinute);
            _dirty |= flush.Minutes.Count > 0;
        }
        foreach (var stale in S.Minutes.Keys.Where(m => m < oldest).ToList())
        {
            S.Minutes.Remove(stale);
        }
        foreach (var gone in S.Sources.Where(s => s.Value.Minute < oldest).Select(s => s.Key).ToList())
        {
            S.Sources.Remove(gone);
        }

        var o = options.Value;
        // The minute just closed is left out: other silos may not have flushed it yet.
        var end = nowMinute - 1;
        var alertsChanged = false;
        foreach (var metric in new[] { SalesMetric.Orders, SalesMetric.GmvUsd })
        {
            var (observed, expected) = SalesAnomalies.Window(
                m => S.Minutes.TryGetValue(m, out var t) ? (metric == SalesMetric.Orders ? t.Orders : t.GmvUsdMinor) : 0,
                end, o.WindowMinutes, o.BaselineWindows);
            var verdict = SalesAnomalies.Judge(observed, expected, metric == SalesMetric.Orders ? o.MinOrders : o.MinGmvUsdMinor,
                o.DropBelow, o.SpikeAbove);
            if (SalesAnomalies.Follow(S.Alerts, metric, verdict, observed, expected, now, () => Ulid.NewUlid(now).ToString()) is { } next)
            {
                S.Alerts = [.. next];
                alertsChanged = true;
            }
        }
        if (alertsChanged || (_dirty && now - _lastWrite >= TimeSpan.FromSeconds(o.PersistSeconds)))
        {
            await state.WriteOrReloadAsync(this);
            _lastWrite = now;
            _dirty = false;
        }
        return S.Alerts.Where(a => a.IsOpen).ToList();
    }

    public Task<IReadOnlyList<SalesTotals>> Minutes(long fromMinute, long toMinute) =>
        Task.FromResult<IReadOnlyList<SalesTotals>>(S.Minutes.Values.Where(m => m.Minute >= fromMinute && m.Minute < toMinute)
            .OrderBy(m => m.Minute).ToList());

    public Task<IReadOnlyList<SalesAlert>> Alerts() => Task.FromResult<IReadOnlyList<SalesAlert>>(S.Alerts.ToList());

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    /// <summary>A minute's totals plus a silo's share; GMV in US cents at the rates of now (a currency without a rate counts 0).</summary>
    private SalesTotals Add(SalesTotals? totals, SalesMinute share)
    {
        var orders = new Dictionary<string, long>(totals?.OrdersByCurrency ?? new Dictionary<string, long>(), StringComparer.Ordinal);
        var gmv = new Dictionary<string, long>(totals?.GmvMinorByCurrency ?? new Dictionary<string, long>(), StringComparer.Ordinal);
        long usd = totals?.GmvUsdMinor ?? 0;
        foreach (var (currency, count) in share.OrdersByCurrency)
        {
            orders[currency] = orders.GetValueOrDefault(currency) + count;
        }
        foreach (var (currency, amount) in share.GmvMinorByCurrency)
        {
            gmv[currency] = gmv.GetValueOrDefault(currency) + amount;
            if (rates.TryGetRate(currency, "USD", out var rate, out _))
            {
                usd += CurrencyConversion.Convert(new Money(amount, currency), "USD", rate).AmountMinor;
            }
        }
        return new SalesTotals(share.Minute, orders.Values.Sum(), orders, gmv, usd);
    }
}
