using Orleans.Trade.Payments;

namespace Orleans.Trade.Tests.Payments;

public sealed class CardNumberTests
{
    [Theory]
    [InlineData("4242 4242 4242 4242", CardBrand.Visa, "4242")]
    [InlineData("5555-5555-5555-4444", CardBrand.Mastercard, "4444")]
    [InlineData("2223003122003222", CardBrand.Mastercard, "3222")]
    [InlineData("378282246310005", CardBrand.Amex, "0005")]
    [InlineData("6011111111111117", CardBrand.Discover, "1117")]
    [InlineData("3530111333300000", CardBrand.Jcb, "0000")]
    [InlineData("6200000000000005", CardBrand.UnionPay, "0005")]
    [InlineData("30569309025904", CardBrand.DinersClub, "5904")]
    public void Valid_numbers_parse_to_brand_and_last_four(string input, CardBrand brand, string last4)
    {
        Assert.True(CardNumber.TryParse(input, out var card, out _));
        Assert.Equal(brand, card!.Brand);
        Assert.Equal(last4, card.Last4);
        Assert.DoesNotContain(input.Replace(" ", "").Replace("-", "")[..12], card.ToString());
    }

    [Theory]
    [InlineData("4242 4242 4242 4241", "Luhn")]
    [InlineData("4242", "12 to 19 digits")]
    [InlineData("4242 4242 4242 4242 4242 42", "12 to 19 digits")]
    [InlineData("4242-4242-4242-424x", "only digits")]
    [InlineData("", "required")]
    [InlineData(null, "required")]
    public void Bad_numbers_are_refused_without_repeating_them(string? input, string expected)
    {
        Assert.False(CardNumber.TryParse(input, out _, out var reason));
        Assert.Contains(expected, reason);
        if (input is { Length: > 4 })
        {
            Assert.DoesNotContain(input[..8], reason);
        }
    }

    [Fact]
    public void The_luhn_check_catches_every_single_digit_error()
    {
        const string valid = "4242424242424242";
        for (var position = 0; position < valid.Length; position++)
        {
            for (var digit = '0'; digit <= '9'; digit++)
            {
                if (digit == valid[position]) continue;
                var wrong = valid[..position] + digit + valid[(position + 1)..];
                Assert.False(CardNumber.LuhnValid(wrong), wrong);
            }
        }
    }
}
