namespace Orleans.Trade.Risk;

/// <summary>
/// R-ORD-3's manual review of high-risk orders, for orders paid by a scored payment: an order that asks for a review itself
/// (its value above <c>Orders:RiskReviewAboveUsdMinor</c>) sends its payment to the analysts' queue as a score in the review
/// band would (authorized, not captured, until an analyst decides), with the order's reason first among the score's reasons.
/// A blocked payment stays blocked.
/// </summary>
public static class OrderReview
{
    /// <summary>The reason's feature name in the queue; not one of the model's features.</summary>
    public const string Feature = "order_review";

    public static RiskScore Apply(RiskScore score, string? orderReviewReason, long amountUsdMinor)
    {
        if (orderReviewReason is null || score.Decision == RiskDecision.Block)
        {
            return score;
        }
        var reason = new RiskReason(Feature, $"the order asks for a manual review: {orderReviewReason}", amountUsdMinor / 100f, 0f);
        return score with { Decision = RiskDecision.Review, Reasons = [reason, .. score.Reasons] };
    }
}
