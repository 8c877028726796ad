using System.ComponentModel;
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

/// <summary>A variant's events at one time: <paramref name="Visitors"/> buyers first exposed and <paramref name="Converted"/> exposed buyers converting.</summary>
public readonly record struct VariantStep(DateTimeOffset At, long Visitors, long Converted);

/// <summary>A variant's events in time order (each step later than the one before): they add up to its counts.</summary>
public sealed record VariantHistory(string Variant, IReadOnlyList<VariantStep> Steps)
{
    public VariantCounts Counts => new(Variant, Steps.Sum(s => s.Visitors), Steps.Sum(s => s.Converted));
}

/// <summary>A challenger's test against the control.</summary>
/// <param name="PValue">Null until the test looks (both sides have their visitors and conversions).</param>
/// <param name="SignificantSince">When the p-value first fell under the threshold; null if it never did (and without a history).</param>
/// <param name="Better">Whether the challenger converted better than the control when it became significant (when not significant: now).</param>
public readonly record struct ChallengerTest(double? PValue, DateTimeOffset? SignificantSince, bool Better);

/// <param name="ConversionRate">Converted over Visitors; null without visitors.</param>
/// <param name="Uplift">The rate's change against the control's, relative (0.25: a quarter more); null for the control or without rates.</param>
/// <param name="PValue">Against the control, by the experiment's method; null for the control and until tested.</param>
/// <param name="Significant">PValue under the experiment's threshold (1 − confidence, divided among the variants compared with the control).</param>
/// <param name="SignificantSince">Sequential only: when the p-value first fell under the threshold.</param>
public sealed record VariantResult(string Variant, int Weight, bool Control, long Visitors, long Converted, double? ConversionRate, double? Uplift,
    [property: Description("Against the control; null for the control and until tested. sequential: the always-valid p-value, the lowest 1 over the mixture likelihood ratio reached over the data's history (replayed a minute at a time from exposure and order times, looking once the control and the challenger each have minVisitorsPerVariant visitors and at least 5 converted and 5 not; while the experiment runs, the minute in progress is counted but looked at once it has ended), so a significant result stays significant; fixedHorizon: a two-sided pooled two-proportion z-test on the counts now.")]
    double? PValue,
    [property: Description("pValue under the experiment's threshold: 1 − confidence divided by the number of challengers.")] bool Significant,
    [property: Description("sequential: the start of the minute in which pValue first fell under the threshold, the time the difference was called (null if it never did; always null for fixedHorizon). Reproducible: the same whenever the results are read.")]
    DateTimeOffset? SignificantSince = null);

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

    /// <summary>
    /// Conversions and non-conversions each side needs before the sequential test looks: its normal approximation of the rates'
    /// difference is poor on fewer (a rate of 0 or 1 has no variance at all). Equal variants of 30% read after every visitor from
    /// the tenth, with minDetectableEffect 0.3, were called in 5.7% of 2,000 simulated experiments without it, 2.75% with it.
    /// </summary>
    public const long MinOutcomesPerSide = 5;

    /// <summary>
    /// The sequential test of a challenger against the control over their histories: the events replayed in time order (those at
    /// the same time together), 1/Λ evaluated after each time at which both sides have <paramref name="minVisitors"/> visitors and
    /// <see cref="MinOutcomesPerSide"/> conversions and non-conversions, and the lowest kept. The lowest is the always-valid p-value
    /// (the chance it ever falls under α for equal variants is at most α), so a difference once significant stays so; the same
    /// histories give the same answer whenever they are read. With <paramref name="looksBefore"/>, steps from it on are not looked
    /// at: a bucket still filling (the minute in progress) would be looked at again, with more events, at a later read.
    /// </summary>
    public static ChallengerTest Replay(IReadOnlyList<VariantStep> control, IReadOnlyList<VariantStep> challenger, double tau, double threshold,
        long minVisitors, DateTimeOffset? looksBefore = null)
    {
        long n1 = 0, c1 = 0, n2 = 0, c2 = 0;
        int i = 0, j = 0;
        double? lowest = null;
        DateTimeOffset? since = null;
        var better = false;
        var last = DateTimeOffset.MinValue;
        while (i < control.Count || j < challenger.Count)
        {
            var at = i == control.Count ? challenger[j].At
                : j == challenger.Count || control[i].At <= challenger[j].At ? control[i].At : challenger[j].At;
            if (at < last)
            {
                throw new ArgumentException("A variant's steps must be in time order.");
            }
            if (at >= looksBefore)
            {
                break;
            }
            last = at;
            for (; i < control.Count && control[i].At == at; i++)
            {
                (n1, c1) = (n1 + control[i].Visitors, c1 + control[i].Converted);
            }
            for (; j < challenger.Count && challenger[j].At == at; j++)
            {
                (n2, c2) = (n2 + challenger[j].Visitors, c2 + challenger[j].Converted);
            }
            if (n1 < minVisitors || n2 < minVisitors || Math.Min(c1, c2) < MinOutcomesPerSide || Math.Min(n1 - c1, n2 - c2) < MinOutcomesPerSide)
            {
                continue;
            }
            var p = SequentialPValue(n1, c1, n2, c2, tau)!.Value;
            lowest = lowest is { } l && l <= p ? l : p;
            if (since is null)
            {
                // The direction is the one shown when the difference was called: later data does not turn a called winner into a loser.
                better = c2 * n1 > c1 * n2;
                since = p < threshold ? at : null;
            }
        }
        return new ChallengerTest(lowest, since, better);
    }

    /// <summary>
    /// Each variant's figures against the control (the first variant), the decision, and the winner if there is one, from the counts
    /// now: the sequential test then looks once (see <see cref="DecideFromHistory"/>).
    /// </summary>
    public static (IReadOnlyList<VariantResult> Variants, ExperimentDecision Decision, string? Winner) Decide(ExperimentTerms terms, IReadOnlyList<VariantCounts> counts) =>
        Decide(terms, counts, null);

    /// <summary>
    /// As from the counts (their sums, every step), with the sequential test replayed over the histories (the steps before
    /// <paramref name="looksBefore"/>, if given): its p-value is the lowest reached, with the time it fell under the threshold. A
    /// fixed-horizon experiment's z-test reads the counts only.
    /// </summary>
    public static (IReadOnlyList<VariantResult> Variants, ExperimentDecision Decision, string? Winner) DecideFromHistory(ExperimentTerms terms,
        IReadOnlyList<VariantHistory> history, DateTimeOffset? looksBefore = null) =>
        Decide(terms, history.Select(h => h.Counts).ToArray(), history.ToDictionary(h => h.Variant, h => h.Steps, StringComparer.Ordinal), looksBefore);

    private static (IReadOnlyList<VariantResult> Variants, ExperimentDecision Decision, string? Winner) Decide(ExperimentTerms terms,
        IReadOnlyList<VariantCounts> counts, Dictionary<string, IReadOnlyList<VariantStep>>? history, DateTimeOffset? looksBefore = null)
    {
        var byName = counts.ToDictionary(c => c.Variant, StringComparer.Ordinal);
        VariantCounts Of(ExperimentVariant v) => byName.GetValueOrDefault(v.Name) ?? new VariantCounts(v.Name, 0, 0);
        IReadOnlyList<VariantStep> StepsOf(ExperimentVariant v) => history is null
            ? [new VariantStep(DateTimeOffset.MinValue, Of(v).Visitors, Of(v).Converted)]
            : history.GetValueOrDefault(v.Name) ?? [];
        var control = Of(terms.Variants[0]);
        double? Rate(VariantCounts c) => c.Visitors == 0 ? null : (double)c.Converted / c.Visitors;
        var controlRate = Rate(control);
        // Each challenger is compared with the control: the chance of a false winner stays within 1 − confidence in all.
        var threshold = (1 - terms.Confidence) / Math.Max(1, terms.Variants.Count - 1);
        var tests = terms.Variants.Select((v, i) =>
        {
            var c = Of(v);
            if (i == 0)
            {
                return default;
            }
            if (terms.Method == ExperimentMethod.FixedHorizon)
            {
                return new ChallengerTest(PValue(control.Visitors, control.Converted, c.Visitors, c.Converted), null,
                    c.Converted * control.Visitors > control.Converted * c.Visitors);
            }
            var test = Replay(StepsOf(terms.Variants[0]), StepsOf(v), terms.MinDetectableEffect, threshold, terms.MinVisitorsPerVariant, looksBefore);
            return history is null ? test with { SignificantSince = null } : test;
        }).ToArray();
        var results = terms.Variants.Select((v, i) =>
        {
            var c = Of(v);
            var rate = Rate(c);
            if (i == 0)
            {
                return new VariantResult(v.Name, v.Weight, true, c.Visitors, c.Converted, Round(rate), null, null, false);
            }
            var p = tests[i].PValue;
            double? uplift = rate is { } r && controlRate is > 0 ? Math.Round(r / controlRate.Value - 1, 4) : null;
            return new VariantResult(v.Name, v.Weight, false, c.Visitors, c.Converted, Round(rate), uplift, p is { } pv ? Math.Round(pv, 6) : null,
                p < threshold, tests[i].SignificantSince);
        }).ToArray();
        if (results.Any(r => r.Visitors < terms.MinVisitorsPerVariant))
        {
            return (results, ExperimentDecision.NotEnoughVisitors, null);
        }
        var better = results.Where((r, i) => !r.Control && r.Significant && tests[i].Better)
            .OrderByDescending(r => r.ConversionRate).ThenBy(r => r.Variant, StringComparer.Ordinal).FirstOrDefault();
        if (better is not null)
        {
            return (results, ExperimentDecision.VariantWins, better.Variant);
        }
        return results.Skip(1).Select((r, i) => r.Significant && !tests[i + 1].Better).All(worse => worse)
            ? (results, ExperimentDecision.ControlWins, results[0].Variant)
            : (results, ExperimentDecision.NoSignificantDifference, null);
    }

    private static double? Round(double? rate) => rate is { } r ? Math.Round(r, 4) : null;
}
