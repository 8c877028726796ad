using System.Diagnostics.CodeAnalysis;

namespace Orleans.Trade.Payments;

public enum CardBrand { Visa, Mastercard, Amex, Discover, Jcb, UnionPay, DinersClub, Maestro, Unknown }

/// <summary>
/// A card number checked for shape (12-19 digits), the Luhn check digit and its brand (R-PAY-4). It exists only while a card
/// is being tokenised: nothing but <see cref="Last4"/>, <see cref="Bin"/> and the brand may leave it, and
/// <see cref="ToString"/> never shows the number.
/// </summary>
public sealed class CardNumber
{
    private readonly string _digits;

    private CardNumber(string digits)
    {
        _digits = digits;
        Brand = BrandOf(digits);
    }

    public CardBrand Brand { get; }

    public string Last4 => _digits[^4..];

    /// <summary>The first six digits (issuer identification), which PCI DSS allows to be kept with the last four.</summary>
    public string Bin => _digits[..6];

    /// <summary>The digits, for a keyed fingerprint only; never store or log them.</summary>
    public ReadOnlySpan<char> Digits => _digits;

    /// <summary>Accepts digits with spaces or dashes between groups; the reason never repeats the number.</summary>
    public static bool TryParse(string? input, [NotNullWhen(true)] out CardNumber? card, [NotNullWhen(false)] out string? reason)
    {
        card = null;
        if (string.IsNullOrWhiteSpace(input) || input.Length > 40)
        {
            reason = "number is required: 12 to 19 digits, spaces or dashes allowed between groups.";
            return false;
        }
        Span<char> digits = stackalloc char[40];
        var count = 0;
        foreach (var c in input)
        {
            if (char.IsAsciiDigit(c))
            {
                digits[count++] = c;
            }
            else if (c is not (' ' or '-'))
            {
                reason = "number may hold only digits, spaces and dashes.";
                return false;
            }
        }
        if (count is < 12 or > 19)
        {
            reason = $"number must have 12 to 19 digits; it has {count}.";
            return false;
        }
        if (!LuhnValid(digits[..count]))
        {
            reason = "number fails the Luhn check: a digit is wrong.";
            return false;
        }
        card = new CardNumber(new string(digits[..count]));
        reason = null;
        return true;
    }

    public static bool LuhnValid(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }
            sum += d;
            doubleIt = !doubleIt;
        }
        return sum % 10 == 0;
    }

    /// <summary>Brand from the issuer identification number ranges the networks publish.</summary>
    public static CardBrand BrandOf(string digits)
    {
        int Prefix(int length) => int.Parse(digits.AsSpan(0, length));
        return digits switch
        {
            _ when digits.StartsWith('4') => CardBrand.Visa,
            _ when Prefix(2) is >= 51 and <= 55 || Prefix(4) is >= 2221 and <= 2720 => CardBrand.Mastercard,
            _ when Prefix(2) is 34 or 37 => CardBrand.Amex,
            _ when Prefix(4) == 6011 || Prefix(2) == 65 || Prefix(3) is >= 644 and <= 649 => CardBrand.Discover,
            _ when Prefix(4) is >= 3528 and <= 3589 => CardBrand.Jcb,
            _ when Prefix(2) == 62 => CardBrand.UnionPay,
            _ when Prefix(2) is 36 or 38 or 39 || Prefix(3) is >= 300 and <= 305 => CardBrand.DinersClub,
            _ when Prefix(2) is 50 or (>= 56 and <= 58) || Prefix(1) == 6 => CardBrand.Maestro,
            _ => CardBrand.Unknown,
        };
    }

    public override string ToString() => $"{Brand} ****{Last4}";
}
