using Orleans.Trade.Orders;

namespace Orleans.Trade.Tests.Orders;

public sealed class ShippingAddressRulesTests
{
    private static ShippingAddress Address(string country = "DE", string postalCode = "10115", string phone = "+49 30 1234567") =>
        new("Erika Mustermann", "Unter den Linden 1", null, "Berlin", null, postalCode, country, phone);

    private static IEnumerable<string> Fields(ShippingAddress address) => ShippingAddressRules.Check(address).Select(p => p.Field);

    [Fact]
    public void Complete_address_has_no_problems()
    {
        Assert.Empty(ShippingAddressRules.Check(Address()));
    }

    [Theory]
    [InlineData("US", "94103")]
    [InlineData("US", "94103-1234")]
    [InlineData("CA", "K1A 0B1")]
    [InlineData("CA", "k1a0b1")]
    [InlineData("GB", "SW1A 1AA")]
    [InlineData("GB", "M1 1AE")]
    [InlineData("GB", "ec1a1bb")]
    [InlineData("GB", "B33 8TH")]
    [InlineData("GB", "W1A 0AX")]
    [InlineData("GB", "DN55 1PT")]
    [InlineData("DE", "10115")]
    [InlineData("FR", "75008")]
    [InlineData("ES", "28013")]
    [InlineData("IT", "00184")]
    [InlineData("MX", "06600")]
    [InlineData("KR", "03154")]
    [InlineData("MY", "50450")]
    [InlineData("TH", "10110")]
    [InlineData("SA", "11564")]
    [InlineData("NL", "1012 JS")]
    [InlineData("NL", "1012js")]
    [InlineData("PL", "00-950")]
    [InlineData("BR", "01310-100")]
    [InlineData("BR", "01310100")]
    [InlineData("CN", "100000")]
    [InlineData("IN", "110001")]
    [InlineData("RU", "101000")]
    [InlineData("SG", "018956")]
    [InlineData("KZ", "050000")]
    [InlineData("JP", "100-0001")]
    [InlineData("JP", "1000001")]
    [InlineData("AU", "2000")]
    [InlineData("NZ", "6011")]
    [InlineData("CH", "8001")]
    [InlineData("ZA", "0001")]
    [InlineData("PH", "1000")]
    [InlineData("SE", "114 55")]
    [InlineData("SE", "11455")]
    [InlineData("PT", "1100-148")]
    [InlineData("IE", "D02 X285")]
    [InlineData("IE", "d6wxy12")]
    [InlineData("IL", "6473424")]
    [InlineData("AE", "")]
    [InlineData("AE", "anything at all")]
    [InlineData("HK", "")]
    [InlineData("AR", "C1002")]
    [InlineData("CZ", "110 00")]
    [InlineData("DE", " 10115 ")]
    public void Postal_code_in_the_destination_format_is_accepted(string country, string postalCode)
    {
        Assert.Empty(ShippingAddressRules.Check(Address(country, postalCode)));
    }

    [Theory]
    [InlineData("US", "9410")]
    [InlineData("US", "94103-12")]
    [InlineData("CA", "K1A 0B")]
    [InlineData("CA", "D1A 0B1")]
    [InlineData("GB", "SW1A")]
    [InlineData("GB", "1AA SW1")]
    [InlineData("DE", "1011")]
    [InlineData("DE", "10115-1")]
    [InlineData("FR", "7500A")]
    [InlineData("NL", "0123 AB")]
    [InlineData("NL", "1012 J")]
    [InlineData("PL", "00950")]
    [InlineData("BR", "01310-10")]
    [InlineData("CN", "10000")]
    [InlineData("IN", "1100011")]
    [InlineData("JP", "100-001")]
    [InlineData("AU", "20000")]
    [InlineData("SE", "1145")]
    [InlineData("PT", "1100148")]
    [InlineData("IE", "B02 X285")]
    [InlineData("IL", "61000")]
    [InlineData("AR", "C")]
    [InlineData("AR", "C1002_AAA")]
    [InlineData("DE", "１０１１５")]
    [InlineData("AE", "123456789012345678901")]
    public void Postal_code_outside_the_destination_format_is_refused(string country, string postalCode)
    {
        Assert.Equal(["shipTo.postalCode"], Fields(Address(country, postalCode)));
    }

    [Fact]
    public void Postal_code_rule_names_the_field_the_format_and_an_example()
    {
        var (field, rule) = Assert.Single(ShippingAddressRules.Check(Address("DE", "1011")));

        Assert.Equal("shipTo.postalCode", field);
        Assert.Equal("shipTo.postalCode must be a German postal code of 5 digits, e.g. 10115.", rule);
    }

    [Fact]
    public void Canadian_postal_code_rule_shows_the_canadian_shape()
    {
        var (_, rule) = Assert.Single(ShippingAddressRules.Check(Address("CA", "12345")));

        Assert.Contains("A1A 1A1", rule);
        Assert.Contains("e.g. K1A 0B1", rule);
    }

    [Fact]
    public void Every_missing_required_field_is_reported()
    {
        var address = new ShippingAddress(" ", "", null, "", null, "", "", "");

        Assert.Equal(
            ["shipTo.name", "shipTo.line1", "shipTo.city", "shipTo.country", "shipTo.postalCode", "shipTo.phone"],
            Fields(address));
        Assert.All(ShippingAddressRules.Check(address), p => Assert.Equal($"{p.Field} is required.", p.Rule));
    }

    [Fact]
    public void Null_fields_from_a_sloppy_client_count_as_missing()
    {
        var address = new ShippingAddress(null!, null!, null, null!, null, null!, null!, null!);

        Assert.Equal(6, ShippingAddressRules.Check(address).Count);
    }

    [Fact]
    public void Fields_longer_than_their_limit_are_refused()
    {
        var address = Address() with
        {
            Name = new string('n', 101),
            Line1 = new string('a', 201),
            Line2 = new string('b', 201),
            City = new string('c', 101),
            Region = new string('r', 101),
            PostalCode = new string('1', 21),
        };

        Assert.Equal(
            ["shipTo.name", "shipTo.line1", "shipTo.line2", "shipTo.city", "shipTo.region", "shipTo.postalCode"],
            Fields(address));
        Assert.Contains("at most 100 characters", ShippingAddressRules.Check(address)[0].Rule);
    }

    [Fact]
    public void Fields_at_their_limit_are_accepted()
    {
        var address = Address() with
        {
            Name = new string('n', 100),
            Line1 = new string('a', 200),
            Line2 = new string('b', 200),
            City = new string('c', 100),
            Region = new string('r', 100),
        };

        Assert.Empty(ShippingAddressRules.Check(address));
    }

    [Theory]
    [InlineData("de")]
    [InlineData("DEU")]
    [InlineData("XX")]
    [InlineData("UK")]
    public void Country_must_be_an_upper_case_iso_alpha2_code(string country)
    {
        var (field, rule) = Assert.Single(ShippingAddressRules.Check(Address(country, "10115")));

        Assert.Equal("shipTo.country", field);
        Assert.Contains("ISO 3166-1 alpha-2", rule);
    }

    [Theory]
    [InlineData("+1 (415) 555-0100")]
    [InlineData("030123456")]
    [InlineData("123456")]
    [InlineData("+12345678901234567890")]
    public void Phone_with_digits_spaces_and_dial_symbols_is_accepted(string phone)
    {
        Assert.Empty(ShippingAddressRules.Check(Address(phone: phone)));
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("+123456789012345678901")]
    [InlineData("+49 30 123456 ext 7")]
    [InlineData("+49.30.1234567")]
    [InlineData("phone")]
    [InlineData("+49 30 1234567 + 49 30 1234567 + 1")]
    public void Phone_with_too_few_or_many_digits_or_other_characters_is_refused(string phone)
    {
        var (field, rule) = Assert.Single(ShippingAddressRules.Check(Address(phone: phone)));

        Assert.Equal("shipTo.phone", field);
        Assert.StartsWith("shipTo.phone must", rule);
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var address = new ShippingAddress("", "Main St 1", null, "", null, "ABC", "US", "12");

        Assert.Equal(["shipTo.name", "shipTo.city", "shipTo.postalCode", "shipTo.phone"], Fields(address));
    }
}
