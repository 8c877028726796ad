using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;
using Orleans.Trade.Inventory;

namespace Orleans.Trade.Api.Analytics;

/// <summary>The funnel's settings, read from the <c>Analytics</c> section.</summary>
public sealed class FunnelOptions
{
    /// <summary>Days storefront events are kept; older ones are deleted, and refused when posted.</summary>
    public int FunnelRetentionDays { get; set; } = 92;

    public TimeSpan Retention => TimeSpan.FromDays(FunnelRetentionDays);

    /// <summary>What is wrong with the settings (the silo does not start), or null.</summary>
    public string? Problem() => FunnelRetentionDays is < 1 or > 3650 ? "Analytics:FunnelRetentionDays must be 1 to 3650." : null;
}

/// <summary>One storefront event as stored: its visitor is the buyer id, or <see cref="StorefrontVisitors.SessionPrefix"/> and the session id.</summary>
public sealed record StorefrontEventRow(string EventId, StorefrontEventKind Kind, string Visitor, string SkuId, string SellerId, DateTimeOffset At);

/// <summary>Which funnel to count: a window, optionally one seller's (and one of its SKUs'), as one or per UTC day.</summary>
public sealed record FunnelQuery(DateTimeOffset From, DateTimeOffset To, string? SellerId, string? SkuId, bool ByDay);

/// <summary>Storefront events and the funnel read from them and the order rows (implemented by the silo over the database).</summary>
public interface IStorefrontEvents
{
    /// <summary>Stores the events not stored before (by event id) in one transaction; answers the ids stored now.</summary>
    Task<IReadOnlySet<string>> RecordAsync(IReadOnlyList<StorefrontEventRow> events, CancellationToken cancellationToken);

    /// <summary>
    /// The seller of each of <paramref name="skuIds"/> that exists, as the SKU ledgers store it: one query for a batch, no SKU grain
    /// woken (a storefront's views reach far into the long tail of SKUs nobody buys).
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> SellersOfAsync(IReadOnlyCollection<string> skuIds, CancellationToken cancellationToken);

    /// <summary>
    /// Per day (or the window as one) and per step mask, how many visitors had exactly those steps: the storefront's events of the
    /// window (of the seller and SKU asked for) and the buyers of the orders created in it (of the seller; placed: any order but an
    /// import; paid: one that counts as paid, <see cref="Orders.AfterSalesCounting"/>). Counted by the database: one row per day and mask.
    /// </summary>
    Task<IReadOnlyList<FunnelMaskCount>> FunnelAsync(FunnelQuery query, CancellationToken cancellationToken);
}

public static class StorefrontVisitors
{
    /// <summary>No buyer id can start with it (ids start with a letter or digit), so sessions and buyers never meet.</summary>
    public const string SessionPrefix = "~";
}

public sealed record StorefrontEventRequest(
    [Required][property: Description("The storefront's id of the event (1-64 letters, digits, '.', '_', '-'): an event sent again with it is answered duplicate and not counted again.")]
    string? EventId,
    [Required][property: Description("view (a product page), cart (added to the cart) or checkout (started checking out).")] string? Kind,
    [property: Description("The signed-in buyer, as orders name them. Give this or sessionId, not both: only a buyer's events meet their orders in the funnel.")]
    string? BuyerId,
    [property: Description("An anonymous visitor's session, when no buyer is signed in: counted in the storefront's steps, never as placing an order.")]
    string? SessionId,
    [Required][property: Description("The SKU viewed, added or checked out; its seller is the SKU's.")] string? SkuId,
    [Required][property: Description("When it happened, with its offset: at most 10 minutes ahead of the platform's clock, not older than Analytics:FunnelRetentionDays.")]
    DateTimeOffset? At);

public sealed record StorefrontEventBatchRequest(
    [Required][property: Description("1 to 1,000 events, in any order; each is answered on its own.")] IReadOnlyList<StorefrontEventRequest?>? Events);

/// <summary>What became of one storefront event.</summary>
public enum StorefrontEventStatus
{
    /// <summary>Stored.</summary>
    Recorded,
    /// <summary>An event with this id was stored before, or earlier in this batch: not counted again.</summary>
    Duplicate,
    /// <summary>A member is missing or wrong (<c>field</c> names it): not stored.</summary>
    Invalid,
    /// <summary>No such SKU: not stored.</summary>
    UnknownSku,
    /// <summary>Not stored (storage unavailable): send it again; what was recorded answers duplicate.</summary>
    Failed,
}

/// <param name="Index">The event's position in the request, from 0.</param>
public sealed record StorefrontEventResult(int Index, string? EventId, StorefrontEventStatus Status, string? Reason, string? Field);

public sealed record StorefrontEventBatchResponse(int Recorded, int Duplicate,
    [property: Description("Events neither recorded now nor before: see each result's status and reason.")] int NotRecorded,
    IReadOnlyList<StorefrontEventResult> Results);

/// <param name="Day">The UTC day; each day's funnel counts the steps taken on that day.</param>
public sealed record FunnelDay(DateOnly Day, IReadOnlyList<FunnelStepRow> Steps, double? Conversion, FunnelDropOff? DropOff);

/// <param name="SellerId">The seller counted; null for all.</param>
/// <param name="SkuId">The SKU counted; null for all the seller's (or all).</param>
/// <param name="Days">With interval=day, every UTC day the window touches; null otherwise.</param>
public sealed record FunnelResponse(DateTimeOffset From, DateTimeOffset To, string? SellerId, string? SkuId, IReadOnlyList<FunnelStepRow> Steps,
    double? Conversion, FunnelDropOff? DropOff, IReadOnlyList<FunnelDay>? Days);

/// <summary>
/// The conversion funnel (R-DAT-2): the storefront posts what its buyers view, add to their carts and start to check out; the
/// placed and paid steps come from the platform's order rows. Read per window, seller, SKU and day.
/// </summary>
public static class FunnelApi
{
    public const int MaxEvents = 1_000;

    /// <summary>How far ahead of the platform's clock an event's time may be (the storefront's clock runs a little ahead).</summary>
    public static readonly TimeSpan FutureSkew = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapFunnelApiV1(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Analytics")
            .MapPost("/storefront-events", Record).RequireAuthorization(Policies.StorefrontFeeds).ProducesProblems(403);
        app.MapGroup("/api/v1/analytics").WithTags("Analytics")
            .MapGet("/funnel", Read).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403, 404);
        return app;
    }

    public static async Task<Results<Ok<StorefrontEventBatchResponse>, ValidationProblem>> Record(StorefrontEventBatchRequest request,
        IStorefrontEvents store, TradeClock clock, IOptions<FunnelOptions> options, CancellationToken cancellationToken)
    {
        var events = request.Events;
        if (events is null || events.Count is 0 or > MaxEvents)
        {
            return new Validation().Add("events", $"events holds 1 to {MaxEvents} events; got {events?.Count ?? 0}. Split a larger batch.").Problem();
        }
        var now = clock.GetUtcNow();
        var oldest = now - options.Value.Retention;
        var results = new StorefrontEventResult?[events.Count];
        var valid = new List<(int Index, StorefrontEventKind Kind, string Visitor)>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e is null)
            {
                results[i] = new StorefrontEventResult(i, null, StorefrontEventStatus.Invalid, "The event is null.", null);
                continue;
            }
            var v = new Validation();
            v.Identifier("eventId", e.EventId);
            var kind = e.Kind is null ? v.Required<StorefrontEventKind>("kind", null) : v.OneOf<StorefrontEventKind>("kind", e.Kind);
            if ((e.BuyerId is null) == (e.SessionId is null))
            {
                v.Add("buyerId", "Give buyerId (a signed-in buyer) or sessionId (an anonymous visitor), one of them.");
            }
            else if (e.BuyerId is not null)
            {
                v.Identifier("buyerId", e.BuyerId);
            }
            else
            {
                v.Identifier("sessionId", e.SessionId);
            }
            v.Identifier("skuId", e.SkuId);
            if (v.Required("at", e.At) is { } at)
            {
                if (at > now + FutureSkew)
                {
                    v.Add("at", $"at ({at:u}) is more than {FutureSkew.TotalMinutes:0} minutes ahead of the platform's clock ({now:u}).");
                }
                else if (at < oldest)
                {
                    v.Add("at", $"at ({at:u}) is older than the {options.Value.Retention.TotalDays:0} days events are kept.");
                }
            }
            if (v.FirstError is var (field, rule))
            {
                results[i] = new StorefrontEventResult(i, e.EventId, StorefrontEventStatus.Invalid, rule, field);
                continue;
            }
            valid.Add((i, kind!.Value, e.BuyerId ?? StorefrontVisitors.SessionPrefix + e.SessionId));
        }

        // Each SKU's seller, read for the whole batch at once; when the read fails, the batch's valid events are answered failed.
        IReadOnlyDictionary<string, string>? sellers;
        try
        {
            sellers = await store.SellersOfAsync(valid.Select(p => events[p.Index]!.SkuId!).Distinct(StringComparer.Ordinal).ToArray(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            sellers = null;
        }

        var rows = new List<StorefrontEventRow>();
        var stored = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (i, kind, visitor) in valid)
        {
            var e = events[i]!;
            if (sellers is null)
            {
                results[i] = new StorefrontEventResult(i, e.EventId, StorefrontEventStatus.Failed, $"SKU '{e.SkuId}' could not be looked up; send the event again.", null);
            }
            else if (!sellers.TryGetValue(e.SkuId!, out var seller))
            {
                results[i] = new StorefrontEventResult(i, e.EventId, StorefrontEventStatus.UnknownSku, $"SKU '{e.SkuId}' does not exist; nothing was recorded.", "skuId");
            }
            else if (stored.TryGetValue(e.EventId!, out var first))
            {
                results[i] = new StorefrontEventResult(i, e.EventId, StorefrontEventStatus.Duplicate, $"The same eventId as event {first} of this batch.", "eventId");
            }
            else
            {
                stored[e.EventId!] = i;
                rows.Add(new StorefrontEventRow(e.EventId!, kind, visitor, e.SkuId!, seller, e.At!.Value.ToUniversalTime()));
            }
        }

        if (rows.Count > 0)
        {
            IReadOnlySet<string>? recorded;
            try
            {
                recorded = await store.RecordAsync(rows, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                recorded = null;
            }
            foreach (var (eventId, i) in stored)
            {
                results[i] = recorded is null
                    ? new StorefrontEventResult(i, eventId, StorefrontEventStatus.Failed, "The event could not be stored; send it again.", null)
                    : recorded.Contains(eventId)
                        ? new StorefrontEventResult(i, eventId, StorefrontEventStatus.Recorded, null, null)
                        : new StorefrontEventResult(i, eventId, StorefrontEventStatus.Duplicate, "An event with this eventId was stored before.", "eventId");
            }
        }
        var answered = results.Select(r => r!).ToArray();
        var recordedCount = answered.Count(r => r.Status == StorefrontEventStatus.Recorded);
        var duplicate = answered.Count(r => r.Status == StorefrontEventStatus.Duplicate);
        return TypedResults.Ok(new StorefrontEventBatchResponse(recordedCount, duplicate, answered.Length - recordedCount - duplicate, answered));
    }

    public static async Task<Results<Ok<FunnelResponse>, ValidationProblem, ProblemHttpResult>> Read(
        [Description("Steps taken from this time (default: 30 days before to).")] DateTimeOffset? from,
        [Description("Steps taken before this time (default: now); at most 92 days after from.")] DateTimeOffset? to,
        [Description("Only this seller's SKUs and orders (a seller's or ERP key: its own, which is also the default).")] string? sellerId,
        [Description("Only this SKU's events, and the orders of its seller by buyers who had one of them (orders keep no SKUs).")] string? skuId,
        [Description("day: also each UTC day's funnel.")] string? interval,
        ClaimsPrincipal user, IGrainFactory grains, IStorefrontEvents store, TradeClock clock, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var v = new Validation();
        var (start, end) = ReportWindow.Check(v, from, to, clock.GetUtcNow());
        if (sellerId is not null)
        {
            v.Identifier("sellerId", sellerId);
        }
        if (skuId is not null)
        {
            v.Identifier("skuId", skuId);
        }
        if (interval is not null and not "day")
        {
            v.Add("interval", "interval must be day, or left out for the window as one.");
        }
        if (!v.IsValid)
        {
            return v.Problem();
        }
        var seller = sellerId ?? caller.ActingSellerId;
        if (skuId is not null)
        {
            var catalog = await grains.GetGrain<ISkuGrain>(skuId).GetCatalog();
            if (catalog is null || (sellerId is not null && sellerId != catalog.SellerId))
            {
                return Problems.NotFound(catalog is null ? $"SKU '{skuId}' does not exist." : $"SKU '{skuId}' is not a SKU of seller '{sellerId}'.");
            }
            seller = catalog.SellerId;
        }
        if (seller is not null && caller.RefusedFor(seller, "read the funnel of") is { } forbidden)
        {
            return forbidden;
        }
        var byDay = interval == "day";
        // The window's figures count each visitor once, by every step reached anywhere in it: summed over days, a visitor active
        // on two days counted twice, and one who carted on a day and paid the next converted on neither.
        var counts = await store.FunnelAsync(new FunnelQuery(start, end, seller, skuId, ByDay: false), cancellationToken);
        var skuOnly = skuId is not null;
        var whole = Funnel.Figures(counts.GroupBy(c => c.Mask).Select(g => (g.Key, g.Sum(c => c.Visitors))), skuOnly);
        IReadOnlyList<FunnelDay>? days = null;
        if (byDay)
        {
            var byDayCounts = (await store.FunnelAsync(new FunnelQuery(start, end, seller, skuId, ByDay: true), cancellationToken)).ToLookup(c => c.Day);
            var first = DayNumber(start);
            var last = DayNumber(end - TimeSpan.FromTicks(1));
            days = Enumerable.Range(0, (int)(last - first + 1)).Select(n =>
            {
                var day = first + n;
                var figures = Funnel.Figures(byDayCounts[day].Select(c => (c.Mask, c.Visitors)), skuOnly);
                return new FunnelDay(DateOnly.FromDayNumber((int)(day + UnixEpochDayNumber)), figures.Steps, figures.Conversion, figures.DropOff);
            }).ToArray();
        }
        return TypedResults.Ok(new FunnelResponse(start, end, seller, skuId, whole.Steps, whole.Conversion, whole.DropOff, days));
    }

    private static readonly long UnixEpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>Days since 1970-01-01 (UTC), as the store counts them.</summary>
    public static long DayNumber(DateTimeOffset at) => (long)Math.Floor(at.ToUnixTimeMilliseconds() / 86_400_000.0);
}
