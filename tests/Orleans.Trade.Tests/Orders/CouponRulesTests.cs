using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

/// <summary>The pure rules of sellers' coupons: what one takes off, how the lines share it, and what a return of a discounted unit refunds.</summary>
public sealed class CouponRulesTests
{
    private static CouponTerms Terms(int? percentOff = null, long? amountOffMinor = null, long? maxDiscountMinor = null) =>
        new("CODE", "USD", percentOff, amountOffMinor, maxDiscountMinor, 0, null, null, 10, 1, true);

    [Fact]
    public void A_percent_is_rounded_down_and_capped_and_a_fixed_amount_never_passes_the_goods()
    {
        Assert.Equal(749, CouponRules.Discount(Terms(percentOff: 15), 4_999));
        Assert.Equal(500, CouponRules.Discount(Terms(percentOff: 15, maxDiscountMinor: 500), 10_000));
        Assert.Equal(700, CouponRules.Discount(Terms(amountOffMinor: 700), 3_000));
        Assert.Equal(300, CouponRules.Discount(Terms(amountOffMinor: 700), 300));
    }

    [Theory]
    [InlineData(new long[] { 4_000, 1_000 }, 750, new long[] { 600, 150 })]
    [InlineData(new long[] { 1_000, 1_000, 1_000 }, 700, new long[] { 234, 233, 233 })]
    [InlineData(new long[] { 1, 1, 1, 997 }, 10, new long[] { 0, 0, 0, 10 })]
    [InlineData(new long[] { 333, 333, 334 }, 2, new long[] { 1, 0, 1 })]
    [InlineData(new long[] { 500 }, 500, new long[] { 500 })]
    public void Lines_share_a_discount_by_largest_remainder_summing_to_it_exactly(long[] lines, long discount, long[] expected)
    {
        var shares = CouponRules.Allocate(lines, discount);

        Assert.Equal(expected, shares);
        Assert.Equal(discount, shares.Sum());
    }

    [Fact]
    public void Shares_always_sum_to_the_discount_and_never_pass_a_lines_value()
    {
        var random = new Random(7);
        for (var run = 0; run < 2_000; run++)
        {
            var lines = Enumerable.Range(0, random.Next(1, 12)).Select(_ => (long)random.Next(0, 100_000)).ToArray();
            var total = lines.Sum();
            var discount = total == 0 ? 0 : random.NextInt64(0, total + 1);

            var shares = CouponRules.Allocate(lines, discount);

            Assert.Equal(total == 0 ? 0 : discount, shares.Sum());
            Assert.All(lines.Zip(shares), pair => Assert.InRange(pair.Second, 0, pair.First));
        }
    }

    [Fact]
    public void Terms_that_take_neither_or_both_or_are_out_of_range_are_named()
    {
        Assert.Empty(CouponRules.Check(Terms(percentOff: 10)));
        Assert.Contains(CouponRules.Check(Terms()), p => p.Field == "percentOff");
        Assert.Contains(CouponRules.Check(Terms(percentOff: 10, amountOffMinor: 100)), p => p.Field == "percentOff");
        Assert.Contains(CouponRules.Check(Terms(percentOff: 91)), p => p.Field == "percentOff");
        Assert.Contains(CouponRules.Check(Terms(amountOffMinor: 100, maxDiscountMinor: 50)), p => p.Field == "maxDiscountMinor");
    }

    [Fact]
    public void A_return_of_one_discounted_unit_refunds_what_that_unit_was_paid_and_its_vat_share()
    {
        var at = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        OrderLine[] lines =
        [
            new("sku-a", "A", 2, new Money(2_000, "USD"), new Money(4_000, "USD"), []),
            new("sku-b", "B", 1, new Money(1_000, "USD"), new Money(1_000, "USD"), []),
        ];
        // 15% off 50.00: 6.00 and 1.50 off the lines, 42.50 paid for the goods, 8.08 VAT on it.
        var totals = new OrderTotals(new Money(4_250, "USD"), new Money(5_058, "USD"), 1m, at, new Money(808, "USD"), "DE", null, new Money(750, "USD"));
        var coupon = new OrderCoupon("CODE", new Money(750, "USD"), [600, 150]);

        Assert.Equal(1_700 + 323, ReturnRules.Amount(lines, totals, [new ReturnLine("sku-a", 1)], 0, coupon));
        Assert.Equal(850 + 161, ReturnRules.Amount(lines, totals, [new ReturnLine("sku-b", 1)], 0, coupon));
        Assert.Equal(5_058, ReturnRules.Amount(lines, totals, [new ReturnLine("sku-a", 2), new ReturnLine("sku-b", 1)], 0, coupon));
    }
}
