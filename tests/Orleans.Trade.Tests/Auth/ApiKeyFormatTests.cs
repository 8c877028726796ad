using Orleans.Trade.Api.Auth;
using Orleans.Trade.Api.Common;
using Orleans.Trade.Common;

namespace Orleans.Trade.Tests.Auth;

public sealed class ApiKeyFormatTests
{
    [Fact]
    public void A_generated_key_parses_to_its_id_and_matches_only_its_own_hash()
    {
        var (keyId, key) = ApiKeyFormat.Generate();
        var (_, other) = ApiKeyFormat.Generate();

        Assert.True(ApiKeyFormat.TryParseKeyId(key, out var parsed));
        Assert.Equal(keyId, parsed);
        var hash = ApiKeyFormat.Hash(key);
        Assert.True(ApiKeyFormat.HashMatches(key, hash));
        Assert.False(ApiKeyFormat.HashMatches(other, hash));
        Assert.False(ApiKeyFormat.HashMatches(key[..^1] + (key[^1] == 'A' ? 'B' : 'A'), hash));
        Assert.DoesNotContain(key, hash);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("otk_")]
    [InlineData("otk_notaulid_secret")]
    [InlineData("xyz_01JD5Z6S8M7Q4W2E3R4T5Y6U7I_secret")]
    public void Malformed_keys_do_not_parse(string? key)
    {
        Assert.False(ApiKeyFormat.TryParseKeyId(key, out _));
    }

    [Theory]
    [InlineData("sku-1", true)]
    [InlineData("SKU_1.a", true)]
    [InlineData("-starts-with-dash", false)]
    [InlineData("has space", false)]
    [InlineData("sku-1\n", false)]
    [InlineData("\nsku-1", false)]
    [InlineData("", false)]
    public void Identifiers_follow_the_documented_shape(string id, bool valid)
    {
        Assert.Equal(valid, Ids.IsValid(id));
        Assert.False(Ids.IsValid(new string('a', 65)));
    }

    [Fact]
    public void Currencies_keep_their_minor_units()
    {
        Assert.Equal(0, Iso4217.MinorUnits("JPY"));
        Assert.Equal(2, Iso4217.MinorUnits("USD"));
        Assert.Equal(3, Iso4217.MinorUnits("KWD"));
        Assert.False(Iso4217.IsKnown("usd"));
        Assert.True(Iso3166.IsKnown("DE"));
        Assert.False(Iso3166.IsKnown("XX"));
    }
}
