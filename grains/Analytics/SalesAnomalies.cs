namespace Orleans.Trade.Analytics;

/// <summary>The anomaly rules of the sales monitor (<c>Analytics:*</c>).</summary>
public sealed class SalesAnomalyOptions
{
    /// <summary>The window judged: the last this many closed minutes (the minute just closed is left out: silos flush it late).</summary>
    public int WindowMinutes { get; set; } = 15;

    /// <summary>The baseline: the mean of this many windows right before the judged one (8 × 15 min = the two hours before).</summary>
    public int BaselineWindows { get; set; } = 8;

    /// <summary>A drop: the window below this share of the baseline.</summary>
    public double DropBelow { get; set; } = 0.3;

    /// <summary>A spike: the window above this multiple of the baseline.</summary>
    public double SpikeAbove { get; set; } = 5.0;

    /// <summary>Quiet hours do not alert: a drop needs a baseline, a spike a window, of at least this many orders.</summary>
    public long MinOrders { get; set; } = 50;

    /// <summary>The same floor for GMV, in US cents.</summary>
    public long MinGmvUsdMinor { get; set; } = 500_000;

    /// <summary>How often the monitor writes its minutes when no alert changes (alerts are written at once).</summary>
    public int PersistSeconds { get; set; } = 60;

    /// <summary>Competitors' prices observed longer ago than this are shown but not counted in a SKU's benchmark (R-DAT-3).</summary>
    public int BenchmarkMaxAgeDays { get; set; } = 30;

    public string? Problem() =>
        WindowMinutes is < 1 or > 360 ? "Analytics:WindowMinutes must be 1 to 360."
        : BaselineWindows < 1 || (BaselineWindows + 1) * WindowMinutes + 1 > SalesMonitor.RetentionHours * 60
            ? $"Analytics:BaselineWindows must be at least 1, and the baseline with the window within the {SalesMonitor.RetentionHours} hours kept."
        : DropBelow is <= 0 or >= 1 ? "Analytics:DropBelow must be between 0 and 1 (a share of the baseline)."
        : SpikeAbove <= 1 ? "Analytics:SpikeAbove must be above 1 (a multiple of the baseline)."
        : MinOrders < 1 || MinGmvUsdMinor < 1 ? "Analytics:MinOrders and Analytics:MinGmvUsdMinor must be at least 1."
        : PersistSeconds is < 1 or > 3600 ? "Analytics:PersistSeconds must be 1 to 3600."
        : BenchmarkMaxAgeDays is < 1 or > 365 ? "Analytics:BenchmarkMaxAgeDays must be 1 to 365."
        : null;
}

/// <summary>Pure rules: is a window a drop or a spike against its baseline, and how do open alerts follow.</summary>
public static class SalesAnomalies
{
    /// <summary>
    /// <paramref name="observed"/>: the metric over the judged window; <paramref name="expected"/>: the baseline's mean per window.
    /// Null when within bounds or too quiet to judge.
    /// </summary>
    public static SalesAlertKind? Judge(long observed, double expected, long minVolume, double dropBelow, double spikeAbove)
    {
        if (expected >= minVolume && observed < dropBelow * expected)
        {
            return SalesAlertKind.Drop;
        }
        // A spike over an empty baseline is a spike too (a sale starting at night), once the window itself is not quiet.
        if (observed >= minVolume && observed > spikeAbove * expected)
        {
            return SalesAlertKind.Spike;
        }
        return null;
    }

    /// <summary>The window [end − window, end) and the baseline before it, summed from per-minute values.</summary>
    public static (long Observed, double Expected) Window(Func<long, long> valueAt, long endMinute, int windowMinutes, int baselineWindows)
    {
        long observed = 0, baseline = 0;
        for (var m = endMinute - windowMinutes; m < endMinute; m++)
        {
            observed += valueAt(m);
        }
        for (var m = endMinute - windowMinutes * (baselineWindows + 1L); m < endMinute - windowMinutes; m++)
        {
            baseline += valueAt(m);
        }
        return (observed, (double)baseline / baselineWindows);
    }

    /// <summary>
    /// The alerts after judging <paramref name="metric"/>: a verdict with no open alert of that metric opens one; an open alert
    /// ends (recovered) when the verdict is none, or is replaced when the verdict turned the other way. Null when nothing changed.
    /// </summary>
    public static IReadOnlyList<SalesAlert>? Follow(IReadOnlyList<SalesAlert> alerts, SalesMetric metric, SalesAlertKind? verdict,
        long observed, double expected, DateTimeOffset now, Func<string> newId)
    {
        var open = alerts.FirstOrDefault(a => a.Metric == metric && a.IsOpen);
        if (open?.Kind == verdict)
        {
            return null;
        }
        var next = alerts.Select(a => a == open ? a with { EndedAt = now, ObservedAtEnd = observed } : a).ToList();
        if (verdict is { } kind)
        {
            next.Insert(0, new SalesAlert(newId(), metric, kind, now, observed, expected));
        }
        // Newest first; the oldest ended alerts go when the list is full (an open one is never dropped: at most one per metric).
        while (next.Count > SalesMonitor.MaxAlertsKept && next.FindLastIndex(a => !a.IsOpen) is var i and >= 0)
        {
            next.RemoveAt(i);
        }
        return next;
    }
}
