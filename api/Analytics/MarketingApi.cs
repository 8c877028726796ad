using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Api.Analytics;

public sealed record AdSpendItemRequest(
    [Required, Description("The channel: a lowercase slug of 1 to 40 letters, digits and dashes (google-ads, affiliate, email, organic).")] string? Channel,
    [Description("The campaign within the channel (1 to 100 printable characters); left out, the spend is on the channel as a whole.")] string? Campaign,
    [Required, Description("The day spent (UTC), yyyy-MM-dd.")] string? Day,
    [Required, Description("What was spent that day, in minor units (0 or more).")] Inventory.MoneyRequest? Spend,
    [Description("The seller whose ads these are (a seller's or ERP key: its own, the default); left out by an admin or analyst, the platform's own spend.")] string? SellerId);

public sealed record AdSpendRequest([Required] IReadOnlyList<AdSpendItemRequest?>? Items);

/// <summary>An item's outcome: recorded (new, or a changed amount), unchanged (the same amount was stored), invalid (fix the item).</summary>
public enum AdSpendItemStatus { Recorded, Unchanged, Invalid }

/// <param name="Field">The item's field that is wrong, for an invalid one.</param>
public sealed record AdSpendItemResult(int Index, AdSpendItemStatus Status, string? Field, string? Reason);

public sealed record AdSpendResponse(int Recorded, int Unchanged, int Invalid, IReadOnlyList<AdSpendItemResult> Results);

/// <param name="SpendMinor">Ad spend of the window's days in this currency.</param>
/// <param name="Orders">Paid orders created in the window (not awaiting payment, not cancelled) whose goods are in this currency.</param>
/// <param name="GmvMinor">Their goods value after coupons (shipping and tax left out), in minor units.</param>
/// <param name="Roas">GmvMinor over SpendMinor; null without spend.</param>
/// <param name="Roi">(GmvMinor − SpendMinor) over SpendMinor, on GMV (see the README); null without spend.</param>
/// <param name="MarginMinor">The sellers' gross margin on these orders (GMV less cost of goods less commission), when every line of
/// every one of them had a unit cost; null otherwise.</param>
/// <param name="RoiOnMargin">(MarginMinor − SpendMinor) over SpendMinor: what the ads returned beyond their cost; null without spend or margin.</param>
public sealed record AdRoiAmount(string Currency, long SpendMinor, long Orders, long GmvMinor, double? Roas, double? Roi, long? MarginMinor = null,
    double? RoiOnMargin = null);

/// <param name="Campaign">The campaign; null for spend on the channel as a whole and orders that named no campaign.</param>
public sealed record AdRoiCampaign(string? Campaign, IReadOnlyList<AdRoiAmount> Amounts);

/// <param name="Channel">The channel, or <c>unattributed</c> for orders whose checkout named none.</param>
public sealed record AdRoiChannel(string Channel, IReadOnlyList<AdRoiAmount> Amounts, IReadOnlyList<AdRoiCampaign> Campaigns);

/// <param name="Totals">Per currency over every channel of the window, unattributed orders included (not just the page's).</param>
/// <param name="Channels">The page's channels by name, <c>unattributed</c> last.</param>
public sealed record AdRoiResponse(DateTimeOffset From, DateTimeOffset To, string? SellerId, IReadOnlyList<AdRoiAmount> Totals,
    IReadOnlyList<AdRoiChannel> Channels, long ChannelCount, int Page, int PageSize);

/// <param name="Orders">Paid orders created in the window with lines of this category in this currency.</param>
/// <param name="Units">Units of those lines.</param>
/// <param name="GmvMinor">What was paid for them: the lines' value less their share of a coupon (shipping and tax left out).</param>
/// <param name="CommissionMinor">The platform's commission on GmvMinor at the category's rate.</param>
/// <param name="UnitsWithCost">Units whose SKU had a unit cost when the order was placed.</param>
/// <param name="UnitsWithoutCost">Units whose SKU had none: left out of the margin.</param>
/// <param name="GmvWithCostMinor">GmvMinor of the lines with a cost.</param>
/// <param name="CostOfGoodsMinor">Units × unit cost of the lines with a cost.</param>
/// <param name="MarginMinor">The sellers' gross margin on the lines with a cost: their GMV less cost of goods less commission; null when no line had a cost.</param>
/// <param name="MarginRate">MarginMinor over GmvWithCostMinor; null when no line had a cost.</param>
public sealed record CategoryMarginAmount(string Currency, long Orders, long Units, long GmvMinor, long CommissionMinor, long UnitsWithCost,
    long UnitsWithoutCost, long GmvWithCostMinor, long CostOfGoodsMinor, long? MarginMinor, double? MarginRate);

/// <param name="Category">The SKUs' category as the catalog had it at placement; <c>uncategorized</c> for lines placed before it was kept.</param>
public sealed record CategoryMarginRow(string Category, IReadOnlyList<CategoryMarginAmount> Amounts);

/// <param name="Totals">Per currency over every category (an order of two categories counts once).</param>
/// <param name="Categories">The page's categories by name.</param>
public sealed record CategoryMarginResponse(DateTimeOffset From, DateTimeOffset To, string? SellerId, IReadOnlyList<CategoryMarginAmount> Totals,
    IReadOnlyList<CategoryMarginRow> Categories, long CategoryCount, int Page, int PageSize);

/// <summary>
/// Ad spend, ad ROI per channel and GMV against margin per category (R-DAT-4). Admins and analysts read and record all sellers'
/// (and the platform's own spend); a seller's or ERP key its own seller's only.
/// </summary>
public static class MarketingApi
{
    public const int MaxSpendItems = 1_000;
    public const int MaxPageSize = 200;
    public const string Uncategorized = "uncategorized";

    public static IEndpointRouteBuilder MapMarketingApiV1(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/analytics").WithTags("Analytics");
        api.MapPost("/ad-spend", RecordSpend).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapGet("/ad-roi", AdRoi).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        api.MapGet("/category-margin", CategoryMargin).RequireAuthorization(Policies.AlertReaders).ProducesProblems(403);
        return app;
    }

    public static async Task<Results<Ok<AdSpendResponse>, ValidationProblem, ProblemHttpResult>> RecordSpend(AdSpendRequest request, ClaimsPrincipal user,
        IMarketingAnalytics store, TradeClock clock, CancellationToken cancellationToken)
    {
        var items = request.Items;
        if (items is null || items.Count == 0)
        {
            return new Validation().Add("items", "items is required and must hold at least one day's spend.").Problem();
        }
        if (items.Count > MaxSpendItems)
        {
            return new Validation().Add("items", $"items may hold at most {MaxSpendItems} days' spend per request; got {items.Count}. Split the import.").Problem();
        }
        var caller = Caller.From(user);
        // A seller's key records its own seller's ads only: an item naming another seller refuses the whole request.
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i]?.SellerId is { } named && caller.RefusedFor(named, $"record the ad spend (items[{i}]) of") is { } forbidden)
            {
                return forbidden;
            }
        }
        var results = new AdSpendItemResult[items.Count];
        var entries = new List<(int Index, AdSpendEntry Entry)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var prefix = $"items[{i}].";
            var v = new Validation();
            if (item is null)
            {
                v.Add($"items[{i}]", $"items[{i}] must not be null.");
            }
            else
            {
                var attribution = AdAttribution.Check(v, prefix, item.Channel, item.Campaign);
                if (!AdAttribution.TryParseDay(item.Day, out var day))
                {
                    v.Add($"{prefix}day", $"{prefix}day is required: the day spent, yyyy-MM-dd.");
                }
                if (item.Spend is null)
                {
                    v.Add($"{prefix}spend", $"{prefix}spend is required.");
                }
                else
                {
                    v.Required($"{prefix}spend.amountMinor", item.Spend.AmountMinor);
                    v.Range($"{prefix}spend.amountMinor", item.Spend.AmountMinor, 0, 1_000_000_000_000);
                    v.Currency($"{prefix}spend.currency", item.Spend.Currency);
                }
                if (item.SellerId is not null)
                {
                    v.Identifier($"{prefix}sellerId", item.SellerId);
                }
                if (v.IsValid)
                {
                    entries.Add((i, new AdSpendEntry(item.SellerId ?? caller.ActingSellerId, attribution!.Channel, attribution.Campaign, day,
                        item.Spend!.Currency!, item.Spend.AmountMinor!.Value)));
                    continue;
                }
            }
            var (field, rule) = v.FirstError!.Value;
            results[i] = new AdSpendItemResult(i, AdSpendItemStatus.Invalid, field, rule);
        }
        var changed = entries.Count == 0 ? [] : await store.RecordSpendAsync(entries.Select(e => e.Entry).ToArray(), clock.GetUtcNow(), caller.Name, cancellationToken);
        for (var j = 0; j < entries.Count; j++)
        {
            results[entries[j].Index] = new AdSpendItemResult(entries[j].Index, changed[j] ? AdSpendItemStatus.Recorded : AdSpendItemStatus.Unchanged, null, null);
        }
        return TypedResults.Ok(new AdSpendResponse(results.Count(r => r.Status == AdSpendItemStatus.Recorded),
            results.Count(r => r.Status == AdSpendItemStatus.Unchanged), results.Count(r => r.Status == AdSpendItemStatus.Invalid), results));
    }

    private const string FromDescription = "Orders created from this time (default: 30 days before to); spend of the days starting from then.";
    private const string ToDescription = "Orders created before this time (default: now); at most 92 days after from.";
    private const string SellerDescription = "Only this seller's orders and ad spend (a seller's or ERP key: its own, which is also the default).";

    public static async Task<Results<Ok<AdRoiResponse>, ValidationProblem, ProblemHttpResult>> AdRoi(
        [Description(FromDescription)] DateTimeOffset? from, [Description(ToDescription)] DateTimeOffset? to,
        [Description(SellerDescription)] string? sellerId,
        [Description("Only this channel (unattributed: the orders that named none).")] string? channel,
        ClaimsPrincipal user, IMarketingAnalytics store, TradeClock clock, CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var v = new Validation();
        if (channel is not null && channel != AdAttribution.Unattributed && !AdAttribution.IsChannel(channel))
        {
            v.Add("channel", $"channel is a lowercase slug of 1 to {AdAttribution.MaxChannelLength} letters, digits and dashes, or {AdAttribution.Unattributed}.");
        }
        var (window, seller, refused) = ReportWindow.ForSeller(v, from, to, sellerId, page, pageSize, MaxPageSize, Caller.From(user), clock.GetUtcNow(), "read the ad ROI of");
        if (refused is not null)
        {
            return refused;
        }
        if (seller.Forbidden is { } forbidden)
        {
            return forbidden;
        }
        var (start, end) = window!.Value;
        var (firstDay, endDay) = AdAttribution.Days(start, end);
        var spend = channel == AdAttribution.Unattributed ? [] : await store.SpendAsync(firstDay, endDay, seller.Id, channel, cancellationToken);
        var sales = await store.SalesByChannelAsync(start, end, seller.Id, channel == AdAttribution.Unattributed ? null : channel, cancellationToken);
        if (channel == AdAttribution.Unattributed)
        {
            sales = sales.Where(s => s.Channel is null).ToArray();
        }
        var rows = AdRoiReport.Channels(spend, sales);
        return TypedResults.Ok(new AdRoiResponse(start, end, seller.Id, AdRoiReport.Amounts(spend, sales),
            rows.Skip((page - 1) * pageSize).Take(pageSize).ToArray(), rows.Count, page, pageSize));
    }

    public static async Task<Results<Ok<CategoryMarginResponse>, ValidationProblem, ProblemHttpResult>> CategoryMargin(
        [Description(FromDescription)] DateTimeOffset? from, [Description(ToDescription)] DateTimeOffset? to,
        [Description(SellerDescription)] string? sellerId, ClaimsPrincipal user, IMarketingAnalytics store, TradeClock clock,
        CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var (window, seller, refused) = ReportWindow.ForSeller(new Validation(), from, to, sellerId, page, pageSize, MaxPageSize, Caller.From(user), clock.GetUtcNow(),
            "read the category margin of");
        if (refused is not null)
        {
            return refused;
        }
        if (seller.Forbidden is { } forbidden)
        {
            return forbidden;
        }
        var (start, end) = window!.Value;
        var stats = await store.CategoryMarginAsync(start, end, seller.Id, cancellationToken);
        var totals = await store.CategoryMarginTotalsAsync(start, end, seller.Id, cancellationToken);
        var rows = stats.GroupBy(s => s.Category ?? Uncategorized, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CategoryMarginRow(g.Key, g.GroupBy(s => s.Currency, StringComparer.Ordinal).OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => MarginOf(CategoryMarginStats.Sum(g.Key, c.ToArray()))).ToArray())).ToArray();
        return TypedResults.Ok(new CategoryMarginResponse(start, end, seller.Id,
            totals.OrderBy(s => s.Currency, StringComparer.Ordinal).Select(MarginOf).ToArray(),
            rows.Skip((page - 1) * pageSize).Take(pageSize).ToArray(), rows.Length, page, pageSize));
    }

    /// <summary>
    /// The margin of the lines with a cost: what was paid for them less their cost and the platform's commission (the sellers' gross
    /// margin; shipping, tax, the logistics fee, refunds and payment costs are left out).
    /// </summary>
    public static CategoryMarginAmount MarginOf(CategoryMarginStats s)
    {
        long? margin = s.UnitsWithCost == 0 ? null : s.GmvWithCostMinor - s.CostOfGoodsMinor - s.CommissionWithCostMinor;
        return new CategoryMarginAmount(s.Currency, s.Orders, s.Units, s.GmvMinor, s.CommissionMinor, s.UnitsWithCost, s.Units - s.UnitsWithCost,
            s.GmvWithCostMinor, s.CostOfGoodsMinor, margin,
            margin is { } m && s.GmvWithCostMinor != 0 ? Math.Round((double)m / s.GmvWithCostMinor, 4) : null);
    }
}

/// <summary>
/// Ad ROI (R-DAT-4): per channel and campaign, spend against the paid orders it brought, per currency (spend in one currency is set
/// against GMV in the same one only; nothing is converted). <c>roas</c> = GMV / spend; <c>roi</c> = (GMV − spend) / spend, on GMV,
/// which every order has; where every line of the orders had a unit cost, <c>roiOnMargin</c> = (margin − spend) / spend too.
/// </summary>
public static class AdRoiReport
{
    /// <summary>One row per channel (<c>unattributed</c> last), each with its campaigns (the whole channel's, null, first).</summary>
    public static IReadOnlyList<AdRoiChannel> Channels(IReadOnlyList<ChannelSpend> spend, IReadOnlyList<ChannelSales> sales)
    {
        var channels = spend.Select(s => s.Channel).Concat(sales.Select(s => s.Channel ?? AdAttribution.Unattributed))
            .Distinct(StringComparer.Ordinal)
            .OrderBy(c => c == AdAttribution.Unattributed).ThenBy(c => c, StringComparer.Ordinal);
        var rows = new List<AdRoiChannel>();
        foreach (var channel in channels)
        {
            var channelSpend = spend.Where(s => s.Channel == channel).ToArray();
            var channelSales = sales.Where(s => (s.Channel ?? AdAttribution.Unattributed) == channel).ToArray();
            var campaigns = channelSpend.Select(s => s.Campaign).Concat(channelSales.Select(s => s.Campaign)).Distinct(StringComparer.Ordinal)
                .OrderBy(c => c is not null).ThenBy(c => c, StringComparer.Ordinal)
                .Select(c => new AdRoiCampaign(c, Amounts(channelSpend.Where(s => s.Campaign == c).ToArray(), channelSales.Where(s => s.Campaign == c).ToArray())))
                .ToArray();
            rows.Add(new AdRoiChannel(channel, Amounts(channelSpend, channelSales), campaigns));
        }
        return rows;
    }

    /// <summary>Spend, orders and GMV summed per currency, with their ratios.</summary>
    public static IReadOnlyList<AdRoiAmount> Amounts(IReadOnlyList<ChannelSpend> spend, IReadOnlyList<ChannelSales> sales) =>
        spend.Select(s => s.Currency).Concat(sales.Select(s => s.Currency)).Distinct(StringComparer.Ordinal).OrderBy(c => c, StringComparer.Ordinal)
            .Select(currency =>
            {
                var spent = spend.Where(s => s.Currency == currency).Sum(s => s.SpendMinor);
                var inCurrency = sales.Where(s => s.Currency == currency).ToArray();
                var gmv = inCurrency.Sum(s => s.GmvMinor);
                // Known only when known for every group of orders summed (none: no orders, no margin to speak of).
                long? margin = inCurrency.Length > 0 && inCurrency.All(s => s.MarginMinor is not null) ? inCurrency.Sum(s => s.MarginMinor!.Value) : null;
                return new AdRoiAmount(currency, spent, inCurrency.Sum(s => s.Orders), gmv,
                    spent == 0 ? null : Math.Round((double)gmv / spent, 4), spent == 0 ? null : Math.Round((double)(gmv - spent) / spent, 4),
                    margin, spent == 0 || margin is null ? null : Math.Round((double)(margin.Value - spent) / spent, 4));
            }).ToArray();
}
