using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;
using Orleans.Trade.Common;

namespace Orleans.Trade.Orders;

/// <summary>The automatic address check at order creation (R-ORD-3): every problem, named by its JSON field, with the format expected.</summary>
public static partial class ShippingAddressRules
{
    public const int MaxNameLength = 100;
    public const int MaxLineLength = 200;
    public const int MaxCityLength = 100;
    public const int MaxRegionLength = 100;
    public const int MaxPostalCodeLength = 20;
    public const int MaxPhoneLength = 30;
    public const int MinPhoneDigits = 6;
    public const int MaxPhoneDigits = 20;

    private const string Prefix = "shipTo.";

    /// <summary>A destination's postal-code format: the pattern and how the rule message describes it.</summary>
    private sealed record PostalFormat(Func<Regex> Pattern, string Description, string Example);

    private static readonly FrozenDictionary<string, PostalFormat> PostalFormats = new Dictionary<string, PostalFormat>
    {
        ["US"] = new(UsZip, "a US ZIP code of 5 digits or ZIP+4", "94103 or 94103-1234"),
        ["CA"] = new(CanadianPostalCode, "a Canadian postal code like A1A 1A1", "K1A 0B1"),
        ["GB"] = new(UkPostcode, "a UK postcode (outward and inward code)", "SW1A 1AA"),
        ["DE"] = new(FiveDigits, "a German postal code of 5 digits", "10115"),
        ["FR"] = new(FiveDigits, "a French postal code of 5 digits", "75008"),
        ["ES"] = new(FiveDigits, "a Spanish postal code of 5 digits", "28013"),
        ["IT"] = new(FiveDigits, "an Italian postal code of 5 digits", "00184"),
        ["MX"] = new(FiveDigits, "a Mexican postal code of 5 digits", "06600"),
        ["KR"] = new(FiveDigits, "a South Korean postal code of 5 digits", "03154"),
        ["MY"] = new(FiveDigits, "a Malaysian postal code of 5 digits", "50450"),
        ["TH"] = new(FiveDigits, "a Thai postal code of 5 digits", "10110"),
        ["SA"] = new(FiveDigits, "a Saudi postal code of 5 digits", "11564"),
        ["NL"] = new(DutchPostalCode, "a Dutch postal code of 4 digits and 2 letters", "1012 JS"),
        ["PL"] = new(PolishPostalCode, "a Polish postal code like 12-345", "00-950"),
        ["BR"] = new(BrazilianCep, "a Brazilian CEP of 8 digits like 12345-678", "01310-100"),
        ["CN"] = new(SixDigits, "a Chinese postal code of 6 digits", "100000"),
        ["IN"] = new(SixDigits, "an Indian PIN code of 6 digits", "110001"),
        ["RU"] = new(SixDigits, "a Russian postal code of 6 digits", "101000"),
        ["SG"] = new(SixDigits, "a Singapore postal code of 6 digits", "018956"),
        ["KZ"] = new(SixDigits, "a Kazakh postal code of 6 digits", "050000"),
        ["JP"] = new(JapanesePostalCode, "a Japanese postal code like 123-4567", "100-0001"),
        ["AU"] = new(FourDigits, "an Australian postcode of 4 digits", "2000"),
        ["NZ"] = new(FourDigits, "a New Zealand postcode of 4 digits", "6011"),
        ["DK"] = new(FourDigits, "a Danish postal code of 4 digits", "1050"),
        ["NO"] = new(FourDigits, "a Norwegian postal code of 4 digits", "0150"),
        ["BE"] = new(FourDigits, "a Belgian postal code of 4 digits", "1000"),
        ["AT"] = new(FourDigits, "an Austrian postal code of 4 digits", "1010"),
        ["CH"] = new(FourDigits, "a Swiss postal code of 4 digits", "8001"),
        ["HU"] = new(FourDigits, "a Hungarian postal code of 4 digits", "1051"),
        ["ZA"] = new(FourDigits, "a South African postal code of 4 digits", "0001"),
        ["PH"] = new(FourDigits, "a Philippine ZIP code of 4 digits", "1000"),
        ["SE"] = new(SwedishPostalCode, "a Swedish postal code like 123 45", "114 55"),
        ["PT"] = new(PortuguesePostalCode, "a Portuguese postal code like 1234-567", "1100-148"),
        ["IE"] = new(Eircode, "an Irish Eircode (routing key and unique identifier)", "D02 X285"),
        ["IL"] = new(SevenDigits, "an Israeli postal code of 7 digits", "6473424"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly PostalFormat OtherPostalFormat =
        new(GenericPostalCode, "2 to 10 letters, digits, spaces or dashes", "75001");

    // Destinations without a postal-code system: anything up to the length limit, empty included, is accepted.
    private static readonly FrozenSet<string> WithoutPostalCodes = new[] { "AE", "HK" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Every problem with <paramref name="address"/>; empty when it is valid.</summary>
    public static IReadOnlyList<(string Field, string Rule)> Check(ShippingAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var problems = new List<(string Field, string Rule)>();

        Required(problems, "name", address.Name, MaxNameLength);
        Required(problems, "line1", address.Line1, MaxLineLength);
        Optional(problems, "line2", address.Line2, MaxLineLength);
        Required(problems, "city", address.City, MaxCityLength);
        Optional(problems, "region", address.Region, MaxRegionLength);

        var countryKnown = CheckCountry(problems, address.Country);
        CheckPostalCode(problems, address.PostalCode, countryKnown ? address.Country : null);
        CheckPhone(problems, address.Phone);
        return problems;
    }

    private static bool Required(List<(string, string)> problems, string field, [NotNullWhen(true)] string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add((Prefix + field, $"{Prefix}{field} is required."));
            return false;
        }
        return WithinLength(problems, field, value, maxLength);
    }

    private static void Optional(List<(string, string)> problems, string field, string? value, int maxLength)
    {
        if (value is not null)
        {
            WithinLength(problems, field, value, maxLength);
        }
    }

    private static bool WithinLength(List<(string, string)> problems, string field, string value, int maxLength)
    {
        if (value.Length <= maxLength)
        {
            return true;
        }
        problems.Add((Prefix + field, $"{Prefix}{field} must be at most {maxLength} characters."));
        return false;
    }

    private static bool CheckCountry(List<(string, string)> problems, string? country)
    {
        if (string.IsNullOrWhiteSpace(country))
        {
            problems.Add((Prefix + "country", $"{Prefix}country is required."));
            return false;
        }
        if (!Iso3166.IsKnown(country))
        {
            problems.Add((Prefix + "country", $"{Prefix}country must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE."));
            return false;
        }
        return true;
    }

    /// <param name="country">A known ISO 3166 code, or null when the country is itself invalid (then only presence and length are checked).</param>
    private static void CheckPostalCode(List<(string, string)> problems, string? postalCode, string? country)
    {
        const string field = "postalCode";
        if (country is not null && WithoutPostalCodes.Contains(country))
        {
            Optional(problems, field, postalCode, MaxPostalCodeLength);
            return;
        }
        if (!Required(problems, field, postalCode, MaxPostalCodeLength) || country is null)
        {
            return;
        }
        var format = PostalFormats.GetValueOrDefault(country, OtherPostalFormat);
        // Surrounding whitespace is a typing slip, not a different postal code.
        var trimmed = postalCode.Trim();
        // ASCII first: case-insensitive matching would otherwise let look-alikes such as the Kelvin sign through to the label.
        if (!Ascii.IsValid(trimmed) || !format.Pattern().IsMatch(trimmed))
        {
            problems.Add((Prefix + field, $"{Prefix}{field} must be {format.Description}, e.g. {format.Example}."));
        }
    }

    private static void CheckPhone(List<(string, string)> problems, string? phone)
    {
        const string field = "phone";
        if (!Required(problems, field, phone, MaxPhoneLength))
        {
            return;
        }
        var digits = phone.Count(char.IsAsciiDigit);
        if (!PhoneCharacters().IsMatch(phone) || digits is < MinPhoneDigits or > MaxPhoneDigits)
        {
            problems.Add((Prefix + field,
                $"{Prefix}{field} must hold {MinPhoneDigits} to {MaxPhoneDigits} digits and only digits, spaces, '+', '-', '(' or ')', e.g. +49 30 1234567."));
        }
    }

    // [0-9] rather than \d: \d also matches non-ASCII digits; \z rather than $: $ accepts a trailing newline.
    [GeneratedRegex(@"\A[0-9 +()\-]+\z")]
    private static partial Regex PhoneCharacters();

    [GeneratedRegex(@"\A[0-9]{5}(-[0-9]{4})?\z")]
    private static partial Regex UsZip();

    // Canada Post never uses D, F, I, O, Q, U, nor W or Z in first position.
    [GeneratedRegex(@"\A[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] ?[0-9][ABCEGHJ-NPRSTV-Z][0-9]\z", RegexOptions.IgnoreCase)]
    private static partial Regex CanadianPostalCode();

    // Royal Mail's outward code shapes (A9, A99, AA9, AA99, A9A, AA9A) plus GIR 0AA, then the inward code 9AA.
    [GeneratedRegex(@"\A(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW]) ?[0-9][ABD-HJLNP-UW-Z]{2})\z", RegexOptions.IgnoreCase)]
    private static partial Regex UkPostcode();

    [GeneratedRegex(@"\A[0-9]{4}\z")]
    private static partial Regex FourDigits();

    [GeneratedRegex(@"\A[0-9]{5}\z")]
    private static partial Regex FiveDigits();

    [GeneratedRegex(@"\A[0-9]{6}\z")]
    private static partial Regex SixDigits();

    [GeneratedRegex(@"\A[0-9]{7}\z")]
    private static partial Regex SevenDigits();

    [GeneratedRegex(@"\A[1-9][0-9]{3} ?[A-Z]{2}\z", RegexOptions.IgnoreCase)]
    private static partial Regex DutchPostalCode();

    [GeneratedRegex(@"\A[0-9]{2}-[0-9]{3}\z")]
    private static partial Regex PolishPostalCode();

    [GeneratedRegex(@"\A[0-9]{5}-?[0-9]{3}\z")]
    private static partial Regex BrazilianCep();

    [GeneratedRegex(@"\A[0-9]{3}-?[0-9]{4}\z")]
    private static partial Regex JapanesePostalCode();

    [GeneratedRegex(@"\A[0-9]{3} ?[0-9]{2}\z")]
    private static partial Regex SwedishPostalCode();

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{3}\z")]
    private static partial Regex PortuguesePostalCode();

    // Routing key (a letter and two digits, or D6W) then a 4-character identifier; Eircodes avoid easily confused letters.
    [GeneratedRegex(@"\A([AC-FHKNPRTV-Y][0-9]{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}\z", RegexOptions.IgnoreCase)]
    private static partial Regex Eircode();

    [GeneratedRegex(@"\A[A-Za-z0-9 \-]{2,10}\z")]
    private static partial Regex GenericPostalCode();
}
