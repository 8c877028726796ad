using Orleans.Trade.Common;
using Orleans.Trade.Payments;
using Orleans.Trade.Wallets;

namespace Orleans.Trade.Tests.Wallets;

public sealed class SettlementRulesTests
{
    private static Money Usd(long minor) => new(minor, "USD");
    private static Money Eur(long minor) => new(minor, "EUR");

    [Fact]
    public void Commission_is_on_the_goods_value_and_the_seller_gets_the_rest()
    {
        var legs = SettlementSplit.Split(Eur(11_900), commissionRateBps: 800, logisticsFee: Eur(500), taxPayable: Eur(1_900));

        Assert.Equal(800, legs.Commission.AmountMinor);   // 8% of 100.00 goods
        Assert.Equal(500, legs.LogisticsFee.AmountMinor);
        Assert.Equal(1_900, legs.TaxPayable.AmountMinor);
        Assert.Equal(8_700, legs.SellerNet.AmountMinor);
        Assert.Equal(11_900, legs.TotalMinor);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void The_legs_always_sum_to_the_escrowed_amount(int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < 500; i++)
        {
            var escrowed = random.NextInt64(0, 10_000_000);
            var tax = random.NextInt64(0, escrowed / 4 + 1);
            var fee = random.NextInt64(0, escrowed / 4 + 1);
            var legs = SettlementSplit.Split(Usd(escrowed), random.Next(0, 3_001), Usd(fee), Usd(tax));
            Assert.Equal(escrowed, legs.TotalMinor);
            Assert.True(legs.SellerNet.AmountMinor >= 0);
        }
    }

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 20).Select(s => new object[] { s });

    [Fact]
    public void Settlement_settings_under_which_no_release_could_pay_the_seller_are_named()
    {
        Assert.Null(new SettlementOptions().Problem());
        Assert.Null(new SettlementOptions { DefaultCommissionRateBps = 9_000, LogisticsFeeBps = 1_000, DefaultCycleDays = 30 }.Problem());
        Assert.Contains("LogisticsFeeBps must be 0 to 10000", new SettlementOptions { LogisticsFeeBps = -1 }.Problem());
        Assert.Contains("DefaultCommissionRateBps must be 0 to 10000", new SettlementOptions { DefaultCommissionRateBps = -5 }.Problem());
        Assert.Contains("CategoryCommissionRateBps:toys (9500) and Settlement:LogisticsFeeBps (600)", new SettlementOptions
        {
            LogisticsFeeBps = 600, CategoryCommissionRateBps = { ["home"] = 1_000, ["toys"] = 9_500 },
        }.Problem());
        Assert.Contains("DefaultCycleDays must be 1 to 30", new SettlementOptions { DefaultCycleDays = 31 }.Problem());
        Assert.Contains("MaturityCheckPeriod must be positive", new SettlementOptions { MaturityCheckPeriod = TimeSpan.Zero }.Problem());
    }

    [Fact]
    public void A_split_that_would_pay_the_seller_a_negative_amount_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => SettlementSplit.Split(Usd(1_000), 5_000, Usd(600), Usd(0)));
        Assert.Throws<ArgumentException>(() => SettlementSplit.Split(Usd(1_000), 500, Eur(10), Usd(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SettlementSplit.Split(Usd(1_000), 10_001, Usd(0), Usd(0)));
    }

    [Fact]
    public void Refunds_are_proportional_to_what_was_paid_when_a_coupon_paid_part()
    {
        // Goods 100.00, coupon 20.00, paid 80.00: returning goods worth 50.00 gives back 40.00.
        Assert.Equal(4_000, RefundCalculator.Refundable(Usd(5_000), Usd(8_000), Usd(2_000), Usd(0)).AmountMinor);
        // Rounded down: 33.33 of goods at 80% is 26.664 → 26.66.
        Assert.Equal(2_666, RefundCalculator.Refundable(Usd(3_333), Usd(8_000), Usd(2_000), Usd(0)).AmountMinor);
        // Never more than was paid, across refunds.
        Assert.Equal(1_000, RefundCalculator.Refundable(Usd(10_000), Usd(8_000), Usd(2_000), Usd(7_000)).AmountMinor);
        Assert.Equal(0, RefundCalculator.Refundable(Usd(10_000), Usd(8_000), Usd(2_000), Usd(8_000)).AmountMinor);
        // Without a coupon, the refund is the goods value.
        Assert.Equal(5_000, RefundCalculator.Refundable(Usd(5_000), Usd(8_000), Usd(0), Usd(0)).AmountMinor);
    }

    [Fact]
    public void Ioss_vat_applies_to_eu_consignments_up_to_150_euros()
    {
        Assert.Equal(Eur(1_900), IossVat.For("DE", Eur(10_000), 1m));
        Assert.Equal(Eur(2_850), IossVat.For("DE", Eur(15_000), 1m));      // exactly 150.00: still IOSS
        Assert.Null(IossVat.For("DE", Eur(15_001), 1m));                    // above: VAT at import
        Assert.Null(IossVat.For("US", Eur(1_000), 1m));                     // not the EU
        Assert.Equal(Usd(2_300), IossVat.For("PL", Usd(10_000), 0.92m));    // 92.00 EUR: IOSS, 23% of the USD value
        Assert.Null(IossVat.For("PL", Usd(17_000), 0.92m));                 // 156.40 EUR: above
        Assert.Equal(Eur(2_550), IossVat.For("FI", Eur(10_000), 1m));       // 25.5%
    }

    [Fact]
    public void Money_released_matures_after_the_cycle_in_force_at_its_release()
    {
        var change = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var cycles = new SettlementCycleHistory([new(DateTimeOffset.MinValue, 30), new(change, 1), new(change.AddDays(3), 7)]);

        Assert.Equal(TimeSpan.FromDays(30), cycles.At(change.AddTicks(-1)));
        Assert.Equal(TimeSpan.FromDays(1), cycles.At(change));
        Assert.Equal(TimeSpan.FromDays(1), cycles.At(change.AddDays(2)));
        Assert.Equal(TimeSpan.FromDays(7), cycles.At(change.AddDays(3)));
        Assert.Equal(TimeSpan.FromDays(30), new SettlementCycleHistory([new(DateTimeOffset.MinValue, 30)]).At(change));
    }
}
