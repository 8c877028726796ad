using Orleans.Trade.Common;
using Orleans.Trade.Payments;

namespace Orleans.Trade.Tests.Payments;

public sealed class InstalmentPlanTests
{
    private static readonly DateTimeOffset Bought = new(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(10_000, 3, 3_334, 3_333)]
    [InlineData(10_001, 6, 1_671, 1_666)]
    [InlineData(12_000, 12, 1_000, 1_000)]
    [InlineData(5, 3, 3, 1)]
    public void Parts_are_equal_rounded_down_and_the_first_carries_the_remainder(long amount, int count, long first, long rest)
    {
        var plan = InstalmentPlan.Schedule(new Money(amount, "USD"), count, Bought);

        Assert.Equal(count, plan.Count);
        Assert.Equal(first, plan[0].Amount.AmountMinor);
        Assert.All(plan.Skip(1), i => Assert.Equal(rest, i.Amount.AmountMinor));
        Assert.Equal(amount, plan.Sum(i => i.Amount.AmountMinor));
        Assert.Equal(Enumerable.Range(1, count), plan.Select(i => i.Number));
    }

    [Fact]
    public void The_first_part_is_due_at_purchase_and_the_rest_monthly_clamped_to_short_months()
    {
        var plan = InstalmentPlan.Schedule(new Money(9_000, "JPY"), 3, Bought);

        Assert.Equal([Bought, new DateTimeOffset(2026, 2, 28, 10, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 31, 10, 0, 0, TimeSpan.Zero)],
            plan.Select(i => i.DueAt));
        Assert.All(plan, i => Assert.Equal("JPY", i.Amount.Currency));
    }

    [Fact]
    public void A_plan_needs_two_parts_and_a_positive_amount()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => InstalmentPlan.Schedule(new Money(100, "USD"), 1, Bought));
        Assert.Throws<ArgumentOutOfRangeException>(() => InstalmentPlan.Schedule(new Money(0, "USD"), 3, Bought));
    }
}
