using System.Security.Cryptography;
using System.Text;
using Orleans.Trade.Analytics;

namespace Orleans.Trade.Api.Analytics;

/// <summary>Which variant a visitor sees: a hash of the experiment and the visitor into 10,000 buckets, split by the weights.</summary>
public static class ExperimentBuckets
{
    public const int Buckets = 10_000;

    /// <summary>The visitor's bucket, 0 to 9,999: the same for the same experiment and visitor on every silo and release.</summary>
    public static int Bucket(string experimentId, string visitor)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(experimentId + "\n" + visitor), hash);
        return (int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash) % Buckets);
    }

    public static ExperimentVariant Variant(IReadOnlyList<ExperimentVariant> variants, string experimentId, string visitor)
    {
        var bucket = Bucket(experimentId, visitor);
        var upTo = 0;
        foreach (var variant in variants)
        {
            upTo += variant.Weight * (Buckets / 100);
            if (bucket < upTo)
            {
                return variant;
            }
        }
        return variants[^1];
    }
}

/// <summary>A variant's exposed visitors and those of them who converted.</summary>
public sealed record VariantCounts(string Variant, long Visitors, long Converted);

/// <param name="ConversionRate">Converted over Visitors; null without visitors.</param>
/// <param name="Uplift">The rate's change against the control's, relative (0.25: a quarter more); null for the control or without rates.</param>
/// <param name="PValue">Against the control, by the experiment's method (sequential: always valid; fixedHorizon: a two-sided pooled
/// two-proportion z-test); null for the control or without visitors on either side.</param>
/// <param name="Significant">PValue under the experiment's threshold (1 − confidence, divided among the variants compared with the control).</param>
public sealed record VariantResult(string Variant, int Weight, bool Control, long Visitors, long Converted, double? ConversionRate, double? Uplift,
    double? PValue, bool Significant);

/// <summary>Why an experiment has a winner or not yet.</summary>
public enum ExperimentDecision
{
    /// <summary>A variant converts better than the control, significantly: the one with the best rate among those wins.</summary>
    VariantWins,
    /// <summary>Every other variant converts worse than the control, significantly: the control wins.</summary>
    ControlWins,
    /// <summary>A variant has fewer exposed visitors than the experiment's minimum.</summary>
    NotEnoughVisitors,
    /// <summary>Enough visitors, no significant difference (yet; once ended: none found).</summary>
    NoSignificantDifference,
}

/// <summary>The statistics of an A/B test: rates, tests against the control (sequential or fixed-horizon, Bonferroni-corrected), the winner.</summary>
public static class ExperimentStatistics
{
    /// <summary>The two-sided p-value that rates c1/n1 and c2/n2 differ (pooled two-proportion z-test); null when a side has no visitors.</summary>
    public static double? PValue(long n1, long c1, long n2, long c2)
    {
        if (n1 == 0 || n2 == 0)
        {
            return null;
        }
        var pooled = (double)(c1 + c2) / (n1 + n2);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
        if (se == 0)
        {
            // Both sides all converted or none did: no difference to test.
            return 1;
        }
        var z = Math.Abs((double)c2 / n2 - (double)c1 / n1) / se;
        return Math.Clamp(2 * (1 - NormalCdf(z)), 0, 1);
    }

    /// <summary>
    /// The always-valid p-value that rates c1/n1 and c2/n2 differ: 1 over the likelihood ratio of a mixture sequential probability
    /// ratio test (Johari, Pekelis and Walsh), the difference of the rates taken as normal with the unpooled variance V and the
    /// alternative's effects mixed as N(0, <paramref name="tau"/>²): Λ = √(V / (V + τ²)) · exp(τ²·d² / (2·V·(V + τ²))). However often it is
    /// read, the chance that it ever falls under α when the rates are equal is at most α. Null when a side has no visitors.
    /// </summary>
    public static double? SequentialPValue(long n1, long c1, long n2, long c2, double tau)
    {
        if (n1 == 0 || n2 == 0)
        {
            return null;
        }
        double r1 = (double)c1 / n1, r2 = (double)c2 / n2;
        var v = r1 * (1 - r1) / n1 + r2 * (1 - r2) / n2;
        if (v == 0)
        {
            return 1;
        }
        var t2 = tau * tau;
        var d = r2 - r1;
        var logLambda = 0.5 * Math.Log(v / (v + t2)) + t2 * d * d / (2 * v * (v + t2));
        return Math.Clamp(Math.Exp(-logLambda), 0, 1);
    }

    /// <summary>The standard normal distribution function, through erf (Abramowitz and Stegun 7.1.26: error under 1.5e-7).</summary>
    public static double NormalCdf(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + 0.3275911 * x);
        var erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }

    /// <summary>Each variant's figures against the control (the first variant), the decision, and the winner if there is one.</summary>
    public static (IReadOnlyList<VariantResult> Variants, ExperimentDecision Decision, string? Winner) Decide(ExperimentTerms terms, IReadOnlyList<VariantCounts> counts)
    {
        var byName = counts.ToDictionary(c => c.Variant, StringComparer.Ordinal);
        VariantCounts Of(ExperimentVariant v) => byName.GetValueOrDefault(v.Name) ?? new VariantCounts(v.Name, 0, 0);
        var control = Of(terms.Variants[0]);
        double? Rate(VariantCounts c) => c.Visitors == 0 ? null : (double)c.Converted / c.Visitors;
        var controlRate = Rate(control);
        // Each challenger is compared with the control: the chance of a false winner stays within 1 − confidence in all.
        var threshold = (1 - terms.Confidence) / Math.Max(1, terms.Variants.Count - 1);
        var results = terms.Variants.Select((v, i) =>
        {
            var c = Of(v);
            var rate = Rate(c);
            if (i == 0)
            {
                return new VariantResult(v.Name, v.Weight, true, c.Visitors, c.Converted, Round(rate), null, null, false);
            }
            var p = terms.Method == ExperimentMethod.Sequential
                ? SequentialPValue(control.Visitors, control.Converted, c.Visitors, c.Converted, terms.MinDetectableEffect)
                : PValue(control.Visitors, control.Converted, c.Visitors, c.Converted);
            double? uplift = rate is { } r && controlRate is > 0 ? Math.Round(r / controlRate.Value - 1, 4) : null;
            return new VariantResult(v.Name, v.Weight, false, c.Visitors, c.Converted, Round(rate), uplift, p is { } pv ? Math.Round(pv, 6) : null,
                p < threshold);
        }).ToArray();
        if (results.Any(r => r.Visitors < terms.MinVisitorsPerVariant))
        {
            return (results, ExperimentDecision.NotEnoughVisitors, null);
        }
        var better = results.Where(r => !r.Control && r.Significant && r.ConversionRate > controlRate)
            .OrderByDescending(r => r.ConversionRate).ThenBy(r => r.Variant, StringComparer.Ordinal).FirstOrDefault();
        if (better is not null)
        {
            return (results, ExperimentDecision.VariantWins, better.Variant);
        }
        return results.Where(r => !r.Control).All(r => r.Significant && r.ConversionRate < controlRate)
            ? (results, ExperimentDecision.ControlWins, results[0].Variant)
            : (results, ExperimentDecision.NoSignificantDifference, null);
    }

    private static double? Round(double? rate) => rate is { } r ? Math.Round(r, 4) : null;
}
