using System.Globalization;
using System.Text.RegularExpressions;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Api.Analytics;

/// <summary>
/// The rules of an ad attribution (R-DAT-4), shared by the checkout and the ad-spend import: a channel is a lowercase slug of 1 to 40
/// letters, digits and dashes (<c>google-ads</c>, <c>affiliate</c>, <c>email</c>, <c>organic</c>), a campaign 1 to 100 printable
/// characters. <see cref="Unattributed"/> is what ad ROI calls orders with no channel, so no channel may be named that.
/// </summary>
public static partial class AdAttribution
{
    public const int MaxChannelLength = 40;
    public const int MaxCampaignLength = 100;
    public const string Unattributed = "unattributed";

    [GeneratedRegex("^[a-z0-9-]{1,40}$")]
    private static partial Regex ChannelPattern();

    public static bool IsChannel(string? channel) => channel is not null && ChannelPattern().IsMatch(channel) && channel != Unattributed;

    public static bool IsCampaign(string? campaign) =>
        campaign is { Length: >= 1 and <= MaxCampaignLength } && !campaign.Any(char.IsControl) && !string.IsNullOrWhiteSpace(campaign);

    /// <summary>Checks a channel and campaign (fields named under <paramref name="prefix"/>), adding what is wrong to <paramref name="v"/>.</summary>
    public static OrderAttribution? Check(Validation v, string prefix, string? channel, string? campaign)
    {
        if (!IsChannel(channel))
        {
            v.Add($"{prefix}channel", channel is null
                ? $"{prefix}channel is required."
                : $"{prefix}channel is a lowercase slug of 1 to {MaxChannelLength} letters, digits and dashes (e.g. google-ads, affiliate, email, organic), not '{Unattributed}'.");
        }
        if (campaign is not null && !IsCampaign(campaign))
        {
            v.Add($"{prefix}campaign", $"{prefix}campaign is 1 to {MaxCampaignLength} printable characters (not blank), or left out.");
        }
        return v.IsValid ? new OrderAttribution(channel!, campaign) : null;
    }

    /// <summary>
    /// The days whose spend counts in the window [<paramref name="from"/>, <paramref name="to"/>): those whose start (midnight UTC) is
    /// in it, as [first, end) — the spend of a day the window only partly covers counts in the window holding its start.
    /// </summary>
    public static (DateOnly First, DateOnly End) Days(DateTimeOffset from, DateTimeOffset to)
    {
        static DateOnly AtOrAfter(DateTimeOffset at)
        {
            var day = DateOnly.FromDateTime(at.UtcDateTime);
            // The calendar's last day has no next one: a window ending in it stops before it (no 500 for a far-off end).
            return at.UtcDateTime.TimeOfDay == TimeSpan.Zero || day == DateOnly.MaxValue ? day : day.AddDays(1);
        }
        return (AtOrAfter(from), AtOrAfter(to));
    }

    public static bool TryParseDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
}

/// <summary>A day's ad spend of a seller (or the platform's, <see cref="SellerId"/> null) on a channel (and campaign, or the whole channel).</summary>
public sealed record AdSpendEntry(string? SellerId, string Channel, string? Campaign, DateOnly Day, string Currency, long AmountMinor);

/// <summary>Ad spend summed per channel, campaign (null: on the channel as a whole) and currency.</summary>
public sealed record ChannelSpend(string Channel, string? Campaign, string Currency, long SpendMinor);

/// <summary>
/// Paid orders and their goods value per channel (null: unattributed), campaign and currency, and the sellers' gross margin on them
/// (GMV less cost of goods less commission) when it is known: every order has its line facts and every line a unit cost (else null).
/// </summary>
public sealed record ChannelSales(string? Channel, string? Campaign, string Currency, long Orders, long GmvMinor, long? MarginMinor = null);

/// <summary>
/// The lines of paid orders of one category (null: lines placed before categories were kept) in one currency: orders, units, what
/// was paid for them, the commission on it, and of the lines with a unit cost their units, paid value, commission and cost.
/// </summary>
public sealed record CategoryMarginStats(string? Category, string Currency, long Orders, long Units, long GmvMinor, long CommissionMinor,
    long UnitsWithCost, long GmvWithCostMinor, long CommissionWithCostMinor, long CostOfGoodsMinor)
{
    /// <summary>
    /// The sum of groups of one currency that read as one category: lines with no category (placed before categories were kept) and
    /// a category a seller named <c>uncategorized</c>. An order's lines were placed at one time, so no order is in both.
    /// </summary>
    public static CategoryMarginStats Sum(string? category, IReadOnlyList<CategoryMarginStats> groups) => groups.Count == 1
        ? groups[0]
        : new(category, groups[0].Currency, groups.Sum(g => g.Orders), groups.Sum(g => g.Units), groups.Sum(g => g.GmvMinor),
            groups.Sum(g => g.CommissionMinor), groups.Sum(g => g.UnitsWithCost), groups.Sum(g => g.GmvWithCostMinor),
            groups.Sum(g => g.CommissionWithCostMinor), groups.Sum(g => g.CostOfGoodsMinor));
}

/// <summary>Ad spend and what the marketing analytics read of the order rows and line facts (implemented by the silo over the database).</summary>
public interface IMarketingAnalytics
{
    /// <summary>
    /// Upserts each entry by (seller or platform, channel, campaign, day, currency), in order, in one transaction: true where the stored
    /// amount changed (or the row is new), false where it already was this amount.
    /// </summary>
    Task<bool[]> RecordSpendAsync(IReadOnlyList<AdSpendEntry> entries, DateTimeOffset at, string recordedBy, CancellationToken cancellationToken);

    /// <summary>
    /// Spend of the days [<paramref name="firstDay"/>, <paramref name="endDay"/>): all of it (sellers' and the platform's) or one seller's;
    /// one channel's when given.
    /// </summary>
    Task<IReadOnlyList<ChannelSpend>> SpendAsync(DateOnly firstDay, DateOnly endDay, string? sellerId, string? channel, CancellationToken cancellationToken);

    /// <summary>The paid orders created in [<paramref name="from"/>, <paramref name="to"/>) (as the service score counts them) per channel.</summary>
    Task<IReadOnlyList<ChannelSales>> SalesByChannelAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, string? channel,
        CancellationToken cancellationToken);

    /// <summary>The lines of the paid orders created in [<paramref name="from"/>, <paramref name="to"/>) per category and currency.</summary>
    Task<IReadOnlyList<CategoryMarginStats>> CategoryMarginAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId, CancellationToken cancellationToken);

    /// <summary>The same lines per currency over all categories (an order of two categories is one order here).</summary>
    Task<IReadOnlyList<CategoryMarginStats>> CategoryMarginTotalsAsync(DateTimeOffset from, DateTimeOffset to, string? sellerId,
        CancellationToken cancellationToken);
}
