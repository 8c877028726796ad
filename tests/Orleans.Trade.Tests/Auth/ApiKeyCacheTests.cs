using System.Security.Claims;
using Orleans.Trade.Api.Auth;

namespace Orleans.Trade.Tests.Auth;

/// <summary>The verified-key cache hands every request of a key the same identity, until it expires or the key is revoked.</summary>
public sealed class ApiKeyCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_cached_key_answers_one_identity_with_its_claims_until_it_expires()
    {
        var cache = new ApiKeyCache();
        var put = cache.Put("hash-1", new Caller("key-1", Roles.Buyer, "buyer-7"), Now.AddSeconds(30));

        Assert.True(cache.TryGet("hash-1", Now.AddSeconds(29), out var first));
        Assert.True(cache.TryGet("hash-1", Now.AddSeconds(29), out var second));
        Assert.Same(put, first);
        Assert.Same(first, second);
        var caller = Caller.From(new ClaimsPrincipal(first));
        Assert.Equal(new Caller("key-1", Roles.Buyer, "buyer-7"), caller);
        Assert.Equal("buyer-7", first.Name);
        Assert.True(new ClaimsPrincipal(first).IsInRole(Roles.Buyer));

        Assert.False(cache.TryGet("hash-1", Now.AddSeconds(30), out _));
        Assert.False(cache.TryGet("hash-2", Now, out _));
    }

    [Fact]
    public void A_key_without_a_subject_has_no_subject_claim_and_eviction_drops_every_hash_of_the_key()
    {
        var cache = new ApiKeyCache();
        var admin = cache.Put("hash-a", new Caller("bootstrap", Roles.Admin, null), Now.AddSeconds(30));
        cache.Put("hash-b", new Caller("key-2", Roles.Seller, "seller-1"), Now.AddSeconds(30));
        cache.Put("hash-c", new Caller("key-2", Roles.Seller, "seller-1"), Now.AddSeconds(30));

        Assert.Null(admin.FindFirst(Caller.SubjectClaim));
        Assert.Equal(new Caller("bootstrap", Roles.Admin, null), Caller.From(new ClaimsPrincipal(admin)));

        cache.Evict("key-2");
        Assert.False(cache.TryGet("hash-b", Now, out _));
        Assert.False(cache.TryGet("hash-c", Now, out _));
        Assert.True(cache.TryGet("hash-a", Now, out _));
    }
}
