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
        var put = cache.Put("hash-1", new Caller("key-1", Roles.Buyer, "buyer-7"), Now.AddSeconds(30)).Identity;

        Assert.True(cache.TryGet("hash-1", Now.AddSeconds(29), out var firstEntry));
        Assert.True(cache.TryGet("hash-1", Now.AddSeconds(29), out var secondEntry));
        var (first, second) = (firstEntry.Identity, secondEntry.Identity);
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
        var admin = cache.Put("hash-a", new Caller("bootstrap", Roles.Admin, null), Now.AddSeconds(30)).Identity;
        cache.Put("hash-b", new Caller("key-2", Roles.Seller, "seller-1"), Now.AddSeconds(30));
        cache.Put("hash-c", new Caller("key-2", Roles.Seller, "seller-1"), Now.AddSeconds(30));

        Assert.Null(admin.FindFirst(Caller.SubjectClaim));
        Assert.Equal(new Caller("bootstrap", Roles.Admin, null), Caller.From(new ClaimsPrincipal(admin)));

        cache.Evict("key-2");
        Assert.False(cache.TryGet("hash-b", Now, out _));
        Assert.False(cache.TryGet("hash-c", Now, out _));
        Assert.True(cache.TryGet("hash-a", Now, out _));
    }

    [Fact]
    public void A_connection_answers_the_key_it_verified_last_until_the_entry_expires()
    {
        var cache = new ApiKeyCache();
        var connection = new Dictionary<object, object?>();
        Assert.False(cache.TryGetForConnection(connection, "otk_key-1", Now, out _));

        var evictions = cache.Evictions;
        var entry = cache.Put("hash-1", new Caller("key-1", Roles.Buyer, "buyer-7"), Now.AddSeconds(30));
        cache.RememberForConnection(connection, "otk_key-1", entry, evictions);

        Assert.True(cache.TryGetForConnection(connection, new string("otk_key-1".AsSpan()), Now.AddSeconds(29), out var identity));
        Assert.Same(entry.Identity, identity);
        Assert.False(cache.TryGetForConnection(connection, "otk_key-2", Now, out _));
        Assert.False(cache.TryGetForConnection(connection, "OTK_KEY-1", Now, out _));
        Assert.False(cache.TryGetForConnection(connection, "otk_key-1", Now.AddSeconds(30), out _));
        Assert.False(cache.TryGetForConnection(new Dictionary<object, object?>(), "otk_key-1", Now, out _));
    }

    [Fact]
    public void An_eviction_makes_every_connection_verify_its_key_again_even_one_verified_while_it_ran()
    {
        var cache = new ApiKeyCache();
        var (first, second) = (new Dictionary<object, object?>(), new Dictionary<object, object?>());
        var before = cache.Evictions;
        var entry = cache.Put("hash-1", new Caller("key-1", Roles.Buyer, "buyer-7"), Now.AddSeconds(30));
        cache.RememberForConnection(first, "otk_key-1", entry, before);
        Assert.True(cache.TryGetForConnection(first, "otk_key-1", Now, out _));

        // The second connection read the entry before a revocation evicted it, and remembers it only after.
        cache.Evict("key-9");
        cache.RememberForConnection(second, "otk_key-1", entry, before);

        Assert.False(cache.TryGetForConnection(first, "otk_key-1", Now, out _));
        Assert.False(cache.TryGetForConnection(second, "otk_key-1", Now, out _));
        cache.RememberForConnection(first, "otk_key-1", entry, cache.Evictions);
        Assert.True(cache.TryGetForConnection(first, "otk_key-1", Now, out _));
    }
}
