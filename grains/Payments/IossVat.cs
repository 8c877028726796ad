using System.Collections.Frozen;
using Orleans.Trade.Common;

namespace Orleans.Trade.Payments;

/// <summary>
/// EU Import One-Stop Shop (R-SET-2): consignments to an EU country whose intrinsic value (goods, without shipping) is at most
/// EUR 150 have the destination's VAT collected at checkout; above that, VAT is paid at import instead. Rates are the
/// standard rates in percent (EE 24% since July 2025, RO 21% since August 2025); <c>Orders:VatRates</c> overrides them per
/// country, so a change of rate needs no release.
/// </summary>
public static class IossVat
{
    public const long ThresholdEurMinor = 150_00;

    public static readonly FrozenDictionary<string, decimal> StandardRates = new Dictionary<string, decimal>(StringComparer.Ordinal)
    {
        ["AT"] = 20m, ["BE"] = 21m, ["BG"] = 20m, ["HR"] = 25m, ["CY"] = 19m, ["CZ"] = 21m, ["DK"] = 25m, ["EE"] = 24m,
        ["FI"] = 25.5m, ["FR"] = 20m, ["DE"] = 19m, ["GR"] = 24m, ["HU"] = 27m, ["IE"] = 23m, ["IT"] = 22m, ["LV"] = 21m,
        ["LT"] = 21m, ["LU"] = 17m, ["MT"] = 18m, ["NL"] = 21m, ["PL"] = 23m, ["PT"] = 23m, ["RO"] = 21m, ["SK"] = 23m,
        ["SI"] = 22m, ["ES"] = 21m, ["SE"] = 25m,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Parts of EU member states outside the EU VAT area (Directive 2006/112/EC, art. 6), by the postal codes that start them:
    /// the Canary Islands, Ceuta and Melilla; the French overseas departments and collectivities; Åland; Mount Athos; Büsingen
    /// and Heligoland; Livigno and Campione d'Italia. Consignments there pay the local import tax, not the member state's IOSS VAT.
    /// </summary>
    private static readonly FrozenDictionary<string, string[]> OutsideVatAreaPostalPrefixes = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["ES"] = ["35", "38", "51", "52"],
        ["FR"] = ["971", "972", "973", "974", "975", "976", "977", "978", "984", "986", "987", "988"],
        ["FI"] = ["22"],
        ["GR"] = ["63086", "63087"],
        ["DE"] = ["78266", "27498"],
        ["IT"] = ["23041", "22061"],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// The member state whose VAT a destination pays: Monaco is in the French VAT area (Directive 2006/112/EC, art. 7), so a
    /// consignment there pays French VAT under IOSS and is declared with France's; every other country is its own.
    /// </summary>
    public static string VatCountry(string destinationCountry) => destinationCountry == "MC" ? "FR" : destinationCountry;

    /// <summary>Whether an address of an EU country lies in one of its territories outside the EU VAT area (no IOSS VAT).</summary>
    public static bool OutsideVatArea(string destinationCountry, string? postalCode)
    {
        if (postalCode is null || !OutsideVatAreaPostalPrefixes.TryGetValue(destinationCountry, out var prefixes))
        {
            return false;
        }
        // Every checkout to these countries asks (Germany included): the digits are gathered without allocating.
        Span<char> digits = stackalloc char[8];
        var count = 0;
        foreach (var c in postalCode)
        {
            if (char.IsAsciiDigit(c) && count < digits.Length)
            {
                digits[count++] = c;
            }
        }
        foreach (var prefix in prefixes)
        {
            if (digits[..count].StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The VAT to collect on <paramref name="intrinsicValue"/> (in the order's currency), or null when IOSS does not apply
    /// (destination outside the EU, or value above EUR 150). <paramref name="eurPerUnit"/> converts one unit of the order's
    /// currency into euros. VAT rounds half away from zero to the currency's minor unit.
    /// </summary>
    public static Money? For(string destinationCountry, Money intrinsicValue, decimal eurPerUnit, IReadOnlyDictionary<string, decimal>? rates = null,
        string? postalCode = null, long transportMinor = 0)
    {
        var table = rates ?? StandardRates;
        if (!table.TryGetValue(destinationCountry, out var ratePercent) || OutsideVatArea(destinationCountry, postalCode))
        {
            return null;
        }
        var valueInEur = intrinsicValue.Currency == "EUR"
            ? intrinsicValue
            : Orders.CurrencyConversion.Convert(intrinsicValue, "EUR", eurPerUnit);
        if (valueInEur.AmountMinor > ThresholdEurMinor)
        {
            return null;
        }
        // The threshold is on the goods' intrinsic value; the VAT is on what the buyer pays for them, transport included.
        var vat = Math.Round((intrinsicValue.AmountMinor + transportMinor) * ratePercent / 100m, MidpointRounding.AwayFromZero);
        return new Money((long)vat, intrinsicValue.Currency);
    }
}
