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
