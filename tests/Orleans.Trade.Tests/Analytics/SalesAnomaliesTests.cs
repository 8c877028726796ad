using Orleans.Trade.Analytics;

namespace Orleans.Trade.Tests.Analytics;

/// <summary>R-DAT-1: the anomaly rules of the sales monitor, as pure functions.</summary>
public sealed class SalesAnomaliesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static SalesAlertKind? Judge(long observed, double expected, long minVolume = 50) =>
        SalesAnomalies.Judge(observed, expected, minVolume, dropBelow: 0.3, spikeAbove: 5.0);

    [Fact]
    public void A_window_within_its_bounds_raises_nothing()
    {
        Assert.Null(Judge(100, 100));
        Assert.Null(Judge(30, 100));
        Assert.Null(Judge(500, 100));
    }

    [Fact]
    public void A_window_below_the_drop_share_of_its_baseline_is_a_drop()
    {
        Assert.Equal(SalesAlertKind.Drop, Judge(29, 100));
        Assert.Equal(SalesAlertKind.Drop, Judge(0, 100));
    }

    [Fact]
    public void A_window_above_the_spike_multiple_of_its_baseline_is_a_spike_even_over_an_empty_baseline()
    {
        Assert.Equal(SalesAlertKind.Spike, Judge(501, 100));
        Assert.Equal(SalesAlertKind.Spike, Judge(50, 0));
    }

    [Fact]
    public void Quiet_hours_do_not_alert_below_the_minimum_volume()
    {
        // A drop needs a baseline of the minimum volume; a spike needs a window of it.
        Assert.Null(Judge(0, 49));
        Assert.Null(Judge(49, 1));
        Assert.Equal(SalesAlertKind.Drop, Judge(0, 50));
    }

    [Fact]
    public void The_window_is_the_last_minutes_before_its_end_and_the_baseline_the_mean_of_the_windows_before()
    {
        // 1 order a minute in the 4 windows of 15 minutes before the judged window, 3 a minute in it.
        long ValueAt(long m) => m >= 1000 - 15 ? 3 : m >= 1000 - 75 ? 1 : 100;

        var (observed, expected) = SalesAnomalies.Window(ValueAt, 1000, windowMinutes: 15, baselineWindows: 4);

        Assert.Equal(45, observed);
        Assert.Equal(15.0, expected);
    }

    [Fact]
    public void A_verdict_opens_an_alert_which_stays_one_while_the_verdict_holds_and_ends_when_the_metric_recovers()
    {
        var ids = 0;
        string NewId() => $"a{++ids}";
        IReadOnlyList<SalesAlert> alerts = [];

        alerts = SalesAnomalies.Follow(alerts, SalesMetric.Orders, SalesAlertKind.Drop, 3, 100, Now, NewId)!;
        Assert.Equal(new SalesAlert("a1", SalesMetric.Orders, SalesAlertKind.Drop, Now, 3, 100), Assert.Single(alerts));
        Assert.Null(SalesAnomalies.Follow(alerts, SalesMetric.Orders, SalesAlertKind.Drop, 2, 100, Now.AddMinutes(1), NewId));
        // The other metric is followed on its own.
        Assert.Null(SalesAnomalies.Follow(alerts, SalesMetric.GmvUsd, null, 2, 100, Now.AddMinutes(1), NewId));

        alerts = SalesAnomalies.Follow(alerts, SalesMetric.Orders, null, 90, 100, Now.AddMinutes(5), NewId)!;
        var ended = Assert.Single(alerts);
        Assert.False(ended.IsOpen);
        Assert.Equal((Now.AddMinutes(5), 90L), (ended.EndedAt!.Value, ended.ObservedAtEnd!.Value));
        Assert.Null(SalesAnomalies.Follow(alerts, SalesMetric.Orders, null, 90, 100, Now.AddMinutes(6), NewId));
    }

    [Fact]
    public void A_drop_that_turns_into_a_spike_ends_the_drop_and_opens_the_spike_newest_first()
    {
        var ids = 0;
        IReadOnlyList<SalesAlert> alerts = SalesAnomalies.Follow([], SalesMetric.GmvUsd, SalesAlertKind.Drop, 0, 1000, Now, () => $"a{++ids}")!;

        alerts = SalesAnomalies.Follow(alerts, SalesMetric.GmvUsd, SalesAlertKind.Spike, 9000, 1000, Now.AddMinutes(20), () => $"a{++ids}")!;

        Assert.Equal(["a2", "a1"], alerts.Select(a => a.AlertId));
        Assert.True(alerts[0].IsOpen);
        Assert.Equal(SalesAlertKind.Spike, alerts[0].Kind);
        Assert.False(alerts[1].IsOpen);
    }

    [Fact]
    public void The_alert_list_keeps_its_bound_by_dropping_the_oldest_ended_alerts()
    {
        var ids = 0;
        IReadOnlyList<SalesAlert> alerts = [];
        for (var i = 0; i < SalesMonitor.MaxAlertsKept + 10; i++)
        {
            alerts = SalesAnomalies.Follow(alerts, SalesMetric.Orders, SalesAlertKind.Drop, 0, 100, Now.AddMinutes(2 * i), () => $"a{++ids}")!;
            alerts = SalesAnomalies.Follow(alerts, SalesMetric.Orders, null, 100, 100, Now.AddMinutes(2 * i + 1), () => $"a{++ids}")!;
        }

        Assert.Equal(SalesMonitor.MaxAlertsKept, alerts.Count);
        Assert.Equal($"a{ids}", alerts[0].AlertId);
    }

    [Fact]
    public void Options_out_of_range_are_refused_at_start_up()
    {
        Assert.Null(new SalesAnomalyOptions().Problem());
        Assert.Contains("DropBelow", new SalesAnomalyOptions { DropBelow = 1.5 }.Problem());
        Assert.Contains("SpikeAbove", new SalesAnomalyOptions { SpikeAbove = 0.5 }.Problem());
        Assert.Contains("BaselineWindows", new SalesAnomalyOptions { WindowMinutes = 60, BaselineWindows = 48 }.Problem());
        Assert.Contains("MinOrders", new SalesAnomalyOptions { MinOrders = 0 }.Problem());
    }
}
