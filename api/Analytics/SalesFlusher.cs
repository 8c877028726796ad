using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Trade.Analytics;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

/// <summary>
/// Every <c>Analytics:FlushSeconds</c> (default 5) takes this silo's closed minutes to the cluster's monitor, which judges the
/// sales on each call (an empty flush too, so a drop to nothing is seen). A flush that fails is sent again, same sequence. At
/// shutdown the open minute is sent too; the monitor adds a minute's parts from any source up.
/// Keeps the monitor's open alerts for the gauge <c>trade_sales_alerts_open{metric,kind}</c>.
/// </summary>
public sealed class SalesFlusher(SalesRecorder recorder, IGrainFactory grains, TradeClock clock, IConfiguration configuration,
    ILogger<SalesFlusher> logger) : BackgroundService
{
    /// <summary>A flush carries at most this many minutes; more wait for the next one.</summary>
    private const int MaxMinutesPerFlush = 500;

    /// <summary>At shutdown a failed flush is sent again after this, until the host's shutdown timeout.</summary>
    private static readonly TimeSpan StopRetryDelay = TimeSpan.FromMilliseconds(250);

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
        while (true)
        {
            await Task.Delay(period, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            if (stoppingToken.IsCancellationRequested)
            {
                return; // StopAsync sends the rest
            }
            await FlushAsync();
        }
    }

    /// <summary>
    /// The host stops this after Kestrel has let the requests in flight finish and before the silo leaves the cluster: sends
    /// every minute still held, the open one too (it would never close otherwise), again until the monitor has them or the
    /// shutdown timeout is up.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _waiting.AddRange(recorder.TakeAll());
        while (_unanswered is not null || _waiting.Count > 0)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("The shutdown timeout ended before the sales monitor took this silo's last minutes; {Minutes} are lost",
                    _waiting.Count + (_unanswered?.Minutes.Count ?? 0));
                return;
            }
            if (!await SendAsync(cancellationToken))
            {
                await Task.Delay(StopRetryDelay, cancellationToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    /// <summary>Takes the minutes closed by now and sends them (an empty flush too, so the monitor judges the sales).</summary>
    public async Task FlushAsync()
    {
        _waiting.AddRange(recorder.TakeClosed(SalesMonitor.MinuteOf(clock.GetUtcNow()), out _));
        await SendAsync(CancellationToken.None);
    }

    /// <summary>Sends the unanswered flush again, or the next minutes waiting; false when it failed (kept for the next try).</summary>
    private async Task<bool> SendAsync(CancellationToken cancellationToken)
    {
        try
        {
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
            OpenAlerts = await grains.GetGrain<ISalesMonitorGrain>(SalesMonitor.Key).Record(_unanswered).WaitAsync(cancellationToken);
            _unanswered = null;
            return true;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Flushing sales minutes to the monitor failed; sending them again");
            return false;
        }
    }
}
