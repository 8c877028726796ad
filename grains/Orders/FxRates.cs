using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>Current exchange rates: units of <c>to</c> per one unit of <c>from</c>, and when the rate was set.</summary>
public interface IFxRates
{
    bool TryGetRate(string from, string to, out decimal rate, out DateTimeOffset asOf);

    /// <summary>
    /// The rates come from a loaded rate table (API or file), which goes stale when its feed stops; configured rates
    /// (<c>Fx:UsdRates</c>, the built-in table) are fixed by the operator and do not age.
    /// </summary>
    bool FromRateTable => false;
}

/// <summary>Rates from configuration (<c>Fx:UsdRates</c>: units of each currency per US dollar), as of start-up.</summary>
public sealed class ConfiguredFxRates(IReadOnlyDictionary<string, decimal> unitsPerUsd, DateTimeOffset asOf) : IFxRates
{
    public static readonly IReadOnlyDictionary<string, decimal> Defaults = new Dictionary<string, decimal>(StringComparer.Ordinal)
    {
        ["USD"] = 1m, ["EUR"] = 0.92m, ["GBP"] = 0.79m, ["CNY"] = 7.24m, ["JPY"] = 151.20m, ["KRW"] = 1372m, ["INR"] = 83.40m,
        ["BRL"] = 5.05m, ["MXN"] = 17.10m, ["CAD"] = 1.37m, ["AUD"] = 1.53m, ["RUB"] = 92.5m, ["TRY"] = 32.2m, ["PLN"] = 3.98m,
        ["SEK"] = 10.6m, ["CHF"] = 0.90m, ["KWD"] = 0.307m, ["SAR"] = 3.75m, ["AED"] = 3.6725m, ["HKD"] = 7.82m, ["SGD"] = 1.35m,
        ["THB"] = 36.4m, ["IDR"] = 15900m, ["VND"] = 25100m, ["PHP"] = 56.8m, ["MYR"] = 4.72m, ["ZAR"] = 18.6m, ["NGN"] = 1450m,
    };

    /// <summary>
    /// The built-in table overlaid with the configured rates (<c>Fx:UsdRates:&lt;currency&gt;</c>), held to the rules a loaded table
    /// is held to; a silo with a rate it cannot use does not start (a zero or mistyped rate would refuse or misprice every
    /// checkout in that currency).
    /// </summary>
    /// <exception cref="InvalidOperationException">Naming every configured rate that is wrong, and why.</exception>
    public static Dictionary<string, decimal> WithConfigured(IEnumerable<KeyValuePair<string, string?>> configured)
    {
        var rates = new Dictionary<string, decimal>(Defaults, StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var (currency, text) in configured)
        {
            if (!Iso4217.IsKnown(currency))
            {
                errors.Add($"Fx:UsdRates:{currency}: '{currency}' is not a supported ISO 4217 currency code.");
            }
            else if (!decimal.TryParse(text, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var rate)
                || rate < Payments.FxRates.MinUnitsPerUsd || rate > Payments.FxRates.MaxUnitsPerUsd)
            {
                errors.Add($"Fx:UsdRates:{currency}: '{text}' is not a rate; give the units of {currency} one US dollar buys, a number from "
                    + $"{Payments.FxRates.MinUnitsPerUsd} to {Payments.FxRates.MaxUnitsPerUsd} (invariant culture, e.g. 0.92).");
            }
            else if (currency == "USD" && rate != 1)
            {
                errors.Add("Fx:UsdRates:USD: USD is the base; its rate is 1.");
            }
            else
            {
                rates[currency] = rate;
            }
        }
        return errors.Count == 0 ? rates : throw new InvalidOperationException(string.Join(" ", errors));
    }

    public bool TryGetRate(string from, string to, out decimal rate, out DateTimeOffset at)
    {
        at = asOf;
        rate = 0;
        if (from == to)
        {
            rate = 1;
            return true;
        }
        if (!unitsPerUsd.TryGetValue(from, out var fromPerUsd) || !unitsPerUsd.TryGetValue(to, out var toPerUsd) || fromPerUsd <= 0)
        {
            return false;
        }
        rate = toPerUsd / fromPerUsd;
        return true;
    }
}
