namespace Orleans.Trade.Api.Analytics;

/// <summary>The steps of the conversion funnel (R-DAT-2), in order: three the storefront reports, two the platform's orders tell.</summary>
public enum FunnelStep { View, Cart, Checkout, Placed, Paid }

/// <summary>What a storefront reports of a buyer; the value is the step's bit in a visitor's mask (<see cref="Funnel.Bit"/>).</summary>
public enum StorefrontEventKind { View = 1, Cart = 2, Checkout = 4 }

/// <param name="Buyers">Distinct visitors in this step and in every step before it in the window (the strict funnel).</param>
/// <param name="Reached">Distinct visitors in this step in the window, whatever they did before.</param>
/// <param name="StepConversion">Buyers over the previous step's Buyers; null for the first step and after an empty step.</param>
/// <param name="OverallConversion">Buyers over the first step's Buyers; null when no one viewed.</param>
/// <param name="Lost">The previous step's Buyers who did not come to this one (0 for the first).</param>
public sealed record FunnelStepRow(FunnelStep Step, long Buyers, long Reached, double? StepConversion, double? OverallConversion, long Lost);

/// <summary>The step where most buyers of the strict funnel dropped out: they were in <paramref name="From"/> and not in <paramref name="To"/>.</summary>
/// <param name="Share">Lost over From's buyers.</param>
public sealed record FunnelDropOff(FunnelStep From, FunnelStep To, long Lost, double Share);

/// <param name="Conversion">Viewed to paid: the last step's overall conversion; null when no one viewed.</param>
/// <param name="DropOff">The biggest step loss (the earliest of equal ones); null when no step lost anyone.</param>
public sealed record FunnelFigures(IReadOnlyList<FunnelStepRow> Steps, double? Conversion, FunnelDropOff? DropOff);

/// <summary>How many visitors had exactly the steps of <paramref name="Mask"/> (bits of <see cref="Funnel.Bit"/>) on a day.</summary>
/// <param name="Day">Days since 1970-01-01 (UTC) of the steps, or 0 for a whole window counted as one.</param>
public readonly record struct FunnelMaskCount(long Day, int Mask, long Visitors);

/// <summary>
/// The funnel's arithmetic over visitors' step masks: a visitor's mask has the bit of each step they took in the window; the
/// strict funnel counts a visitor in a step only when every step before it is in their mask too (in any order within the window).
/// </summary>
public static class Funnel
{
    public static readonly IReadOnlyList<FunnelStep> Steps = Enum.GetValues<FunnelStep>();

    /// <summary>The bits of the storefront's steps: a visitor with none of them is only an order's buyer.</summary>
    public const int StorefrontBits = 1 | 2 | 4;

    public static int Bit(FunnelStep step) => 1 << (int)step;

    /// <summary>
    /// The figures of one set of visitors' masks. With <paramref name="storefrontVisitorsOnly"/> (a SKU's funnel), visitors with no
    /// storefront event are left out: their orders are the seller's, not known to be of this SKU.
    /// </summary>
    public static FunnelFigures Figures(IEnumerable<(int Mask, long Visitors)> masks, bool storefrontVisitorsOnly)
    {
        var strict = new long[Steps.Count];
        var reached = new long[Steps.Count];
        foreach (var (mask, visitors) in masks)
        {
            if (storefrontVisitorsOnly && (mask & StorefrontBits) == 0)
            {
                continue;
            }
            var inFunnel = true;
            for (var k = 0; k < Steps.Count; k++)
            {
                var took = (mask & (1 << k)) != 0;
                if (took) reached[k] += visitors;
                inFunnel &= took;
                if (inFunnel) strict[k] += visitors;
            }
        }
        var rows = new FunnelStepRow[Steps.Count];
        FunnelDropOff? dropOff = null;
        for (var k = 0; k < Steps.Count; k++)
        {
            var lost = k == 0 ? 0 : strict[k - 1] - strict[k];
            rows[k] = new FunnelStepRow(Steps[k], strict[k], reached[k], k == 0 ? null : Rate(strict[k], strict[k - 1]), Rate(strict[k], strict[0]), lost);
            if (lost > 0 && (dropOff is null || lost > dropOff.Lost))
            {
                dropOff = new FunnelDropOff(Steps[k - 1], Steps[k], lost, Rate(lost, strict[k - 1])!.Value);
            }
        }
        return new FunnelFigures(rows, rows[^1].OverallConversion, dropOff);
    }

    /// <summary>A share to four decimals; null without a whole.</summary>
    public static double? Rate(long part, long whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);
}
