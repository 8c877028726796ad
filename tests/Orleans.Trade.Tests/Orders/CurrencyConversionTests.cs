using Orleans.Trade.Common;
using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

public sealed class CurrencyConversionTests
{
    [Fact]
    public void Dollars_to_yen_round_to_the_whole_yen()
    {
        // 19.99 × 150.25 = 3003.4975 yen: below the half, so down.
        Assert.Equal(new Money(3003, "JPY"), CurrencyConversion.Convert(new Money(1999, "USD"), "JPY", 150.25m));
    }

    [Fact]
    public void Euros_to_kuwaiti_dinars_keep_three_decimals()
    {
        // 12.34 × 0.33457 = 4.1285938 KWD → 4.129.
        Assert.Equal(new Money(4129, "KWD"), CurrencyConversion.Convert(new Money(1234, "EUR"), "KWD", 0.33457m));
    }

    [Fact]
    public void Yen_to_dollars_gain_two_decimals()
    {
        // 3003 × 0.006655 = 19.984965 USD → 19.98.
        Assert.Equal(new Money(1998, "USD"), CurrencyConversion.Convert(new Money(3003, "JPY"), "USD", 0.006655m));
    }

    [Fact]
    public void Kuwaiti_dinars_to_yen_drop_three_decimals()
    {
        // 1.234 × 487.5 = 601.575 yen → 602.
        Assert.Equal(new Money(602, "JPY"), CurrencyConversion.Convert(new Money(1234, "KWD"), "JPY", 487.5m));
    }

    [Theory]
    [InlineData(1, 1)]   // 0.5 yen: banker's rounding would give 0
    [InlineData(3, 2)]   // 1.5
    [InlineData(5, 3)]   // 2.5: banker's rounding would give 2
    [InlineData(-1, -1)]
    [InlineData(-5, -3)]
    public void Half_way_amounts_round_away_from_zero(long cents, long expectedYen)
    {
        Assert.Equal(new Money(expectedYen, "JPY"), CurrencyConversion.Convert(new Money(cents, "USD"), "JPY", 50m));
    }

    [Fact]
    public void Half_a_cent_rounds_up_between_two_decimal_currencies()
    {
        // 2.50 EUR × 1.002 = 2.505 USD → 2.51.
        Assert.Equal(new Money(251, "USD"), CurrencyConversion.Convert(new Money(250, "EUR"), "USD", 1.002m));
    }

    [Fact]
    public void Same_currency_is_returned_unchanged_whatever_the_rate()
    {
        var amount = new Money(1999, "USD");

        Assert.Same(amount, CurrencyConversion.Convert(amount, "USD", 1.1m));
        Assert.Same(amount, CurrencyConversion.Convert(amount, "USD", 0m));
    }

    [Fact]
    public void Zero_converts_to_zero()
    {
        Assert.Equal(new Money(0, "EUR"), CurrencyConversion.Convert(new Money(0, "USD"), "EUR", 0.92m));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1.5)]
    public void Rate_must_be_positive(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CurrencyConversion.Convert(new Money(100, "USD"), "EUR", (decimal)rate));
    }

    [Fact]
    public void Unknown_currency_is_refused()
    {
        Assert.Throws<ArgumentException>(() => CurrencyConversion.Convert(new Money(100, "USD"), "XXX", 1m));
        Assert.Throws<ArgumentException>(() => CurrencyConversion.Convert(new Money(100, "XXX"), "USD", 1m));
    }

    [Fact]
    public void Result_too_large_for_minor_units_overflows_instead_of_wrapping()
    {
        Assert.Throws<OverflowException>(() => CurrencyConversion.Convert(new Money(long.MaxValue / 10, "USD"), "VND", 25_000m));
    }
}
