using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>The pure rules of sellers' coupons: their limits, their checks, what one takes off an order and how its lines share it.</summary>
public static class CouponRules
{
    public const int MinPercentOff = 1;
    public const int MaxPercentOff = 90;
    public const long MaxAmountMinor = 100_000_000_000;
    public const int MaxRedemptionsLimit = 10_000;
    public const int MaxPerBuyerLimit = 100;
    /// <summary>The most SKUs and categories a coupon of chosen goods names.</summary>
    public const int MaxScopedSkus = 200;
    public const int MaxScopedCategories = 20;
    public const int MaxCategoryLength = 64;

    /// <summary>Every problem with a coupon's terms, each with the request field at fault; empty when they are right.</summary>
    public static IReadOnlyList<(string Field, string Rule)> Check(CouponTerms t)
    {
        var problems = new List<(string, string)>();
        if (t.PercentOff is not null && t.AmountOffMinor is not null)
        {
            problems.Add(("percentOff", "A coupon takes either percentOff (1 to 90) or amountOffMinor off, not both."));
        }
        else if (t.PercentOff is null && t.AmountOffMinor is null && !t.FreeShipping)
        {
            problems.Add(("percentOff", "A coupon takes percentOff (1 to 90) or amountOffMinor off, or gives freeShipping (alone or beside one of them)."));
        }
        if (t.PercentOff is { } percent && percent is < MinPercentOff or > MaxPercentOff)
        {
            problems.Add(("percentOff", $"percentOff must be {MinPercentOff} to {MaxPercentOff}."));
        }
        if (t.AmountOffMinor is { } amount && amount is < 1 or > MaxAmountMinor)
        {
            problems.Add(("amountOffMinor", $"amountOffMinor must be 1 to {MaxAmountMinor} minor units of the coupon's currency."));
        }
        if (t.MaxDiscountMinor is { } cap && (cap is < 1 or > MaxAmountMinor || t.PercentOff is null))
        {
            problems.Add(("maxDiscountMinor", $"maxDiscountMinor caps a percentOff coupon: 1 to {MaxAmountMinor} minor units (leave it out for no cap, or for an amountOffMinor coupon)."));
        }
        if (t.MinSpendMinor is < 0 or > MaxAmountMinor)
        {
            problems.Add(("minSpendMinor", $"minSpendMinor must be 0 to {MaxAmountMinor} minor units of the coupon's currency."));
        }
        if (t.StartsAt is { } starts && t.EndsAt is { } ends && starts >= ends)
        {
            problems.Add(("endsAt", "endsAt must be later than startsAt."));
        }
        if (t.MaxRedemptions is < 1 or > MaxRedemptionsLimit)
        {
            problems.Add(("maxRedemptions", $"maxRedemptions must be 1 to {MaxRedemptionsLimit}: the orders that may use the coupon in all."));
        }
        if (t.MaxPerBuyer is < 1 or > MaxPerBuyerLimit)
        {
            problems.Add(("maxPerBuyer", $"maxPerBuyer must be 1 to {MaxPerBuyerLimit}: the orders one buyer may use the coupon for."));
        }
        if (t.SkuIds is { Count: > MaxScopedSkus })
        {
            problems.Add(("skuIds", $"skuIds names at most {MaxScopedSkus} SKUs; a coupon for more of them may name their categories instead."));
        }
        if (t.Categories is { Count: > MaxScopedCategories })
        {
            problems.Add(("categories", $"categories names at most {MaxScopedCategories} categories."));
        }
        if (t.Categories?.Any(c => string.IsNullOrWhiteSpace(c) || c.Length > MaxCategoryLength) == true)
        {
            problems.Add(("categories", $"Each category is a SKU catalog's category: 1 to {MaxCategoryLength} characters."));
        }
        return problems;
    }

    /// <summary>
    /// The terms as stored: SKU ids and categories without repeats, in ordinal order (categories trimmed; the first spelling of
    /// one kept when others differ only by case), and empty lists as none.
    /// </summary>
    public static CouponTerms Normalize(CouponTerms t) => t with
    {
        SkuIds = t.SkuIds is { Count: > 0 } ids ? ids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray() : null,
        Categories = t.Categories is { Count: > 0 } categories
            ? categories.Select(c => c.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToArray()
            : null,
    };

    /// <summary>The same terms (records compare lists by reference; these compare them by their items).</summary>
    public static bool Same(CouponTerms a, CouponTerms b) =>
        a with { SkuIds = null, Categories = null } == b with { SkuIds = null, Categories = null }
        && (a.SkuIds ?? []).SequenceEqual(b.SkuIds ?? [], StringComparer.Ordinal)
        && (a.Categories ?? []).SequenceEqual(b.Categories ?? [], StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the coupon applies to a line of this SKU and category: any line when it names neither SKUs nor categories.</summary>
    public static bool AppliesTo(CouponTerms t, string skuId, string category) =>
        !t.Scoped
        || t.SkuIds?.Contains(skuId, StringComparer.Ordinal) == true
        || t.Categories?.Contains(category.Trim(), StringComparer.OrdinalIgnoreCase) == true;

    /// <summary>
    /// The goods a redemption counts: with the order's lines, those the coupon applies to (and which they are); without them
    /// (a caller of an earlier release), all of <paramref name="goods"/>.
    /// </summary>
    public static (Money Goods, IReadOnlyList<bool>? Eligible) EligibleGoods(CouponTerms t, Money goods, IReadOnlyList<CouponLine>? lines)
    {
        if (lines is null || !t.Scoped)
        {
            return (goods, null);
        }
        var eligible = lines.Select(l => AppliesTo(t, l.SkuId, l.Category)).ToArray();
        var value = lines.Where((_, i) => eligible[i]).Aggregate(0L, (sum, l) => checked(sum + l.ValueMinor));
        return (new Money(value, goods.Currency), eligible);
    }

    /// <summary>Why a coupon of chosen goods does not apply to a cart that holds none of them.</summary>
    public static string NoneEligible(CouponTerms t) =>
        $"Coupon '{t.Code}' applies only to chosen goods of its seller" +
        (t.SkuIds is { Count: > 0 } ids ? $" (SKUs {string.Join(", ", ids.Take(5))}{(ids.Count > 5 ? ", …" : "")})" : "") +
        (t.Categories is { Count: > 0 } categories ? $" (categories {string.Join(", ", categories)})" : "") +
        ", and this cart holds none of them.";

    /// <summary>
    /// Why the coupon cannot be redeemed by an order of <paramref name="goods"/> (list value) at <paramref name="at"/>, with
    /// <paramref name="redeemed"/> redemptions counting in all and <paramref name="redeemedByBuyer"/> by this buyer; null when it can.
    /// </summary>
    public static string? Refusal(CouponTerms t, Money goods, DateTimeOffset at, int redeemed, int redeemedByBuyer)
    {
        if (!t.Enabled)
        {
            return $"Coupon '{t.Code}' is disabled by its seller.";
        }
        if (t.StartsAt is { } starts && at < starts)
        {
            return $"Coupon '{t.Code}' is valid from {starts:u}, not yet.";
        }
        if (t.EndsAt is { } ends && at >= ends)
        {
            return $"Coupon '{t.Code}' expired at {ends:u}.";
        }
        if (goods.Currency != t.Currency)
        {
            return $"Coupon '{t.Code}' is in {t.Currency}; this seller's goods are priced in {goods.Currency}.";
        }
        if (goods.AmountMinor < t.MinSpendMinor)
        {
            return t.Scoped
                ? $"Coupon '{t.Code}' needs at least {t.MinSpendMinor} {t.Currency} (minor units) of the goods it applies to; the cart holds {goods.AmountMinor} of them."
                : $"Coupon '{t.Code}' needs at least {t.MinSpendMinor} {t.Currency} (minor units) of its seller's goods; the cart holds {goods.AmountMinor}.";
        }
        if (redeemed >= t.MaxRedemptions)
        {
            return $"Coupon '{t.Code}' has been used as many times as its seller allows ({t.MaxRedemptions}).";
        }
        if (redeemedByBuyer >= t.MaxPerBuyer)
        {
            return $"Coupon '{t.Code}' may be used {t.MaxPerBuyer} time(s) per buyer, and this buyer has used it so.";
        }
        return null;
    }

    /// <summary>What the coupon takes off goods of <paramref name="goodsMinor"/>: a percentage rounded down (capped), or a fixed amount; never more than the goods.</summary>
    public static long Discount(CouponTerms t, long goodsMinor)
    {
        var off = t.PercentOff is { } percent
            ? (long)Math.Floor(goodsMinor * (decimal)percent / 100)
            : t.AmountOffMinor ?? 0; // free shipping alone takes nothing off the goods
        if (t.MaxDiscountMinor is { } cap)
        {
            off = Math.Min(off, cap);
        }
        return Math.Clamp(off, 0, goodsMinor);
    }

    /// <summary>
    /// Shares <paramref name="discountMinor"/> among lines in proportion to their values (largest remainder): each line gets its
    /// share rounded down, and the units left go one each to the lines with the largest remainders (the first such line on a tie),
    /// so the shares sum to the discount exactly and no line's share passes its value.
    /// </summary>
    public static long[] Allocate(IReadOnlyList<long> lineValues, long discountMinor)
    {
        var shares = new long[lineValues.Count];
        var total = lineValues.Sum();
        if (discountMinor <= 0 || total <= 0)
        {
            return shares;
        }
        if (discountMinor > total)
        {
            throw new ArgumentOutOfRangeException(nameof(discountMinor), "A discount never passes the goods' value.");
        }
        var remainders = new (decimal Remainder, int Index)[lineValues.Count];
        long given = 0;
        for (var i = 0; i < lineValues.Count; i++)
        {
            var exact = lineValues[i] * (decimal)discountMinor / total;
            shares[i] = (long)Math.Floor(exact);
            given += shares[i];
            remainders[i] = (exact - shares[i], i);
        }
        foreach (var (_, index) in remainders.OrderByDescending(r => r.Remainder).ThenBy(r => r.Index).Take((int)(discountMinor - given)))
        {
            shares[index]++;
        }
        return shares;
    }
}
