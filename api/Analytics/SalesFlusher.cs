using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Trade.Analytics;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

/// <summary>
/// Every <c>Analytics:FlushSeconds</c> (default 5) takes this silo's closed minutes to the cluster's monitor, which judges the
/// sales on each call (an empty flush too, so a drop to nothing is seen). A flush that fails is sent again, same sequence.
/// Keeps the monitor's open alerts for the gauge <c>trade_sales_alerts_open{metric,kind}</c>.
/// </summary>
public sealed class SalesFlusher(SalesRecorder recorder, IGrainFactory grains, TradeClock clock, IConfiguration configuration,
    ILogger<SalesFlusher> logger) : BackgroundService
{
    /// <summary>A flush carries at most this many minutes; more wait for the next one.</summary>
    private const int MaxMinutesPerFlush = 500;

    private readonly string _sourceId = Guid.NewGuid().ToString("N");
    private readonly List<SalesMinute> _waiting = [];
    private SalesFlush? _unanswered;
    private long _sequence;

    public IReadOnlyList<SalesAlert> OpenAlerts { get; private set; } = [];

    /// <summary>Registers the gauge; the host makes one flusher per process.</summary>
    public void StartGauge() => SalesRecorder.Meter.CreateObservableGauge("trade.sales.alerts_open",
        () => OpenAlerts.Select(a => new Measurement<int>(1, new KeyValuePair<string, object?>("metric", a.Metric == SalesMetric.Orders ? "orders" : "gmvUsd"),
            new KeyValuePair<string, object?>("kind", a.Kind == SalesAlertKind.Drop ? "drop" : "spike"))),
        "{alert}", "The sales monitor's open anomaly alerts (labels metric and kind), as this silo's last flush heard them.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(configuration.GetValue("Analytics:FlushSeconds", 5.0));
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(period, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            await FlushAsync();
        }
        await FlushAsync();
    }

    public async Task FlushAsync()
    {
        try
        {
            _waiting.AddRange(recorder.TakeClosed(SalesMonitor.MinuteOf(clock.GetUtcNow()), out _));
            // A monitor out of reach for longer than it keeps minutes: the oldest would be dropped by it anyway.
            if (_waiting.Count > SalesMonitor.RetentionHours * 60)
            {
                _waiting.RemoveRange(0, _waiting.Count - SalesMonitor.RetentionHours * 60);
            }
            if (_unanswered is null)
            {
                var minutes = _waiting.Take(MaxMinutesPerFlush).ToList();
                _waiting.RemoveRange(0, minutes.Count);
                _unanswered = new SalesFlush(_sourceId, ++_sequence, minutes);
            }
            OpenAlerts = await grains.GetGrain<ISalesMonitorGrain>(SalesMonitor.Key).Record(_unanswered);
            _unanswered = null;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Flushing sales minutes to the monitor failed; sending them again next time");
        }
    }
}
