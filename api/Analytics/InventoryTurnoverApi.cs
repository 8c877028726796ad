using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

/// <summary>Which SKUs' turnover to read: the snapshots of days <see cref="From"/> to <see cref="To"/> (both included).</summary>
public sealed record TurnoverQuery(DateOnly From, DateOnly To, string? SellerId, string? SkuId, bool Fastest, int Offset, int Limit);

/// <summary>One SKU's snapshots in a window: the first and last day's, and the sum of the days' on hand (for the mean).</summary>
public sealed record SkuTurnoverStats(string SkuId, string SellerId, DateOnly FirstDay, DateOnly LastDay, int Snapshots, long SumOnHand,
    long OnHandStart, long OnHandEnd, long ReservedEnd, long UnitsSold);

/// <summary>A page of SKUs (slowest or fastest turnover first) and how many SKUs the window holds, with their sums.</summary>
public sealed record TurnoverPage(IReadOnlyList<SkuTurnoverStats> Skus, long SkuCount, double AverageOnHand, long UnitsSold);

/// <summary>Daily stock snapshots (implemented by the silo over the database).</summary>
public interface IStockSnapshots
{
    /// <summary>
    /// Takes the snapshot of <paramref name="day"/> from the SKU ledgers unless one was taken; answers the SKUs it holds, or null when
    /// the day was taken before (by this or another silo). Deletes snapshots of days before <paramref name="keepFrom"/>.
    /// </summary>
    Task<int?> TakeAsync(DateOnly day, DateTimeOffset at, DateOnly keepFrom, CancellationToken cancellationToken);

    Task<TurnoverPage> TurnoverAsync(TurnoverQuery query, CancellationToken cancellationToken);
}

/// <param name="FirstDay">The window's first day with a snapshot of the SKU (its stock at the start of that day).</param>
/// <param name="Snapshots">Days with a snapshot of it in the window.</param>
/// <param name="AverageOnHand">The mean of those days' on-hand units (reserved included: they are still in the warehouse).</param>
/// <param name="UnitsSold">Units that left its warehouses as sales between the first and the last snapshot.</param>
/// <param name="SalesPerDay">UnitsSold over the days between them; null with a single snapshot.</param>
/// <param name="Turnover">UnitsSold over AverageOnHand: how many times the stock turned over in the window; null without stock.</param>
/// <param name="DaysOfCover">Days the last on-hand lasts at SalesPerDay; null without sales.</param>
/// <param name="SellThroughRate">UnitsSold over UnitsSold and the last on-hand; null when both are 0.</param>
public sealed record SkuTurnover(string SkuId, string SellerId, DateOnly FirstDay, DateOnly LastDay, int Snapshots, long OnHandStart, long OnHandEnd,
    long ReservedEnd, double AverageOnHand, long UnitsSold, double? SalesPerDay, double? Turnover, double? DaysOfCover, double? SellThroughRate);

/// <param name="SkuCount">SKUs with a snapshot in the window (of the seller asked for).</param>
/// <param name="AverageOnHand">The sum of their mean on-hand units.</param>
/// <param name="Turnover">All their units sold over AverageOnHand; null without stock.</param>
public sealed record InventoryTurnoverResponse(DateOnly From, DateOnly To, long SkuCount, double AverageOnHand, long UnitsSold, double? Turnover,
    IReadOnlyList<SkuTurnover> Skus, int Page, int PageSize);

/// <summary>
/// Inventory turnover (R-DAT-3) from the daily stock snapshots: per SKU, the mean stock on hand, the units sold, how often the
/// stock turned over and how many days it lasts at the window's sales. Slow movers first by default.
/// </summary>
public static class InventoryTurnoverApi
{
    public const int MaxPageSize = 200;
    public const int DefaultDays = 30;
    public const int MaxDays = 92;

    public static IEndpointRouteBuilder MapInventoryTurnoverApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/analytics").WithTags("Analytics")
            .MapGet("/inventory-turnover", Read).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<InventoryTurnoverResponse>, ValidationProblem, ProblemHttpResult>> Read(
        [Description("The first day (yyyy-MM-dd, UTC business days; default: 30 days before to).")] DateOnly? from,
        [Description("The last day, included (default: today); at most 92 days after from.")] DateOnly? to,
        [Description("Only this seller's SKUs (a seller's or ERP key: its own, which is also the default).")] string? sellerId,
        [Description("Only this SKU.")] string? skuId,
        [Description("slowest (default: lowest turnover first, SKUs without stock last) or fastest.")] string? sort,
        ClaimsPrincipal user, IStockSnapshots snapshots, TradeClock clock, CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var v = new Validation();
        var last = to ?? DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var first = from ?? DateOnly.FromDayNumber(Math.Max(0, last.DayNumber - DefaultDays)); // not before the calendar's first day
        if (first > last)
        {
            v.Add("from", "from must not be after to.");
        }
        else if (last.DayNumber - first.DayNumber > MaxDays)
        {
            v.Add("to", $"A window spans at most {MaxDays} days.");
        }
        if (sellerId is not null)
        {
            v.Identifier("sellerId", sellerId);
        }
        if (skuId is not null)
        {
            v.Identifier("skuId", skuId);
        }
        if (sort is not (null or "slowest" or "fastest"))
        {
            v.Add("sort", "sort must be slowest or fastest.");
        }
        v.Range("page", page, 1, 100_000);
        v.Range("pageSize", pageSize, 1, MaxPageSize);
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var caller = Caller.From(user);
        sellerId ??= caller.ActingSellerId;
        if (sellerId is not null && caller.RefusedFor(sellerId, "read the inventory turnover of") is { } forbidden)
        {
            return forbidden;
        }
        var found = await snapshots.TurnoverAsync(new TurnoverQuery(first, last, sellerId, skuId, sort == "fastest", (page - 1) * pageSize, pageSize), cancellationToken);
        return TypedResults.Ok(new InventoryTurnoverResponse(first, last, found.SkuCount, Math.Round(found.AverageOnHand, 2), found.UnitsSold,
            InventoryTurnover.Ratio(found.UnitsSold, found.AverageOnHand), found.Skus.Select(InventoryTurnover.Of).ToArray(), page, pageSize));
    }
}

/// <summary>The turnover arithmetic over a SKU's snapshots.</summary>
public static class InventoryTurnover
{
    /// <summary><paramref name="sold"/> over <paramref name="stock"/>, two decimals; null without stock.</summary>
    public static double? Ratio(long sold, double stock) => stock > 0 ? Math.Round(sold / stock, 2) : null;

    public static SkuTurnover Of(SkuTurnoverStats s)
    {
        var average = s.Snapshots == 0 ? 0 : (double)s.SumOnHand / s.Snapshots;
        var days = s.LastDay.DayNumber - s.FirstDay.DayNumber;
        double? perDay = days > 0 ? (double)s.UnitsSold / days : null;
        double? cover = perDay is > 0 ? Math.Round(s.OnHandEnd / perDay.Value, 1) : null;
        double? sellThrough = s.UnitsSold + s.OnHandEnd > 0 ? Math.Round((double)s.UnitsSold / (s.UnitsSold + s.OnHandEnd), 4) : null;
        return new SkuTurnover(s.SkuId, s.SellerId, s.FirstDay, s.LastDay, s.Snapshots, s.OnHandStart, s.OnHandEnd, s.ReservedEnd, Math.Round(average, 2),
            s.UnitsSold, perDay is { } p ? Math.Round(p, 2) : null, Ratio(s.UnitsSold, average), cover, sellThrough);
    }
}

/// <summary>The stock snapshots' settings, read from the <c>Analytics</c> section.</summary>
public sealed class StockSnapshotOptions
{
    /// <summary>How often each silo checks whether today's snapshot is taken (the first check of a business day takes it).</summary>
    public int StockSnapshotCheckSeconds { get; set; } = 300;

    /// <summary>Days of snapshots kept; more than a report's longest window.</summary>
    public int StockSnapshotRetentionDays { get; set; } = 400;

    /// <summary>What is wrong with the settings (the silo does not start), or null.</summary>
    public string? Problem() =>
        StockSnapshotCheckSeconds is < 1 or > 3600 ? "Analytics:StockSnapshotCheckSeconds must be 1 to 3600."
        : StockSnapshotRetentionDays is <= InventoryTurnoverApi.MaxDays or > 3650
            ? $"Analytics:StockSnapshotRetentionDays must be {InventoryTurnoverApi.MaxDays + 1} to 3650 (a report reads a window of up to {InventoryTurnoverApi.MaxDays} days)."
            : null;
}

/// <summary>
/// Takes the day's stock snapshot (<see cref="IStockSnapshots.TakeAsync"/>) on the first check of each business day (UTC), every
/// <see cref="StockSnapshotOptions.StockSnapshotCheckSeconds"/>. Every silo runs one; the day's claim row lets one of them take it.
/// </summary>
public sealed class StockSnapshotter(IStockSnapshots snapshots, TradeClock clock, IOptions<StockSnapshotOptions> options, ILogger<StockSnapshotter> logger)
    : BackgroundService
{
    private DateOnly? _taken;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.StockSnapshotCheckSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            if (_taken != today)
            {
                try
                {
                    var skus = await snapshots.TakeAsync(today, now, today.AddDays(-options.Value.StockSnapshotRetentionDays), stoppingToken);
                    _taken = today;
                    if (skus is { } count)
                    {
                        logger.LogInformation("Took the stock snapshot of {Day}: {Skus} SKUs", today, count);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Taking the stock snapshot of {Day} failed; trying again in {Period}", today, period);
                }
            }
            await Task.Delay(period, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }
}
