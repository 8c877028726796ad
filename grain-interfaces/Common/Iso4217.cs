using System.Collections.Frozen;

namespace Orleans.Trade.Common;

/// <summary>ISO 4217 currencies the platform accepts, with their minor-unit exponent.</summary>
public static class Iso4217
{
    private static readonly FrozenDictionary<string, int> MinorUnitsByCode = new Dictionary<string, int>
    {
        ["AED"] = 2, ["ARS"] = 2, ["AUD"] = 2, ["BDT"] = 2, ["BGN"] = 2, ["BHD"] = 3, ["BRL"] = 2,
        ["CAD"] = 2, ["CHF"] = 2, ["CLP"] = 0, ["CNY"] = 2, ["COP"] = 2, ["CZK"] = 2, ["DKK"] = 2,
        ["EGP"] = 2, ["EUR"] = 2, ["GBP"] = 2, ["HKD"] = 2, ["HUF"] = 2, ["IDR"] = 2, ["ILS"] = 2,
        ["INR"] = 2, ["ISK"] = 0, ["JOD"] = 3, ["JPY"] = 0, ["KES"] = 2, ["KRW"] = 0, ["KWD"] = 3,
        ["KZT"] = 2, ["MAD"] = 2, ["MXN"] = 2, ["MYR"] = 2, ["NGN"] = 2, ["NOK"] = 2, ["NZD"] = 2,
        ["OMR"] = 3, ["PEN"] = 2, ["PHP"] = 2, ["PKR"] = 2, ["PLN"] = 2, ["QAR"] = 2, ["RON"] = 2,
        ["RSD"] = 2, ["RUB"] = 2, ["SAR"] = 2, ["SEK"] = 2, ["SGD"] = 2, ["THB"] = 2, ["TND"] = 3,
        ["TRY"] = 2, ["TWD"] = 2, ["UAH"] = 2, ["USD"] = 2, ["UYU"] = 2, ["VND"] = 0, ["ZAR"] = 2,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static bool IsKnown(string? code) => code is not null && MinorUnitsByCode.ContainsKey(code);

    /// <summary>Digits after the decimal point: 0 for JPY, 2 for USD, 3 for KWD.</summary>
    public static int MinorUnits(string code) =>
        MinorUnitsByCode.TryGetValue(code, out var digits)
            ? digits
            : throw new ArgumentException($"'{code}' is not a supported ISO 4217 currency.", nameof(code));

    public static IReadOnlyCollection<string> Codes => MinorUnitsByCode.Keys;
}
