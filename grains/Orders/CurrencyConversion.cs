using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>R-PAY-2: prices in the buyer's currency at the rate locked on the order.</summary>
public static class CurrencyConversion
{
    /// <summary>
    /// Converts <paramref name="amount"/> into <paramref name="toCurrency"/> at <paramref name="rate"/> units of
    /// <paramref name="toCurrency"/> per one unit (major) of the amount's currency, working in minor units with each
    /// currency's ISO 4217 exponent (JPY 0, USD 2, KWD 3).
    /// <para>The one rounding rule: the exact product is rounded once, half away from zero, to the target currency's
    /// minor unit (19.99 USD × 150.25 = 3003.4975 JPY → 3003; 0.01 USD × 50 = 0.5 JPY → 1; −0.5 → −1).</para>
    /// The same currency returns <paramref name="amount"/> unchanged and ignores the rate.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is zero or negative.</exception>
    /// <exception cref="ArgumentException">A currency is not a supported ISO 4217 code.</exception>
    /// <exception cref="OverflowException">The converted amount does not fit in a <see cref="long"/> of minor units.</exception>
    public static Money Convert(Money amount, string toCurrency, decimal rate)
    {
        ArgumentNullException.ThrowIfNull(amount);
        ArgumentNullException.ThrowIfNull(toCurrency);
        if (string.Equals(amount.Currency, toCurrency, StringComparison.Ordinal))
        {
            return amount;
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        var exponentShift = Iso4217.MinorUnits(toCurrency) - Iso4217.MinorUnits(amount.Currency);

        // decimal throws OverflowException rather than wrapping; Pow10 scaling keeps the product exact before the single rounding.
        var targetMinor = amount.AmountMinor * rate;
        targetMinor = exponentShift >= 0 ? targetMinor * Pow10(exponentShift) : targetMinor / Pow10(-exponentShift);
        var rounded = Math.Round(targetMinor, 0, MidpointRounding.AwayFromZero);
        return new Money(decimal.ToInt64(rounded), toCurrency);
    }

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10m;
        }
        return result;
    }

    /// <summary>
    /// <paramref name="amount"/> in <paramref name="currency"/> at the current rate, for comparing and reporting (not for charging,
    /// which locks its rate on the order): null without a rate, or when the amount does not fit.
    /// </summary>
    public static Money? TryConvert(this IFxRates rates, Money amount, string currency)
    {
        if (amount.Currency == currency)
        {
            return amount;
        }
        if (!rates.TryGetRate(amount.Currency, currency, out var rate, out _) || rate <= 0)
        {
            return null;
        }
        try
        {
            return Convert(amount, currency, rate);
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentException)
        {
            return null;
        }
    }
}
