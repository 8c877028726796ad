namespace Orleans.Trade.Risk;

/// <summary>Risk scoring settings (configuration section <c>Risk</c>).</summary>
public sealed class RiskOptions
{
    /// <summary>The model file. Empty: the default model shipped beside the silo (<c>Risk/default-model.zip</c>).</summary>
    public string? ModelPath { get; set; }

    /// <summary>Payments scoring at or above this (0–100) go to the human review queue (R-ORD-3).</summary>
    public int ReviewThreshold { get; set; } = 60;

    /// <summary>Payments scoring at or above this (0–100) are blocked. At least <see cref="ReviewThreshold"/>.</summary>
    public int BlockThreshold { get; set; } = 90;

    /// <summary>Reload the model when its file changes (replace it atomically: write elsewhere, then rename over it).</summary>
    public bool WatchModelFile { get; set; } = true;

    /// <summary>Overrides of <see cref="CategoryRisk.Defaults"/>, 0 to 1 per SKU category.</summary>
    public Dictionary<string, float> CategoryRisk { get; set; } = new(StringComparer.Ordinal);

    public static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "Risk", "default-model.zip");

    public string ResolvedModelPath => string.IsNullOrWhiteSpace(ModelPath) ? DefaultModelPath : Path.GetFullPath(ModelPath);

    /// <summary>
    /// What makes these settings unusable, or null: checked at start-up, so a silo does not start and then fail every payment
    /// (the scorer is built at a payment's first use of it).
    /// </summary>
    public string? Problem()
    {
        if (ReviewThreshold is < 0 or > 100 || BlockThreshold is < 0 or > 100 || BlockThreshold < ReviewThreshold)
        {
            return $"Risk:ReviewThreshold and Risk:BlockThreshold must satisfy 0 ≤ review ({ReviewThreshold}) ≤ block ({BlockThreshold}) ≤ 100.";
        }
        try
        {
            _ = Risk.CategoryRisk.WithOverrides(CategoryRisk);
            _ = RiskModel.Load(ResolvedModelPath);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return $"Risk settings: {e.Message} (Risk:ModelPath is {(string.IsNullOrWhiteSpace(ModelPath) ? "unset: the shipped model" : ModelPath)}).";
        }
    }

    public RiskThresholds Thresholds => new(ReviewThreshold, BlockThreshold);
}

/// <summary>The review and block thresholds on the 0–100 score; a score equal to a threshold is at or above it.</summary>
public readonly record struct RiskThresholds
{
    public RiskThresholds(int review, int block)
    {
        if (review is < 0 or > 100 || block is < 0 or > 100 || block < review)
        {
            throw new ArgumentOutOfRangeException(nameof(block), $"Thresholds must satisfy 0 ≤ review ({review}) ≤ block ({block}) ≤ 100.");
        }
        Review = review;
        Block = block;
    }

    public int Review { get; }
    public int Block { get; }

    public static RiskThresholds Default { get; } = new(60, 90);

    public RiskDecision Decide(int score) => score >= Block ? RiskDecision.Block : score >= Review ? RiskDecision.Review : RiskDecision.Allow;
}
