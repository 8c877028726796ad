namespace Orleans.Trade.Logistics;

/// <summary>
/// Tracking numbers in the UPU S10 form the platform's own adapter issues: a two-letter service indicator, an eight-digit serial,
/// a check digit and the issuing country (ISO 3166-1 alpha-2), e.g. <c>LX123456785CN</c>.
/// </summary>
public static class S10TrackingNumbers
{
    /// <summary>Serials run from 0 to this, exclusive: eight digits.</summary>
    public const long SerialLimit = 100_000_000;

    private static readonly int[] Weights = [8, 6, 4, 2, 3, 5, 9, 7];

    /// <summary>The check digit of an eight-digit serial: weights 8 6 4 2 3 5 9 7, eleven less the sum modulo 11 (10 → 0, 11 → 5).</summary>
    public static int CheckDigit(long serial)
    {
        if (serial is < 0 or >= SerialLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(serial), serial, "an S10 serial has eight digits.");
        }
        var digits = serial.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        var sum = 0;
        for (var i = 0; i < 8; i++)
        {
            sum += (digits[i] - '0') * Weights[i];
        }
        return (11 - sum % 11) switch { 10 => 0, 11 => 5, var check => check };
    }

    public static string Format(string serviceIndicator, long serial, string country) =>
        $"{serviceIndicator}{serial.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)}{CheckDigit(serial)}{country}";

    /// <summary>Whether <paramref name="number"/> is an S10 number whose check digit matches its serial.</summary>
    public static bool IsValid(string? number)
    {
        if (number is not { Length: 13 } || !IsLetters(number.AsSpan(0, 2)) || !IsLetters(number.AsSpan(11, 2)))
        {
            return false;
        }
        for (var i = 2; i < 11; i++)
        {
            if (number[i] is < '0' or > '9')
            {
                return false;
            }
        }
        return CheckDigit(long.Parse(number.AsSpan(2, 8), provider: System.Globalization.CultureInfo.InvariantCulture)) == number[10] - '0';
    }

    /// <summary>Whether the text is a two-letter code (upper case A-Z), as a service indicator and a country are.</summary>
    public static bool IsCode(string? text) => text is { Length: 2 } && IsLetters(text);

    private static bool IsLetters(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is < 'A' or > 'Z')
            {
                return false;
            }
        }
        return true;
    }
}
