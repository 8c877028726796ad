using System.Globalization;
using System.Text;

namespace Orleans.Trade.Risk;

/// <summary>Precision and recall when every payment scoring at or above <see cref="Threshold"/> is flagged.</summary>
public sealed record ThresholdMetrics(int Threshold, int Flagged, int TruePositives, double Precision, double Recall);

/// <summary>
/// How well scores separate fraud on a labelled set: AUC-ROC (ties count half), AUPRC as average precision (precision at
/// each distinct probability, weighted by the recall it adds), and precision/recall at the review and block thresholds.
/// </summary>
public sealed record RiskMetrics(
    int Payments,
    int Fraud,
    double AucRoc,
    double Auprc,
    ThresholdMetrics Review,
    ThresholdMetrics Block)
{
    /// <summary>Metrics of (label, probability) pairs; scores are <see cref="RiskScoring.ScoreOf"/> of the probability.</summary>
    public static RiskMetrics Compute(IReadOnlyList<(bool IsFraud, double Probability)> scored, int reviewThreshold, int blockThreshold)
    {
        var fraud = scored.Count(s => s.IsFraud);
        return new RiskMetrics(
            scored.Count,
            fraud,
            AreaUnderRoc(scored, fraud),
            AveragePrecision(scored, fraud),
            AtThreshold(scored, fraud, reviewThreshold),
            AtThreshold(scored, fraud, blockThreshold));
    }

    /// <summary>The lines <c>risk train</c> and <c>risk evaluate</c> print: the same numbers print the same text.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        var rate = Payments == 0 ? 0 : (double)Fraud / Payments;
        text.AppendLine(CultureInfo.InvariantCulture, $"  payments {Payments}, fraud {Fraud} ({rate:P2})");
        text.AppendLine(CultureInfo.InvariantCulture, $"  AUC-ROC {AucRoc:F4}  AUPRC {Auprc:F4}");
        foreach (var (name, t) in new[] { ("review", Review), ("block", Block) })
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {name,-6} score >= {t.Threshold,3}: precision {t.Precision:F4}  recall {t.Recall:F4}  (flagged {t.Flagged}, fraud caught {t.TruePositives})");
        }
        return text.ToString();
    }

    private static double AreaUnderRoc(IReadOnlyList<(bool IsFraud, double Probability)> scored, int fraud)
    {
        var legit = scored.Count - fraud;
        if (fraud == 0 || legit == 0)
        {
            return double.NaN;
        }
        var ordered = scored.OrderBy(s => s.Probability).ToArray();
        double fraudRankSum = 0;
        for (var i = 0; i < ordered.Length;)
        {
            var j = i;
            while (j < ordered.Length && ordered[j].Probability == ordered[i].Probability)
            {
                j++;
            }
            var averageRank = (i + 1 + j) / 2.0; // ranks i+1 … j share their mean
            for (var k = i; k < j; k++)
            {
                fraudRankSum += ordered[k].IsFraud ? averageRank : 0;
            }
            i = j;
        }
        return (fraudRankSum - fraud * (fraud + 1) / 2.0) / ((double)fraud * legit);
    }

    private static double AveragePrecision(IReadOnlyList<(bool IsFraud, double Probability)> scored, int fraud)
    {
        if (fraud == 0)
        {
            return double.NaN;
        }
        var ordered = scored.OrderByDescending(s => s.Probability).ToArray();
        double area = 0;
        int truePositives = 0, flagged = 0;
        for (var i = 0; i < ordered.Length;)
        {
            var j = i;
            var caught = 0;
            while (j < ordered.Length && ordered[j].Probability == ordered[i].Probability)
            {
                caught += ordered[j].IsFraud ? 1 : 0;
                j++;
            }
            flagged += j - i;
            truePositives += caught;
            area += (double)caught / fraud * truePositives / flagged;
            i = j;
        }
        return area;
    }

    private static ThresholdMetrics AtThreshold(IReadOnlyList<(bool IsFraud, double Probability)> scored, int fraud, int threshold)
    {
        int flagged = 0, truePositives = 0;
        foreach (var (isFraud, probability) in scored)
        {
            if (RiskScoring.ScoreOf(probability) >= threshold)
            {
                flagged++;
                truePositives += isFraud ? 1 : 0;
            }
        }
        return new ThresholdMetrics(
            threshold,
            flagged,
            truePositives,
            flagged == 0 ? 0 : (double)truePositives / flagged,
            fraud == 0 ? 0 : (double)truePositives / fraud);
    }
}
