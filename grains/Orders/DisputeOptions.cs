namespace Orleans.Trade.Orders;

/// <summary>Third-party inspections of disputed goods (configuration section <c>Disputes</c>, R-DIS-6).</summary>
public sealed class DisputeOptions
{
    /// <summary>
    /// A refund verdict against the seller on a notAsDescribed or damaged dispute needs an inspection report when the order's goods
    /// are worth more than this many US cents (converted at the current rate, like <c>Orders:RiskReviewAboveUsdMinor</c>). Null: off.
    /// </summary>
    public long? InspectionRequiredAboveUsdMinor { get; set; } = 100_000;

    /// <summary>Categories of fragile goods: a refund verdict on such a dispute needs an inspection report whatever their value.</summary>
    public string[] FragileCategories { get; set; } = ["glassware", "ceramics", "artwork"];

    /// <summary>An inspection's report is due this many working days (Monday to Friday, UTC) after it is ordered; unreported then, a ticket.</summary>
    public int InspectionWorkingDays { get; set; } = 5;

    /// <summary>What makes these options unusable, or null: checked at start-up, so a silo does not start with them.</summary>
    public string? Problem() =>
        InspectionWorkingDays is < 1 or > 30 ? $"Disputes:InspectionWorkingDays is 1 to 30; got {InspectionWorkingDays}."
        : InspectionRequiredAboveUsdMinor is < 0 ? $"Disputes:InspectionRequiredAboveUsdMinor is 0 or more (or left out: off); got {InspectionRequiredAboveUsdMinor}."
        : null;
}
