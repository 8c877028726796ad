using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Analytics;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

public sealed record CurrencyAmount(string Currency, long AmountMinor, long Orders, long AverageOrderValueMinor);

public sealed record SalesIntervalResponse(DateTimeOffset Start, long Orders, IReadOnlyList<CurrencyAmount> Gmv, long GmvUsdMinor,
    long AverageOrderValueUsdMinor);

public sealed record SalesResponse(DateTimeOffset From, DateTimeOffset To, string Interval, IReadOnlyList<SalesIntervalResponse> Intervals,
    SalesIntervalResponse Total);

public sealed record SalesAlertsResponse(IReadOnlyList<SalesAlert> Alerts);

/// <summary>Real-time sales (R-DAT-1): orders, GMV and average order value per minute or hour, and the anomaly alerts.</summary>
public static class AnalyticsApi
{
    public const int MaxMinuteIntervals = 24 * 60;

    public static IEndpointRouteBuilder MapAnalyticsApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/analytics").WithTags("Analytics");
        api.MapGet("/sales", Sales).RequireAuthorization(Policies.Reviewers).ProducesProblems(403);
        api.MapGet("/alerts", Alerts).RequireAuthorization(Policies.Reviewers).ProducesProblems(403);
        return app;
    }

    /// <summary>
    /// Every interval from <paramref name="from"/> to <paramref name="to"/> (default: the last hour by minute, the last day by
    /// hour), rounded down and up to the interval; the current interval is still filling.
    /// </summary>
    public static async Task<Results<Ok<SalesResponse>, ValidationProblem>> Sales(
        [FromQuery] DateTimeOffset? from, [FromQuery] DateTimeOffset? to, [FromQuery] string? interval, IGrainFactory grains, TradeClock clock)
    {
        var now = clock.GetUtcNow();
        var v = new Validation();
        var step = interval switch { null or "minute" => 1, "hour" => 60, _ => 0 };
        if (step == 0) v.Add("interval", "interval must be minute or hour.");
        var nowMinute = SalesMonitor.MinuteOf(now);
        // Rounded up: a `to` inside a minute includes that minute (rounded down, its sales were in no interval and no total).
        // The limits below allow that extra minute: a day by minute, or a `to` a day ahead, given to the millisecond stays allowed.
        var roundedUp = to is { } t && SalesMonitor.StartOf(SalesMonitor.MinuteOf(t)) < t ? 1 : 0;
        var toMinute = to is { } u ? SalesMonitor.MinuteOf(u) + roundedUp : nowMinute + 1;
        var fromMinute = from is { } f ? SalesMonitor.MinuteOf(f) : toMinute - (step == 60 ? 24 * 60 : 60);
        if (step > 0)
        {
            fromMinute -= Mod(fromMinute, step);
            toMinute += Mod(step - Mod(toMinute, step), step);
        }
        if (fromMinute >= toMinute || (from is { } first && to is { } last && last <= first)) v.Add("from", "from must be before to.");
        else if (step == 1 && toMinute - fromMinute > MaxMinuteIntervals + roundedUp) v.Add("to", $"By minute, at most {MaxMinuteIntervals} minutes (a day) at once.");
        if (fromMinute < nowMinute - SalesMonitor.RetentionHours * 60 - 60)
        {
            v.Add("from", $"The monitor keeps the last {SalesMonitor.RetentionHours} hours; from must be within them.");
        }
        if (toMinute > nowMinute + 24 * 60 + roundedUp) v.Add("to", "to must not be more than a day ahead.");
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var minutes = await grains.GetGrain<ISalesMonitorGrain>(SalesMonitor.Key).Minutes(fromMinute, toMinute);
        var byInterval = minutes.ToLookup(m => m.Minute - Mod(m.Minute - fromMinute, step));
        var intervals = new List<SalesIntervalResponse>();
        for (var start = fromMinute; start < toMinute; start += step)
        {
            intervals.Add(Sum(SalesMonitor.StartOf(start), byInterval[start]));
        }
        return TypedResults.Ok(new SalesResponse(SalesMonitor.StartOf(fromMinute), SalesMonitor.StartOf(toMinute), step == 60 ? "hour" : "minute",
            intervals, Sum(SalesMonitor.StartOf(fromMinute), minutes)));
    }

    /// <summary>The alerts kept (the last 200), newest first; <c>?open=true</c> for the open ones only.</summary>
    public static async Task<Ok<SalesAlertsResponse>> Alerts([FromQuery] bool? open, IGrainFactory grains)
    {
        var alerts = await grains.GetGrain<ISalesMonitorGrain>(SalesMonitor.Key).Alerts();
        return TypedResults.Ok(new SalesAlertsResponse(open == true ? alerts.Where(a => a.IsOpen).ToList() : alerts));
    }

    private static long Mod(long value, long step) => ((value % step) + step) % step;

    private static SalesIntervalResponse Sum(DateTimeOffset start, IEnumerable<SalesTotals> minutes)
    {
        long orders = 0, usd = 0;
        var byCurrency = new SortedDictionary<string, (long Gmv, long Orders)>(StringComparer.Ordinal);
        foreach (var minute in minutes)
        {
            orders += minute.Orders;
            usd += minute.GmvUsdMinor;
            foreach (var (currency, amount) in minute.GmvMinorByCurrency)
            {
                var sum = byCurrency.GetValueOrDefault(currency);
                byCurrency[currency] = (sum.Gmv + amount, sum.Orders + minute.OrdersByCurrency.GetValueOrDefault(currency));
            }
        }
        return new SalesIntervalResponse(start, orders,
            byCurrency.Select(c => new CurrencyAmount(c.Key, c.Value.Gmv, c.Value.Orders, c.Value.Orders == 0 ? 0 : c.Value.Gmv / c.Value.Orders)).ToList(),
            usd, orders == 0 ? 0 : usd / orders);
    }
}
