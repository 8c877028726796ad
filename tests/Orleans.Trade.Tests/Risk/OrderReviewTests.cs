using Orleans.Trade.Risk;

namespace Orleans.Trade.Tests.Risk;

/// <summary>An order that asks for a review (R-ORD-3) sends its scored payment to the analysts, unless the payment is blocked.</summary>
public sealed class OrderReviewTests
{
    private static readonly RiskReason Velocity = new("buyer_payments_1h", "payments by this buyer in the last hour", 3, 0.4f);

    private static RiskScore Scored(RiskDecision decision) => new(12, 0.02, decision, [Velocity], "m1");

    [Theory]
    [InlineData(RiskDecision.Allow)]
    [InlineData(RiskDecision.Review)]
    public void A_payment_of_an_order_asking_for_review_is_reviewed_with_the_orders_reason_first(RiskDecision scored)
    {
        var score = OrderReview.Apply(Scored(scored), "order value above 1000.00 USD", 123_456);

        Assert.Equal(RiskDecision.Review, score.Decision);
        Assert.Equal(12, score.Score);
        Assert.Equal("m1", score.ModelVersion);
        Assert.Equal([OrderReview.Feature, Velocity.Feature], score.Reasons.Select(r => r.Feature));
        Assert.Contains("order value above 1000.00 USD", score.Reasons[0].Description);
        Assert.Equal(1234.56f, score.Reasons[0].Value);
    }

    [Fact]
    public void A_blocked_payment_stays_blocked_and_an_order_asking_nothing_changes_nothing()
    {
        var blocked = Scored(RiskDecision.Block);
        Assert.Same(blocked, OrderReview.Apply(blocked, "order value above 1000.00 USD", 123_456));
        var allowed = Scored(RiskDecision.Allow);
        Assert.Same(allowed, OrderReview.Apply(allowed, null, 123_456));
    }
}
