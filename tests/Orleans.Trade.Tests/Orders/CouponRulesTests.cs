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

    private static CouponTerms Scoped(string[]? skuIds = null, string[]? categories = null, long minSpendMinor = 0) =>
        new("CODE", "USD", 10, null, null, minSpendMinor, null, null, 10, 1, true, skuIds, categories);

    [Fact]
    public void A_coupon_of_chosen_goods_counts_the_lines_of_its_skus_or_categories_only()
    {
        CouponLine[] cart = [new("sku-a", "Home", 4_000), new("sku-b", "toys", 1_000), new("sku-c", "garden", 2_500)];

        var (goods, eligible) = CouponRules.EligibleGoods(Scoped(skuIds: ["sku-c"], categories: ["home"]), new Money(7_500, "USD"), cart);
        Assert.Equal(new Money(6_500, "USD"), goods); // sku-a by its category (any case), sku-c by its id
        Assert.Equal([true, false, true], eligible);

        var (none, noneEligible) = CouponRules.EligibleGoods(Scoped(categories: ["books"]), new Money(7_500, "USD"), cart);
        Assert.Equal(0, none.AmountMinor);
        Assert.DoesNotContain(true, noneEligible!);
        Assert.Contains("categories books", CouponRules.NoneEligible(Scoped(categories: ["books"])));

        // A coupon of all goods, or a caller that sends no lines (an earlier release), counts the goods as given.
        Assert.Equal((new Money(7_500, "USD"), (IReadOnlyList<bool>?)null), CouponRules.EligibleGoods(Terms(percentOff: 10), new Money(7_500, "USD"), cart));
        Assert.Null(CouponRules.EligibleGoods(Scoped(skuIds: ["sku-c"]), new Money(7_500, "USD"), null).Eligible);
    }

    [Fact]
    public void Chosen_goods_are_stored_without_repeats_in_order_and_compared_by_their_items()
    {
        var stored = CouponRules.Normalize(Scoped(skuIds: ["sku-b", "sku-a", "sku-b"], categories: [" Toys", "toys", "home"]));
        Assert.Equal(["sku-a", "sku-b"], stored.SkuIds);
        Assert.Equal(["home", "Toys"], stored.Categories);
        Assert.True(CouponRules.Same(stored, CouponRules.Normalize(Scoped(skuIds: ["sku-a", "sku-b"], categories: ["HOME", "toys"]))));
        Assert.False(CouponRules.Same(stored, CouponRules.Normalize(Scoped(skuIds: ["sku-a"], categories: ["home", "toys"]))));
        Assert.Null(CouponRules.Normalize(Scoped(skuIds: [], categories: [])).SkuIds);
        Assert.False(CouponRules.Normalize(Scoped(skuIds: [], categories: [])).Scoped);

        Assert.Contains(CouponRules.Check(Scoped(skuIds: Enumerable.Range(0, 201).Select(i => $"sku-{i}").ToArray())), p => p.Field == "skuIds");
        Assert.Contains(CouponRules.Check(Scoped(categories: ["home", " "])), p => p.Field == "categories");
        Assert.Empty(CouponRules.Check(Scoped(skuIds: ["sku-a"], categories: ["home"])));
    }

    [Fact]
    public void The_minimum_spend_of_a_coupon_of_chosen_goods_is_of_those_goods()
    {
        var terms = Scoped(categories: ["home"], minSpendMinor: 3_000);
        var refusal = CouponRules.Refusal(terms, new Money(2_000, "USD"), DateTimeOffset.UnixEpoch, 0, 0);
        Assert.Contains("of the goods it applies to", refusal);
        Assert.Null(CouponRules.Refusal(terms, new Money(3_000, "USD"), DateTimeOffset.UnixEpoch, 0, 0));
    }

    [Fact]
    public void Free_shipping_may_stand_alone_or_beside_a_discount_and_takes_nothing_off_the_goods()
    {
        var alone = new CouponTerms("SHIP", "USD", null, null, null, 0, null, null, 10, 1, true, FreeShipping: true);
        Assert.Empty(CouponRules.Check(alone));
        Assert.Equal(0, CouponRules.Discount(alone, 5_000));
        Assert.Empty(CouponRules.Check(alone with { PercentOff = 10 }));
        Assert.Equal(500, CouponRules.Discount(alone with { PercentOff = 10 }, 5_000));
        Assert.Contains(CouponRules.Check(alone with { FreeShipping = false }), p => p.Field == "percentOff");
        Assert.Contains(CouponRules.Check(alone with { PercentOff = 10, AmountOffMinor = 100 }), p => p.Field == "percentOff");
    }
}
