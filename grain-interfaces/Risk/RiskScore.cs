namespace Orleans.Trade.Risk;

/// <summary>What happens to a payment given its score and the configured thresholds.</summary>
public enum RiskDecision
{
    /// <summary>Score below the review threshold.</summary>
    Allow,
    /// <summary>Score at or above the review threshold and below the block threshold: a human decides (R-ORD-3).</summary>
    Review,
    /// <summary>Score at or above the block threshold.</summary>
    Block,
}

/// <summary>One feature that pushed a score up, in words an analyst reads in the review queue.</summary>
[GenerateSerializer, Immutable]
public sealed record RiskReason(
    // The feature's fixed name, e.g. device_distinct_cards_24h.
    [property: Id(0)] string Feature,
    // What the feature measures, e.g. "distinct cards used on this device in the last 24 h".
    [property: Id(1)] string Description,
    // The feature's value for this payment.
    [property: Id(2)] float Value,
    // How much the feature moved the model's raw score (model units; larger is riskier).
    [property: Id(3)] float Contribution);

/// <summary>
/// A payment's risk: <see cref="Score"/> is the model's calibrated fraud probability × 100, rounded half away from zero
/// (0 … 100), with up to three reasons and the version of the model that produced it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RiskScore(
    [property: Id(0)] int Score,
    [property: Id(1)] double Probability,
    [property: Id(2)] RiskDecision Decision,
    [property: Id(3)] IReadOnlyList<RiskReason> Reasons,
    [property: Id(4)] string ModelVersion);
